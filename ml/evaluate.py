"""Evaluate the exported ONNX model (through the service adapter) and the Keras ensemble.

On any split of a MedMNIST-style npz or a class-folder dataset: accuracy, precision, recall
(sensitivity), specificity, F1, ROC AUC with stratified-bootstrap 95% intervals, confusion
matrix, Brier score, ROC curve, reliability plot and a CAM overlay montage (PNG).

Usage: python -m ml.evaluate [--split val] [--npz PATH | --folder DIR] [--no-keras]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from adapters.inference.onnx_classifier import OnnxTumorClassifier
from ml.data import Split, load_npz_splits
from ml.metrics import roc_curve, summarize
from ml.settings import dataset_path, load_config, resolve


def onnx_predict(
    classifier: OnnxTumorClassifier, images: np.ndarray, batch: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """(p_malignant [N], cam [N,h,w]) from the exported model through the service adapter."""
    out = [classifier.run(images[i : i + batch]) for i in range(0, len(images), batch)]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])


def plot_cams(
    path: Path, images: np.ndarray, y: np.ndarray, p: np.ndarray, cam: np.ndarray, per_row: int = 6
) -> None:
    """Most confident malignant and benign cases with their CAM overlaid (shortcut check)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    rows = [np.argsort(-p)[:per_row], np.argsort(p)[:per_row]]
    fig, axes = plt.subplots(2, per_row, figsize=(per_row * 1.6, 3.6), squeeze=False)
    size = images.shape[2], images.shape[1]
    for r, idx in enumerate(rows):
        for c, i in enumerate(idx):
            ax = axes[r, c]
            heat = Image.fromarray(cam[i].astype(np.float32)).resize(
                size, Image.Resampling.BILINEAR
            )
            ax.imshow(images[i, :, :, 0], cmap="gray", vmin=0, vmax=255)
            ax.imshow(np.asarray(heat), cmap="jet", alpha=0.35, vmin=0, vmax=max(cam.max(), 1e-6))
            ax.set_title(f"p={p[i]:.2f} y={'M' if y[i] else 'B'}", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Top: highest P(malignant); bottom: lowest. CAM overlaid.", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_roc(path: Path, curves: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (y, p, auc) in curves.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title("ROC, malignant vs not")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_reliability(path: Path, y: np.ndarray, p: np.ndarray, bins: int = 10) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    centres, observed, counts = [], [], []
    for b in range(bins):
        mask = idx == b
        if mask.any():
            centres.append(float(p[mask].mean()))
            observed.append(float(y[mask].mean()))
            counts.append(int(mask.sum()))
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.plot(centres, observed, marker="o")
    for c, o, n in zip(centres, observed, counts, strict=True):
        ax.annotate(str(n), (c, o), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("mean predicted P(malignant)")
    ax.set_ylabel("observed fraction malignant")
    ax.set_title("Reliability (bin counts annotated)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def load_split(args: argparse.Namespace, cfg: dict[str, Any]) -> Split:
    if args.folder:
        from ml.preprocessing import ingest_folder

        report = ingest_folder(Path(args.folder), min_size=args.min_size)
        if args.split not in report.splits:
            raise SystemExit(f"no split {args.split!r} in {args.folder}")
        return report.splits[args.split]
    npz = Path(args.npz) if args.npz else dataset_path(cfg)
    splits = load_npz_splits(npz, cfg["data"]["malignant_label"])
    if args.split not in splits:
        raise SystemExit(f"no split {args.split!r} in {npz} (has {sorted(splits)})")
    return splits[args.split]


def run(args: argparse.Namespace) -> dict[str, Any]:
    cfg = load_config(args.config)
    split = load_split(args, cfg)
    classifier = OnnxTumorClassifier(resolve(args.model))
    threshold = args.threshold if args.threshold is not None else classifier.model.threshold
    y = split.malignant
    results: dict[str, Any] = {
        "split": args.split,
        "model": str(args.model),
        "model_version": classifier.model.version,
        "providers": list(classifier.providers),
    }
    p_onnx, cam = onnx_predict(classifier, split.images)
    results["onnx"] = summarize(y, p_onnx, threshold, n_boot=args.bootstrap)
    curves = {"ONNX (service adapter)": (y, p_onnx, results["onnx"]["auc"]["value"])}
    if not args.no_keras and resolve(args.run).joinpath("summary.json").exists():
        from ml.export import keras_predict, load_members

        p_keras = keras_predict(load_members(resolve(args.run)), split.images)
        results["keras"] = summarize(y, p_keras, threshold, n_boot=args.bootstrap)
        results["max_abs_dp_keras_vs_onnx"] = float(np.max(np.abs(p_keras - p_onnx)))
        curves["Keras ensemble"] = (y, p_keras, results["keras"]["auc"]["value"])
    out = resolve(args.out) / args.split
    out.mkdir(parents=True, exist_ok=True)
    plot_roc(out / "roc.png", curves)
    plot_reliability(out / "reliability.png", y.astype(float), p_onnx.astype(float))
    plot_cams(out / "cams.png", split.images, y, p_onnx, cam)
    np.save(out / "p_onnx.npy", p_onnx)
    (out / "metrics.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


def _line(name: str, m: dict[str, Any]) -> str:
    parts = [
        f"{k} {m[k]['value']:.3f} [{m[k]['ci95'][0]:.3f}, {m[k]['ci95'][1]:.3f}]"
        for k in ("auc", "accuracy", "sensitivity", "specificity", "precision", "f1", "brier")
    ]
    cm = m["confusion"]
    return (
        f"{name}: n={m['n']} (malignant {m['n_malignant']}) threshold {m['threshold']:.4f}\n  "
        + "\n  ".join(parts)
        + f"\n  confusion TP {cm['tp']} FN {cm['fn']} TN {cm['tn']} FP {cm['fp']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--split", default="val")
    parser.add_argument("--npz", default=None, help="MedMNIST-style npz (default: config path)")
    parser.add_argument("--folder", default=None, help="class-folder dataset root instead of npz")
    parser.add_argument("--min-size", type=int, default=32)
    parser.add_argument("--model", default="models/breast-cnn.onnx")
    parser.add_argument("--run", default="ml/runs/default", help="training run for the Keras side")
    parser.add_argument("--no-keras", action="store_true", help="evaluate only the ONNX model")
    parser.add_argument("--threshold", type=float, default=None, help="default: the model's")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--out", default="ml/reports/evaluate")
    args = parser.parse_args(argv)
    results = run(args)
    print(_line("ONNX via OnnxTumorClassifier", results["onnx"]))
    if "keras" in results:
        print(_line("Keras ensemble", results["keras"]))
        print(f"max |dp| Keras vs ONNX: {results['max_abs_dp_keras_vs_onnx']:.2e}")
    print(f"figures and metrics.json in {resolve(args.out) / args.split}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
