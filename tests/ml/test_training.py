"""Model 2.0 training pieces: joint image/mask augmentation, balanced batches, calibration."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from ml.data import Source
from ml.settings import AugmentConfig, ModelConfig
from tests.ci import unavailable

pytestmark = [pytest.mark.ml]

if importlib.util.find_spec("tensorflow") is None:  # the `ml` extra is optional
    unavailable("TensorFlow is not installed: pip install -e '.[ml]'", module_level=True)

import tensorflow as tf  # noqa: E402  (only once TensorFlow is known to be there)


def _square_batch(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    masks = np.zeros((n, 64, 64), np.float32)
    for i in range(n):
        y, x = rng.integers(8, 40, 2)
        masks[i, y : y + 16, x : x + 16] = 1.0
    images = np.repeat((40 + 200 * masks)[..., None], 3, axis=3).astype(np.float32)
    return images, masks


def test_geometry_moves_image_and_mask_together() -> None:
    from ml.augment import augment_batch

    images, masks = _square_batch(8)
    aug = {
        "hflip": True,
        "rotation_deg": 15,
        "zoom": 0.2,
        "translate": 0.1,
        "depth_crop": 0.3,
        "depth_crop_p": 1.0,
    }
    rng = tf.random.Generator.from_seed(3)
    x, m = augment_batch(tf.constant(images), tf.constant(masks), rng, AugmentConfig(**aug))
    x, m = x.numpy(), m.numpy()
    assert x.shape == images.shape
    assert m.shape == masks.shape
    assert not np.allclose(m, masks)  # it did move
    bright = x[..., 0] > 140
    inside = m > 0.5
    agreement = (bright == inside).mean()
    assert agreement > 0.98


def test_appearance_changes_pixels_but_not_the_mask() -> None:
    from ml.augment import augment_batch

    images, masks = _square_batch(8)
    aug = {
        "gain": 0.3,
        "contrast": 0.3,
        "gamma": 0.4,
        "speckle": 0.3,
        "speckle_p": 1.0,
        "blur_p": 1.0,
        "lowres_p": 1.0,
        "noise": 0.02,
    }
    x, m = augment_batch(
        tf.constant(images),
        tf.constant(masks),
        tf.random.Generator.from_seed(1),
        AugmentConfig(**aug),
    )
    assert np.allclose(m.numpy(), masks)
    assert float(np.abs(x.numpy() - images).mean()) > 5.0
    assert float(x.numpy().min()) >= 0.0
    assert float(x.numpy().max()) <= 255.0
    assert np.allclose(x.numpy()[..., 0], x.numpy()[..., 2])  # grey stays grey


def test_balanced_batches_take_half_from_each_site_and_weight_classes() -> None:
    from ml.train import BalancedBatches, sample_weights

    def source(name: str, n: int, malignant: int) -> Source:
        flags = np.array([1] * malignant + [0] * (n - malignant))
        images = np.full((n, 8, 8, 3), 1 if name == "a" else 2, np.uint8)
        return Source(name, images, flags, np.zeros((n, 8, 8), np.uint8))

    batches = BalancedBatches([source("a", 10, 2), source("b", 100, 50)], 8, 0, "balanced")
    for _ in range(5):
        x, _, _, _, birads = batches.next()
        assert (birads == -1).all()
        assert (x[:4] == 1).all()
        assert (x[4:] == 2).all()
    weights = sample_weights(np.array([1, 0, 0, 0]), "balanced")
    assert weights[0] == pytest.approx(3 * weights[1])
    assert weights.mean() == pytest.approx(1.0)


def test_the_model_has_three_heads_and_the_cam_decomposes_the_logit() -> None:
    from ml.model import build_model

    cfg = ModelConfig(filters=[4, 4, 8, 8], decoder=[8, 4, 4], global_share=0.3)
    model = build_model(cfg)
    x = np.random.default_rng(0).uniform(0, 255, (2, 128, 128, 3)).astype(np.float32)
    logit, cam, lesion = (np.asarray(o) for o in model(x, training=False))
    assert logit.shape == (2,)
    assert cam.shape == (2, 8, 8)
    assert lesion.shape == (2, 128, 128)
    bias = float(model.get_layer("cam_head").bias.numpy())
    assert logit == pytest.approx(cam.sum(axis=(1, 2)) + bias, abs=1e-5)


def test_temperature_recovers_a_known_scale() -> None:
    from ml.export import fit_temperature

    rng = np.random.default_rng(0)
    true_logit = rng.normal(0, 2, 20000)
    y = (rng.uniform(size=true_logit.size) < 1 / (1 + np.exp(-true_logit))).astype(float)
    assert fit_temperature(true_logit * 3.0, y) == pytest.approx(3.0, rel=0.05)


def test_bands_count_cases_and_observed_rates() -> None:
    from ml.export import likelihood_bands

    p = np.array([0.01, 0.05, 0.3, 0.3, 0.7, 0.99, 1.0])
    y = np.array([0, 0, 1, 0, 1, 1, 1])
    bands = likelihood_bands([0.02, 0.1, 0.5, 0.95], y, p)
    assert [b["n_val"] for b in bands] == [1, 1, 2, 1, 2]
    assert [b["malignancy_rate"] for b in bands] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert bands[0]["lower"] == 0.0
    assert bands[-1]["upper"] == 1.0


def test_the_finer_exported_cam_sums_cell_by_cell_to_the_trained_cam() -> None:
    from ml.model import build_model, fine_cam, serving_parts

    cfg = ModelConfig(filters=[4, 4, 8, 8], decoder=[8, 4, 4], global_share=0.3)
    model = build_model(cfg)
    x = np.random.default_rng(1).uniform(0, 255, (2, 128, 128, 3)).astype(np.float32)
    _, cam8, _ = (np.asarray(o) for o in model(x, training=False))
    _, _, scores, half = serving_parts(model)(x, training=False)
    for grid in (16, 32):
        fine = np.asarray(fine_cam(scores, half, cfg.global_share, grid))
        assert fine.shape == (2, grid, grid)
        k = grid // 8
        pooled = fine.reshape(2, 8, k, 8, k).sum(axis=(2, 4))
        assert pooled == pytest.approx(cam8, abs=1e-5)
