"""scripts/gpu_check.py on a machine without CUDA: a clear message and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from scripts.gpu_check import CPU, EXIT_NO_CUDA, session, synthetic_model

pytestmark = pytest.mark.ops

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    "CUDAExecutionProvider" in ort.get_available_providers(), reason="this machine has CUDA"
)
def test_without_cuda_the_check_says_so_and_fails() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/gpu_check.py", "--synthetic"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == EXIT_NO_CUDA
    assert "CUDA not available" in result.stdout


def test_the_synthetic_model_honours_the_model_contract(tmp_path: Path) -> None:
    model = synthetic_model(tmp_path / "synthetic.onnx")
    sess = session(model, CPU)
    assert [i.name for i in sess.get_inputs()] == ["image"]
    assert sess.get_inputs()[0].type == "tensor(uint8)"
    p, cam = sess.run(["p_malignant", "cam"], {"image": np.zeros((3, 128, 128, 3), np.uint8)})
    assert p.shape == (3,)
    assert cam.shape[0] == 3
    assert ((p >= 0) & (p <= 1)).all()
    assert (cam >= 0).all()
    meta = sess.get_modelmeta().custom_metadata_map
    assert {"model_version", "threshold", "positive_class"} <= set(meta)
