"""Helpers for the ml/ tests: where the shared BreastMNIST data lives, and tiny image sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.settings import dataset_path, load_config
from tests.ci import unavailable

MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "breast-cnn.onnx"


def shared_npz() -> Path:
    return dataset_path(load_config())


def require_shared_data() -> Path:
    """The shared npz; absent data fails under CI=true and skips elsewhere."""
    path = shared_npz()
    if not path.is_file():
        reason = f"shared dataset not found at {path} (set BREASTSCAN_SHARED_DIR)"
        unavailable(reason)
    return path


def sample_images(n_malignant: int, n_other: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Real BreastMNIST images when the shared data is present, else synthetic ones.

    Returns (uint8 [N,128,128] grayscale, malignant flags [N]).
    """
    rng = np.random.default_rng(seed)
    path = shared_npz()
    if path.is_file():
        with np.load(path) as data:
            images, labels = data["train_images"], data["train_labels"].reshape(-1)
        mal = rng.choice(np.nonzero(labels == 0)[0], n_malignant, replace=False)
        other = rng.choice(np.nonzero(labels == 1)[0], n_other, replace=False)
        idx = np.concatenate([mal, other])
        return images[idx], (labels[idx] == 0).astype(np.int64)
    base = rng.integers(40, 120, (n_malignant + n_other, 128, 128)).astype(np.uint8)
    flags = np.array([1] * n_malignant + [0] * n_other)
    yy, xx = np.mgrid[:128, :128]
    for i, flag in enumerate(flags):  # a dark blob, irregular for "malignant"
        cy, cx = rng.integers(40, 88, 2)
        radius = rng.integers(12, 24) + (rng.normal(0, 4, (128, 128)) if flag else 0)
        base[i][(yy - cy) ** 2 + (xx - cx) ** 2 < radius**2] = 10
    return base, flags
