"""What the Dockerfile does, minus Docker: build the service from exactly the files the
.dockerignore allowlist sends, install it non-editable, and run it from outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ops, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def allowlisted() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line[1:].rstrip("/") for line in lines if line.startswith("!")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    context = tmp_path_factory.mktemp("context")
    missing = [entry for entry in allowlisted() if not (ROOT / entry).exists()]
    assert missing == [], f"the image build needs these files: {missing}"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")
    for entry in allowlisted():
        source, target = ROOT / entry, context / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    dist = tmp_path_factory.mktemp("dist")
    # Without build isolation the build uses this venv's setuptools and wheel: the dev extra
    # declares the versions pyproject.toml's [build-system] needs.
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            str(context),
            "-w",
            str(dist),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}\n{built.stderr}"
    (wheel_file,) = dist.glob("breastscan-*.whl")
    return wheel_file


def test_the_wheel_carries_migrations_and_package_data_but_no_ml_or_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_initial.py",
        "application/common_passwords.txt",
        "entrypoints/http/static/swagger-ui/swagger-ui-bundle.js",
        "entrypoints/cli.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("ml/", "tests/"))]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "breastscan = entrypoints.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_service_migrates_from_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BREASTSCAN_")},
        "PYTHONPATH": str(site),
        "BREASTSCAN_DATA_DIR": str(tmp_path / "data"),
    }
    where = subprocess.run(
        [sys.executable, "-c", "import entrypoints, migrations; print(entrypoints.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert where.stdout.strip().startswith(str(site))
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Database migrated to head" in result.stdout
    assert (tmp_path / "data" / "breastscan.db").is_file()
