"""The runtime image carries no TensorFlow: prove the service's import graph never needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ops

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PACKAGES = ("domain", "application", "adapters", "entrypoints")

PROBE = """
import importlib, json, pkgutil, sys
imported = []
for package in {packages!r}:
    module = importlib.import_module(package)
    imported.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        imported.append(info.name)
heavy = sorted(
    name for name in sys.modules
    if name.split(".")[0] in {{"tensorflow", "keras", "tf2onnx", "ml"}}
)
print(json.dumps({{"imported": imported, "heavy": heavy}}))
"""


def test_importing_every_service_module_never_imports_tensorflow() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(packages=SERVICE_PACKAGES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    for module in ("entrypoints.cli", "entrypoints.container", "entrypoints.http"):
        assert module in report["imported"]
