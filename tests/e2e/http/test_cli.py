"""The `breastscan` command line over real adapters: migrate, users create, predict, model info."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from domain.errors import ErrorCode
from entrypoints import cli
from tests import images
from tests.e2e.http.conftest import PASSWORD
from tests.e2e.http.images import block_png, bright, dark
from tests.e2e.http.tiny_model import VERSION

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def env(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "BREASTSCAN_DATA_DIR": str(tmp_path / "data"),
        "BREASTSCAN_MODEL_PATH": str(tiny_model),
        "BREASTSCAN_ARGON2_MEMORY_KIB": "64",
        "BREASTSCAN_ARGON2_TIME_COST": "1",
        "BREASTSCAN_LOG_LEVEL": "warning",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def test_migrate_then_create_users(env: dict[str, str], monkeypatch, capsys) -> None:
    assert cli.main(["migrate"]) == cli.EXIT_OK
    assert "head" in capsys.readouterr().out
    assert cli.main(["migrate"]) == cli.EXIT_OK, "idempotent"

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["users", "create", "Chief@Example.org", "--admin", "--password-stdin"]) == 0
    assert "Created admin chief@example.org" in capsys.readouterr().out

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code = cli.main(["users", "create", "chief@example.org", "--password-stdin"])
    assert code == cli.EXIT_BY_KIND[ErrorCode.CONFLICT]
    assert "already exists" in capsys.readouterr().err

    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code = cli.main(["users", "create", "new@example.org", "--password-stdin"])
    assert code == cli.EXIT_BY_KIND[ErrorCode.INVALID_INPUT]


def test_users_create_prompts_twice_without_echo(env, monkeypatch, capsys) -> None:
    assert cli.main(["migrate"]) == 0
    answers = iter([PASSWORD, "something else"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    code = cli.main(["users", "create", "typo@example.org"])
    assert code == cli.EXIT_BY_KIND[ErrorCode.INVALID_INPUT]
    assert "do not match" in capsys.readouterr().err


def test_predict_json_per_file_with_exit_code_of_the_failure(env, tmp_path: Path, capsys) -> None:
    (tmp_path / "white.png").write_bytes(bright())
    (tmp_path / "black.jpg").write_bytes(dark("JPEG"))
    (tmp_path / "notes.png").write_bytes(images.text_renamed_png())
    good = [str(tmp_path / "white.png"), str(tmp_path / "black.jpg")]

    assert cli.main(["predict", *good, "--json"]) == cli.EXIT_OK
    results = json.loads(capsys.readouterr().out)
    assert [r["label"] for r in results] == ["malignant", "benign"]
    assert all(r["model_version"] == VERSION and r["threshold"] == 0.5 for r in results)
    assert 0.0 <= results[1]["probability"] <= 0.5

    code = cli.main(["predict", *good, str(tmp_path / "notes.png"), "--json"])
    assert code == cli.EXIT_BY_KIND[ErrorCode.UNSUPPORTED_IMAGE_FORMAT]
    results = json.loads(capsys.readouterr().out)
    assert results[2]["error"] == "unsupported_image_format"
    assert results[2]["code"] == "image_format_not_accepted"
    assert "label" in results[0]

    code = cli.main(["predict", str(tmp_path / "missing.png")])
    assert code == cli.EXIT_MISSING_FILE
    assert "ERROR" in capsys.readouterr().out


def test_predict_prints_the_lesion_finding(env, tmp_path: Path, capsys) -> None:
    (tmp_path / "block.png").write_bytes(block_png())
    (tmp_path / "black.png").write_bytes(dark())
    files = [str(tmp_path / "block.png"), str(tmp_path / "black.png")]
    assert cli.main(["predict", *files, "--json"]) == cli.EXIT_OK
    block, black = (r["lesion"] for r in json.loads(capsys.readouterr().out))
    assert block["found"] is True
    assert block["area_fraction"] == pytest.approx(1 / 16, rel=0.1)
    assert block["area_mm2"] is None
    assert block["bbox"]["x"] == pytest.approx(100, abs=2)
    assert block["bbox"]["width"] == pytest.approx(50, abs=2)
    assert 3 <= len(block["outline"]) <= 64
    assert all(len(point) == 2 for point in block["outline"])
    assert (black["found"], black["bbox"], black["outline"]) == (False, None, [])

    assert cli.main(["predict", *files]) == cli.EXIT_OK
    text = capsys.readouterr().out.splitlines()
    assert "of the analysed area" in text[0]
    assert "no lesion found" in text[1]


def test_predict_stores_nothing(env, tmp_path: Path) -> None:
    (tmp_path / "white.png").write_bytes(bright())
    assert cli.main(["predict", str(tmp_path / "white.png")]) == 0
    assert not (Path(env["BREASTSCAN_DATA_DIR"]) / "images").exists()


def test_model_info_and_missing_model(env, monkeypatch, tmp_path: Path, capsys) -> None:
    assert cli.main(["model", "info", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["version"] == VERSION
    assert card["metadata"]["positive_class"] == "malignant"
    assert (card["has_lesion_output"], card["lesion_threshold"]) == (True, 0.5)

    missing = tmp_path / "breast-cnn.onnx"
    monkeypatch.setenv("BREASTSCAN_MODEL_PATH", str(missing))
    assert cli.main(["model", "info"]) == cli.EXIT_BY_KIND[ErrorCode.MODEL_UNAVAILABLE]
    err = capsys.readouterr().err
    assert str(missing) in err
    assert "make train" in err
    assert cli.main(["serve", "--api-only"]) == cli.EXIT_CONFIG
    assert "make train" in capsys.readouterr().err


def test_invalid_settings_exit_with_the_config_code(env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BREASTSCAN_PORT", "eighty")
    monkeypatch.setenv("BREASTSCAN_JWT_SECRET", "too-short")
    assert cli.main(["migrate"]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err
    assert "BREASTSCAN_PORT" in err
    assert "BREASTSCAN_JWT_SECRET" in err
    assert "too-short" not in err, "secrets are never echoed"


def test_the_console_script_runs_predict(env, tmp_path: Path) -> None:
    (tmp_path / "white.png").write_bytes(bright())
    script = Path(sys.executable).with_name("breastscan")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "entrypoints.cli"]
    done = subprocess.run(
        [*command, "predict", str(tmp_path / "white.png"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["label"] == "malignant"


def test_the_cli_module_leaves_the_service_unimported() -> None:
    # The parent of a multi-worker server imports this module only: no adapters, no container.
    heavy = ("entrypoints.container", "adapters", "sqlalchemy", "litestar", "onnxruntime", "PIL")
    probe = (
        "import json, sys, entrypoints.cli; "
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_api_only_answers_under_api_and_stops_cleanly(
    env, tmp_path: Path, workers: str
) -> None:
    # No `migrate` first: serve brings the embedded SQLite database to head by itself (in a
    # child process when several workers share it).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "entrypoints.cli",
            "serve",
            "--api-only",
            "--port",
            str(port),
            "--workers",
            workers,
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"{base}/api/ready", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert ready is not None, server.stderr.read().decode() if server.stderr else ""
        assert ready.status_code == 200, ready.text
        assert httpx.get(f"{base}/api/schema/openapi.json").json()["servers"][0]["url"] == "/api"
        assert httpx.get(f"{base}/health").status_code == 404
        assert "server" not in httpx.get(f"{base}/api/health").headers
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code in (0, -signal.SIGTERM), "uvicorn re-raises SIGTERM after a graceful shutdown"


def test_maintenance_sweep_images(env: dict[str, str], capsys) -> None:
    import hashlib
    import os

    assert cli.main(["migrate"]) == cli.EXIT_OK
    data = b"an image no prediction refers to"
    digest = hashlib.sha256(data).hexdigest()
    orphan = Path(env["BREASTSCAN_DATA_DIR"]) / "images" / digest[:2] / digest[2:4]
    orphan.mkdir(parents=True)
    (orphan / f"{digest}.png").write_bytes(data)
    capsys.readouterr()
    assert cli.main(["maintenance", "sweep-images"]) == cli.EXIT_OK
    assert "Deleted 0 " in capsys.readouterr().out  # within the grace period
    os.utime(orphan / f"{digest}.png", (0, 0))  # written long ago
    assert cli.main(["maintenance", "sweep-images", "--grace-minutes", "60"]) == cli.EXIT_OK
    assert "Deleted 1 " in capsys.readouterr().out
    assert not (orphan / f"{digest}.png").exists()
