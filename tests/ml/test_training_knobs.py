"""Optional training knobs: AdamW weight decay, label smoothing, Gaussian-noise augmentation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.ci import unavailable

pytestmark = [pytest.mark.ml]

if importlib.util.find_spec("tensorflow") is None:  # the `ml` extra is optional
    unavailable("TensorFlow is not installed: pip install -e '.[ml]'", module_level=True)

import keras  # noqa: E402  (only once TensorFlow is known to be there)


def test_optimizer_is_adam_without_weight_decay_and_adamw_with_it() -> None:
    from ml.train import build_optimizer

    plain = build_optimizer(0.001, 0.0)
    decayed = build_optimizer(0.001, 0.01)
    assert type(plain) is keras.optimizers.Adam
    assert isinstance(decayed, keras.optimizers.AdamW)
    assert decayed.weight_decay == pytest.approx(0.01)


def test_noise_augmentation_is_off_by_default_and_perturbs_when_set() -> None:
    from ml.augment import build_augmenter

    x = np.full((2, 16, 16, 3), 128.0, dtype=np.float32)
    off = build_augmenter({"hflip": True, "noise": 0}, seed=1)
    on = build_augmenter({"noise": 0.02}, seed=1)
    assert not any(isinstance(layer, keras.layers.GaussianNoise) for layer in off.layers)
    noisy = np.asarray(on(x, training=True))
    assert noisy.shape == x.shape
    std = float(np.std(noisy - x))
    assert 0.01 * 255 < std < 0.03 * 255  # std given as a fraction of the 0-255 range
    assert np.allclose(np.asarray(on(x, training=False)), x, atol=1e-3)


def test_label_smoothing_and_weight_decay_reach_the_compiled_model(tmp_path: Path) -> None:
    from ml.settings import load_config
    from ml.train import train_member

    cfg = load_config(
        overrides=[
            "train.epochs=1",
            "train.batch_size=4",
            "train.label_smoothing=0.1",
            "train.weight_decay=0.01",
            "model.filters=[4,4,8]",
        ]
    )
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 128, 128, 3), dtype=np.uint8)
    y = np.array([0, 1] * 4)
    model, history = train_member(cfg, x, y, x[:4], y[:4], 7, tmp_path, 0)
    assert model.loss.label_smoothing == pytest.approx(0.1)
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert len(history["loss"]) == 1
