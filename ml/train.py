"""Train model 2.0 on two sites: BUSI train + BUS-BRA (patient-grouped), one network.

Each batch holds the same number of images from each site (neither dominates; classes weighted
within each site). The loss adds, to class-weighted binary cross-entropy, pixel BCE + soft Dice
on the expert lesion mask and the share of positive CAM outside the lesion on malignant images.
A fixed-length warm-up + cosine schedule (no selection on validation); BUSI val and the held-out
BUS-BRA patients are reported per epoch for progress only.

Usage: python -m ml.train [--config ml/config.yaml] [--set train.epochs=2 ...]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import math
import sys
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ml.augment import augment_batch
from ml.data import DATA_KEYS, Source, load_sources, sha256_file
from ml.metrics import dice, roc_auc
from ml.model import build_model
from ml.settings import Config, TrainConfig, data_path, load_config, resolve


def sample_weights(malignant: np.ndarray, mode: str | None) -> np.ndarray:
    """Balanced class weights within one site (mean weight 1)."""
    if mode != "balanced":
        return np.ones(len(malignant), np.float32)
    counts = np.bincount(malignant, minlength=2).astype(np.float64)
    per_class = len(malignant) / (2.0 * np.maximum(counts, 1.0))
    return per_class[malignant].astype(np.float32)


class BalancedBatches:
    """Endless seeded batches with batch/len(sources) images from each source."""

    def __init__(self, sources: list[Source], batch: int, seed: int, class_weight: str | None):
        self.sources = sources
        self.per_source = batch // len(sources)
        self.weights = [sample_weights(s.malignant, class_weight) for s in sources]
        self.rng = np.random.default_rng(seed)
        self.orders = [self.rng.permutation(len(s)) for s in sources]
        self.cursors = [0] * len(sources)

    def _take(self, i: int) -> np.ndarray:
        if self.cursors[i] + self.per_source > len(self.orders[i]):
            self.orders[i], self.cursors[i] = self.rng.permutation(len(self.sources[i])), 0
        idx = self.orders[i][self.cursors[i] : self.cursors[i] + self.per_source]
        self.cursors[i] += self.per_source
        return idx

    def next(self) -> tuple[np.ndarray, ...]:
        parts = []
        for i, source in enumerate(self.sources):
            idx = self._take(i)
            parts.append(
                (
                    source.images[idx],
                    source.malignant[idx],
                    source.masks[idx],
                    self.weights[i][idx],
                    source.birads_index[idx],
                )
            )
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def grid_mask(masks: tf.Tensor, grid: int) -> tf.Tensor:
    """1 where a grid cell touches the lesion: [N,S,S] -> [N,g,g]."""
    size = int(masks.shape[1])
    return tf.nn.max_pool2d(masks[..., None], size // grid, size // grid, "VALID")[..., 0]


def losses(
    outputs: list[tf.Tensor],
    malignant: tf.Tensor,
    masks: tf.Tensor,
    weights: tf.Tensor,
    birads: tf.Tensor,
    tcfg: TrainConfig,
) -> dict[str, tf.Tensor]:
    logit, cam, lesion_logit = outputs[:3]
    smooth = tcfg.label_smoothing
    target = malignant * (1.0 - smooth) + 0.5 * smooth
    cls = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logit)
    cls = tf.reduce_sum(cls * weights) / tf.reduce_sum(weights)

    seg_bce = tf.reduce_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=masks, logits=lesion_logit)
    )
    prob = tf.sigmoid(lesion_logit)
    inter = tf.reduce_sum(prob * masks, axis=[1, 2])
    total = tf.reduce_sum(prob + masks, axis=[1, 2])
    has_lesion = tf.cast(tf.reduce_sum(masks, axis=[1, 2]) > 0, tf.float32)
    soft_dice = 1.0 - (2.0 * inter + 1.0) / (total + 1.0)
    seg_dice = tf.reduce_sum(soft_dice * has_lesion) / tf.maximum(tf.reduce_sum(has_lesion), 1.0)

    positive = tf.nn.relu(cam)
    outside = tf.reduce_sum(positive * (1.0 - grid_mask(masks, int(cam.shape[1]))), axis=[1, 2])
    share = outside / (tf.reduce_sum(positive, axis=[1, 2]) + 1e-4)
    focus = malignant * has_lesion
    cam_out = tf.reduce_sum(share * focus) / tf.maximum(tf.reduce_sum(focus), 1.0)
    parts = {"cls": cls, "seg_bce": seg_bce, "seg_dice": seg_dice, "cam_out": cam_out}
    if len(outputs) > 3:  # auxiliary BI-RADS head, on the images that have a category
        known = tf.cast(birads >= 0, tf.float32)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.maximum(birads, 0), logits=outputs[3]
        )
        parts["birads"] = tf.reduce_sum(ce * known) / tf.maximum(tf.reduce_sum(known), 1.0)
    return parts


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak: float, floor: float, warmup: int, total: int) -> None:
        self.peak, self.floor, self.warmup, self.total = peak, floor, max(warmup, 1), total

    def __call__(self, step: Any) -> Any:
        step = tf.cast(step, tf.float32)
        warm = self.peak * (step + 1.0) / self.warmup
        progress = tf.clip_by_value((step - self.warmup) / max(self.total - self.warmup, 1), 0, 1)
        cosine = self.floor + 0.5 * (self.peak - self.floor) * (1.0 + tf.cos(math.pi * progress))
        return tf.where(step < self.warmup, warm, cosine)

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "floor": self.floor, "warmup": self.warmup, "total": self.total}


def predict(
    model: keras.Model, images: np.ndarray, batch: int = 64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(logit [N], cam [N,h,w], lesion probability [N,S,S]) in inference mode."""
    outs = [
        model(images[i : i + batch].astype(np.float32), training=False)
        for i in range(0, len(images), batch)
    ]
    logit = np.concatenate([np.asarray(o[0]) for o in outs])
    cam = np.concatenate([np.asarray(o[1]) for o in outs])
    lesion = np.concatenate([np.asarray(tf.sigmoid(o[2])) for o in outs])
    return logit, cam, lesion


