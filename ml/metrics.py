"""Binary classification metrics in plain numpy (positive class = malignant = 1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def roc_auc(targets: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half; NaN when a class is missing."""
    y = np.asarray(targets).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_curve(targets: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) with prediction rule score >= threshold, thresholds descending."""
    y = np.asarray(targets).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    thresholds = np.concatenate([[np.inf], np.unique(s)[::-1]])
    tpr = np.array([(s[y] >= t).mean() if y.any() else np.nan for t in thresholds])
    fpr = np.array([(s[~y] >= t).mean() if (~y).any() else np.nan for t in thresholds])
    return fpr, tpr, thresholds


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else float("nan")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.tn + self.fn
        return (self.tp + self.tn) / total if total else float("nan")

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else float("nan")


def confusion(targets: np.ndarray, scores: np.ndarray, threshold: float) -> Confusion:
    """Counts with the rule: malignant when score >= threshold."""
    y = np.asarray(targets).astype(bool)
    pred = np.asarray(scores, dtype=np.float64) >= threshold
    return Confusion(
        tp=int((pred & y).sum()),
        fp=int((pred & ~y).sum()),
        tn=int((~pred & ~y).sum()),
        fn=int((~pred & y).sum()),
    )


def brier(targets: np.ndarray, scores: np.ndarray) -> float:
    y = np.asarray(targets, dtype=np.float64)
    return float(np.mean((np.asarray(scores, dtype=np.float64) - y) ** 2))


def select_threshold(targets: np.ndarray, scores: np.ndarray, min_sensitivity: float) -> float:
    """Highest-specificity threshold whose sensitivity is >= min_sensitivity.

    Among equally specific candidates the highest threshold wins; the threshold is placed midway
    between the chosen score and the next lower score so it generalises a little better than a
    cut exactly on a training point.
    """
    y = np.asarray(targets).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    if not y.any():
        raise ValueError("threshold selection needs at least one positive")
    candidates = np.unique(s)[::-1]
    best: tuple[float, float] | None = None
    for t in candidates:
        sens = (s[y] >= t).mean()
        if sens + 1e-12 < min_sensitivity:
            continue
        spec = (s[~y] < t).mean() if (~y).any() else 1.0
        if best is None or spec > best[1]:
            best = (float(t), float(spec))
        break  # sensitivity only grows and specificity only falls as t decreases
    assert best is not None  # the lowest score always reaches sensitivity 1
    t = best[0]
    lower = s[s < t]
    return float((t + lower.max()) / 2.0) if lower.size else t


def bootstrap_ci(
    targets: np.ndarray,
    scores: np.ndarray,
    statistic: Callable[[np.ndarray, np.ndarray], float],
    n: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """(point, low, high): percentile bootstrap over cases, stratified by class."""
    y = np.asarray(targets)
    s = np.asarray(scores, dtype=np.float64)
    rng = np.random.default_rng(seed)
    pos, neg = np.nonzero(y == 1)[0], np.nonzero(y != 1)[0]
    values = []
    for _ in range(n):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        value = statistic(y[idx], s[idx])
        if not np.isnan(value):
            values.append(value)
    point = statistic(y, s)
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2]) if values else (np.nan, np.nan)
    return float(point), float(low), float(high)


def summarize(
    targets: np.ndarray, scores: np.ndarray, threshold: float, n_boot: int = 2000, seed: int = 0
) -> dict[str, object]:
    """Point estimates with stratified-bootstrap 95% intervals at a given operating point."""
    y = np.asarray(targets).astype(np.int64)
    s = np.asarray(scores, dtype=np.float64)

    def at(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
        return lambda yy, ss: float(getattr(confusion(yy, ss, threshold), name))

    stats = {
        "auc": roc_auc,
        "accuracy": at("accuracy"),
        "sensitivity": at("sensitivity"),
        "specificity": at("specificity"),
        "precision": at("precision"),
        "f1": at("f1"),
        "brier": brier,
    }
    out: dict[str, object] = {"n": len(y), "n_malignant": int(y.sum()), "threshold": threshold}
    for name, fn in stats.items():
        point, low, high = bootstrap_ci(y, s, fn, n=n_boot, seed=seed)
        out[name] = {"value": round(point, 4), "ci95": [round(low, 4), round(high, 4)]}
    cm = confusion(y, s, threshold)
    out["confusion"] = {"tp": cm.tp, "fp": cm.fp, "tn": cm.tn, "fn": cm.fn}
    return out


def dice(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Dice per image of binary masks [N,H,W]; 1.0 when both are empty."""
    p = np.asarray(predicted).astype(bool).reshape(len(predicted), -1)
    t = np.asarray(truth).astype(bool).reshape(len(truth), -1)
    inter = (p & t).sum(axis=1)
    total = p.sum(axis=1) + t.sum(axis=1)
    return np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 1.0)


def expected_calibration_error(targets: np.ndarray, probs: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width probability bins (weighted mean |observed rate - mean p|)."""
    y = np.asarray(targets, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            ece += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return float(ece)


def upsample(maps: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upsampling of [N,h,w] grids to [N,size,size] (as the service's overlay does)."""
    from PIL import Image

    return np.stack(
        [
            np.asarray(
                Image.fromarray(m.astype(np.float32)).resize(
                    (size, size), Image.Resampling.BILINEAR
                )
            )
            for m in maps
        ]
    )


def cam_localisation(cam: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image: (hottest CAM pixel inside the lesion, share of positive CAM mass inside it).

    The CAM grid is upsampled bilinearly to the mask size first, as the heatmap a clinician sees.
    """
    heat = np.maximum(upsample(cam, masks.shape[1]), 0.0).reshape(len(cam), -1)
    flat = np.asarray(masks).astype(bool).reshape(len(masks), -1)
    hottest = flat[np.arange(len(heat)), heat.argmax(axis=1)]
    mass = (heat * flat).sum(axis=1) / np.maximum(heat.sum(axis=1), 1e-12)
    return hottest.astype(float), mass
