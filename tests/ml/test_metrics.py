"""Metrics and threshold selection against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from ml.metrics import (
    bootstrap_ci,
    brier,
    confusion,
    roc_auc,
    roc_curve,
    select_threshold,
    summarize,
)

pytestmark = pytest.mark.unit


def test_auc_perfect_reversed_and_hand_computed() -> None:
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    # Pairs (pos, neg): (0.35>0.1) (0.35>0.4? no) (0.8>0.1) (0.8>0.4) -> 3 of 4
    assert roc_auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)


def test_auc_counts_ties_as_half() -> None:
    y = np.array([0, 1, 0, 1])
    assert roc_auc(y, np.array([0.5, 0.5, 0.2, 0.9])) == pytest.approx((1 + 1 + 0.5 + 1) / 4)


def test_auc_is_nan_with_one_class() -> None:
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_roc_curve_ends_at_corners() -> None:
    fpr, tpr, thresholds = roc_curve(np.array([0, 1, 0, 1]), np.array([0.1, 0.7, 0.4, 0.9]))
    assert (fpr[0], tpr[0]) == (0.0, 0.0)
    assert (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(thresholds) < 0)


def test_confusion_and_derived_rates() -> None:
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.2, 0.7, 0.3, 0.1, 0.5])
    cm = confusion(y, p, 0.5)  # malignant when p >= 0.5
    assert (cm.tp, cm.fn, cm.tn, cm.fp) == (2, 1, 2, 2)
    assert cm.sensitivity == pytest.approx(2 / 3)
    assert cm.specificity == pytest.approx(2 / 4)
    assert cm.precision == pytest.approx(2 / 4)
    assert cm.accuracy == pytest.approx(4 / 7)
    assert cm.f1 == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))


def test_brier() -> None:
    assert brier(np.array([1, 0]), np.array([0.8, 0.4])) == pytest.approx((0.04 + 0.16) / 2)


def test_threshold_meets_the_sensitivity_floor_with_best_specificity() -> None:
    y = np.array([1] * 10 + [0] * 10)
    pos = np.linspace(0.55, 0.95, 10)  # one positive lower than the rest
    pos[0] = 0.15
    neg = np.linspace(0.05, 0.6, 10)
    p = np.concatenate([pos, neg])
    t = select_threshold(y, p, 0.9)
    cm = confusion(y, p, t)
    assert cm.sensitivity >= 0.9
    assert cm.sensitivity == pytest.approx(0.9)  # the outlier positive is given up
    # pos[1] is the 9th positive from the top; the cut sits midway to the next lower score
    assert t == pytest.approx((pos[1] + neg[neg < pos[1]].max()) / 2)
    assert cm.specificity == pytest.approx((neg < t).mean())


def test_threshold_for_full_sensitivity_covers_every_positive() -> None:
    y = np.array([1, 1, 0, 0])
    p = np.array([0.3, 0.9, 0.2, 0.5])
    t = select_threshold(y, p, 1.0)
    assert confusion(y, p, t).sensitivity == 1.0
    assert t == pytest.approx(0.25)


def test_threshold_needs_a_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        select_threshold(np.array([0, 0]), np.array([0.1, 0.2]), 0.9)


def test_bootstrap_interval_brackets_the_point() -> None:
    rng = np.random.default_rng(1)
    y = np.array([1] * 30 + [0] * 70)
    p = np.clip(y * 0.3 + rng.uniform(0, 0.7, 100), 0, 1)
    point, low, high = bootstrap_ci(y, p, roc_auc, n=300, seed=0)
    assert low <= point <= high
    assert 0.0 < high - low < 0.3


def test_summarize_reports_values_intervals_and_confusion() -> None:
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.9, 0.4, 0.3, 0.6, 0.1])
    out = summarize(y, p, 0.5, n_boot=50)
    assert out["n"] == 5
    assert out["n_malignant"] == 2
    assert out["confusion"] == {"tp": 1, "fp": 1, "tn": 2, "fn": 1}
    assert out["auc"]["value"] == pytest.approx(roc_auc(y, p), abs=1e-4)
    for key in ("auc", "accuracy", "sensitivity", "specificity", "precision", "f1", "brier"):
        low, high = out[key]["ci95"]
        assert low <= high


def test_dice_per_image_with_empty_pairs_counting_as_agreement() -> None:
    from ml.metrics import dice

    a = np.zeros((3, 4, 4), bool)
    b = np.zeros((3, 4, 4), bool)
    a[0, :2, :2] = True  # 4 pixels
    b[0, :2, :] = True  # 8 pixels, 4 shared -> 2*4/12
    a[1, 0, 0] = True  # predicted but none true -> 0
    assert dice(a, b) == pytest.approx([8 / 12, 0.0, 1.0])


def test_ece_is_zero_when_calibrated_and_the_gap_when_not() -> None:
    from ml.metrics import expected_calibration_error

    y = np.array([1, 0, 0, 0] * 25)
    assert expected_calibration_error(y, np.full(100, 0.25)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.75)) == pytest.approx(0.5)


def test_cam_localisation_points_inside_and_measures_mass() -> None:
    from ml.metrics import cam_localisation

    masks = np.zeros((2, 16, 16), np.uint8)
    masks[:, :8, :8] = 1  # top-left quarter is the lesion
    cam = np.zeros((2, 4, 4), np.float32)
    cam[0, 0, 0] = 1.0  # hot in the lesion
    cam[1, 3, 3] = 1.0  # hot in the far corner
    hottest, mass = cam_localisation(cam, masks)
    assert hottest.tolist() == [1.0, 0.0]
    assert mass[0] > 0.9
    assert mass[1] == pytest.approx(0.0, abs=1e-6)
