"""Train the Breastscan CNN: stratified, duplicate-grouped K-fold members on the train split.

Each fold member early-stops on its held-out fold; the untouched validation split evaluates the
averaged ensemble. Usage: python -m ml.train [--config ml/config.yaml] [--set train.epochs=2 ...]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from ml.augment import build_augmenter
from ml.data import (
    dhash,
    duplicate_groups,
    load_npz_splits,
    sha256_file,
    stratified_group_folds,
)
from ml.metrics import roc_auc
from ml.model import build_cnn
from ml.settings import dataset_path, load_config, resolve


def set_determinism(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def class_weights(targets: np.ndarray, mode: str | None) -> dict[int, float] | None:
    if mode != "balanced":
        return None
    counts = np.bincount(targets, minlength=2).astype(float)
    return {c: float(len(targets) / (2 * counts[c])) for c in (0, 1) if counts[c] > 0}


def build_optimizer(
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule, weight_decay: float
) -> keras.optimizers.Optimizer:
    """Adam, or AdamW (decoupled weight decay) when weight_decay > 0."""
    if weight_decay > 0:
        return keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
    return keras.optimizers.Adam(learning_rate)


def make_dataset(
    images: np.ndarray, targets: np.ndarray, batch: int, seed: int, augmenter: keras.Model | None
) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((images, targets.astype(np.float32)))
    if augmenter is not None:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch).map(lambda x, y: (tf.cast(x, tf.float32), y))
    if augmenter is not None:
        ds = ds.map(lambda x, y: (augmenter(x, training=True), y))
    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options).prefetch(2)


def predict_tta(model: keras.Model, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """P(malignant) averaged over the image and its horizontal mirror (as the export does)."""

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    def step(x: tf.Tensor) -> tf.Tensor:
        x = tf.cast(x, tf.float32)
        both = tf.concat([x, tf.reverse(x, axis=[2])], axis=0)
        p = tf.reshape(model(both, training=False), [2, -1])
        return tf.reduce_mean(p, axis=0)

    out = [step(tf.constant(images[i : i + batch])).numpy() for i in range(0, len(images), batch)]
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def train_member(
    cfg: dict[str, Any],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_monitor: np.ndarray,
    y_monitor: np.ndarray,
    seed: int,
    out_dir: Path,
    verbose: int,
) -> tuple[keras.Model, dict[str, list[float]]]:
    tcfg = cfg["train"]
    set_determinism(seed)
    model = build_cnn(cfg["model"])
    schedule = tcfg.get("schedule", "plateau")
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = tcfg["learning_rate"]
    if schedule == "cosine":  # fixed length, no selection on the monitor split
        steps = tcfg["epochs"] * int(np.ceil(len(x_train) / tcfg["batch_size"]))
        learning_rate = keras.optimizers.schedules.CosineDecay(
            tcfg["learning_rate"],
            decay_steps=steps,
            alpha=tcfg["min_learning_rate"] / tcfg["learning_rate"],
        )
    model.compile(
        optimizer=build_optimizer(learning_rate, float(tcfg.get("weight_decay", 0.0))),
        loss=keras.losses.BinaryCrossentropy(
            label_smoothing=float(tcfg.get("label_smoothing", 0.0))
        ),
        metrics=[keras.metrics.AUC(name="auc")],
    )
    augmenter = build_augmenter(cfg["augment"], seed)
    train_ds = make_dataset(x_train, y_train, tcfg["batch_size"], seed, augmenter)
    monitor_ds = make_dataset(x_monitor, y_monitor, 64, seed, None)
    out_dir.mkdir(parents=True, exist_ok=True)
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.CSVLogger(str(out_dir / "history.csv"))
    ]
    if schedule == "plateau":
        callbacks += [
            keras.callbacks.EarlyStopping(
                monitor="val_auc",
                mode="max",
                patience=tcfg["early_stopping_patience"],
                restore_best_weights=True,
                start_from_epoch=tcfg.get("early_stopping_start", 5),
            ),
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss",
                factor=tcfg["reduce_lr_factor"],
                patience=tcfg["reduce_lr_patience"],
                min_lr=tcfg["min_learning_rate"],
            ),
        ]
    history = model.fit(
        train_ds,
        validation_data=monitor_ds,
        epochs=tcfg["epochs"],
        class_weight=class_weights(y_train, tcfg.get("class_weight")),
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # the dataset shuffles itself, seeded
    )
    model.save(out_dir / "model.keras")
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def run(cfg: dict[str, Any]) -> dict[str, Any]:
    started = time.time()
    seed = int(cfg["seed"])
    out = resolve(cfg["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    npz = dataset_path(cfg)
    splits = load_npz_splits(npz, cfg["data"]["malignant_label"])
    train, val = splits["train"], splits["val"]
    n_folds = int(cfg["train"]["folds"])
    verbose = 1 if sys.stdout.isatty() else 2

    oof = np.full(len(train), np.nan, dtype=np.float64)
    member_val: list[np.ndarray] = []
    members: list[dict[str, Any]] = []
    if n_folds >= 2:
        groups = duplicate_groups(
            [dhash(img) for img in train.images], cfg["data"]["dedup_hamming"]
        )
        fold_of = stratified_group_folds(train.malignant, groups, n_folds, seed)
        only = cfg["train"].get("only_folds")  # for quick experiments: a subset of members
        plans = [(k, fold_of != k, fold_of == k) for k in range(n_folds) if not only or k in only]
    else:  # single model: all of train, early stopping on the validation split
        fold_of = np.zeros(len(train), dtype=np.int64)
        plans = [(0, np.ones(len(train), bool), None)]

    for k, train_mask, holdout_mask in tqdm(plans, desc="members", unit="model"):
        x_mon, y_mon = (
            (train.images[holdout_mask], train.malignant[holdout_mask])
            if holdout_mask is not None
            else (val.images, val.malignant)
        )
        member_dir = out / f"member_{k}"
        model, history = train_member(
            cfg,
            train.images[train_mask],
            train.malignant[train_mask],
            x_mon,
            y_mon,
            seed + 1000 * k,
            member_dir,
            verbose,
        )
        info: dict[str, Any] = {
            "member": k,
            "path": str(member_dir / "model.keras"),
            "epochs_run": len(history["loss"]),
            "best_monitor_auc": max(history.get("val_auc", [float("nan")])),
        }
        if holdout_mask is not None:
            oof[holdout_mask] = predict_tta(model, train.images[holdout_mask])
            info["holdout_auc"] = roc_auc(train.malignant[holdout_mask], oof[holdout_mask])
        p_val = predict_tta(model, val.images)
        member_val.append(p_val)
        info["val_auc"] = roc_auc(val.malignant, p_val)
        members.append(info)
        tqdm.write(json.dumps(info))
        keras.backend.clear_session()

    val_ensemble = np.mean(member_val, axis=0)
    summary: dict[str, Any] = {
        "data": {
            "path": str(npz),
            "sha256": sha256_file(npz),
            "train": len(train),
            "val": len(val),
        },
        "seed": seed,
        "folds": n_folds,
        "members": members,
        "val_auc_ensemble": roc_auc(val.malignant, val_ensemble),
        "wall_seconds": round(time.time() - started, 1),
        "config": cfg,
    }
    if n_folds >= 2:
        done = ~np.isnan(oof)
        summary["cv_oof_auc"] = roc_auc(train.malignant[done], oof[done])
        np.save(out / "oof.npy", oof)
        np.save(out / "folds.npy", fold_of)
    np.save(out / "val_members.npy", np.stack(member_val))
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
    print(json.dumps({k: summary[k] for k in summary if k not in ("config", "members")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