def quick_report(model: keras.Model, val: dict[str, Source]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, source in val.items():
        logit, _, lesion = predict(model, source.images)
        out[f"{name}_auc"] = round(roc_auc(source.malignant, logit), 4)
        has = source.masks.reshape(len(source), -1).any(axis=1)
        out[f"{name}_dice"] = round(float(np.mean(dice(lesion[has] >= 0.5, source.masks[has]))), 4)
    return out


def run(cfg: Config) -> dict[str, Any]:
    started = time.time()
    seed = cfg.seed
    tcfg = cfg.train
    keras.utils.set_random_seed(seed)
    out = resolve(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    sources = load_sources(cfg)
    train, val = sources["train"], sources["val"]

    model = build_model(cfg.model)
    batches = BalancedBatches(list(train.values()), tcfg.batch_size, seed, tcfg.class_weight)
    steps_per_epoch = math.ceil(len(train) * tcfg.samples_per_site / tcfg.batch_size)
    total = steps_per_epoch * tcfg.epochs
    schedule = WarmupCosine(
        tcfg.learning_rate,
        tcfg.min_learning_rate,
        int(tcfg.warmup_epochs * steps_per_epoch),
        total,
    )
    ema = tcfg.ema  # exponential moving average of the weights, shipped
    optimizer = keras.optimizers.AdamW(
        schedule,
        weight_decay=tcfg.weight_decay,
        use_ema=ema > 0,
        ema_momentum=ema or 0.99,
    )
    rng = tf.random.Generator.from_seed(seed)
    seg_w, cam_w = tcfg.seg_weight, tcfg.cam_weight
    birads_w = tcfg.birads_weight

    @tf.function
    def step(
        x: tf.Tensor, y: tf.Tensor, m: tf.Tensor, w: tf.Tensor, b: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        x, m = augment_batch(tf.cast(x, tf.float32), tf.cast(m, tf.float32), rng, cfg.augment)
        with tf.GradientTape() as tape:
            parts = losses(model(x, training=True), tf.cast(y, tf.float32), m, w, b, tcfg)
            loss = (
                parts["cls"]
                + seg_w * (parts["seg_bce"] + parts["seg_dice"])
                + cam_w * parts["cam_out"]
                + birads_w * parts.get("birads", tf.constant(0.0))
                + tf.add_n(model.losses or [tf.constant(0.0)])
            )
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return {"loss": loss, **parts}

    history: list[dict[str, float]] = []
    for epoch in range(1, tcfg.epochs + 1):
        t0 = time.time()
        sums: dict[str, float] = {}
        for _ in range(steps_per_epoch):
            for key, value in step(*batches.next()).items():
                sums[key] = sums.get(key, 0.0) + float(value)
        row = {"epoch": epoch, **{k: round(v / steps_per_epoch, 4) for k, v in sums.items()}}
        row.update(quick_report(model, val))
        row["seconds"] = round(time.time() - t0, 1)
        history.append(row)
        print(json.dumps(row), flush=True)
    if ema > 0:
        optimizer.finalize_variable_values(model.trainable_variables)
        history[-1].update({f"ema_{k}": v for k, v in quick_report(model, val).items()})
        print(json.dumps({"ema": history[-1]}), flush=True)
    model.save(out / "model.keras")

    summary: dict[str, Any] = {
        "data": {
            key: {"path": str(data_path(cfg, key)), "sha256": sha256_file(data_path(cfg, key))}
            for key in DATA_KEYS
        },
        "counts": {
            split: {
                name: {"n": len(s), "malignant": int(s.malignant.sum())}
                for name, s in group.items()
            }
            for split, group in sources.items()
        },
        "seed": seed,
        "epochs": tcfg.epochs,
        "steps_per_epoch": steps_per_epoch,
        "final": history[-1] if history else {},
        "wall_seconds": round(time.time() - started, 1),
        "params": int(model.count_params()),
        "config": cfg.as_dict(),
    }
    (out / "history.json").write_text(json.dumps(history, indent=1), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None, help="YAML config (default ml/config.yaml)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. train.epochs=2",
    )
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    summary = run(cfg)
    print(json.dumps({k: summary[k] for k in summary if k != "config"}, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
