"""Evaluate an exported ONNX model per data source (ONNX Runtime, exactly what the service runs).

Per source: AUC with stratified-bootstrap 95% intervals; accuracy, sensitivity, specificity at
the model's threshold; Brier and ECE; Dice of the `lesion` output on lesion images; the share
of normal images' area flagged as lesion; for the CAM the pointing game (hottest pixel of the
upsampled heatmap inside the lesion) and the share of its mass inside the lesion, on malignant
lesions. Plots: ROC per source, reliability, a montage of outlines + heatmaps.

Usage: python -m ml.evaluate [--model models/breast-cnn.onnx] [--out ml/reports/evaluate]
       python -m ml.evaluate --npz other.npz --split test   (a MedMNIST-style npz, no masks)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ml.data import Source, load_npz_splits, load_sources
from ml.metrics import (
    brier,
    cam_localisation,
    dice,
    expected_calibration_error,
    roc_curve,
    summarize,
    upsample,
)
from ml.settings import Config, load_config, resolve

OUTPUTS = ("p_malignant", "cam", "lesion")


def onnx_session(path: Path, threads: int | None = None) -> ort.InferenceSession:
    """A CPU session on the exported file (`threads`: intra-op threads, default ORT's)."""
    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(
    model: Path | ort.InferenceSession, images: np.ndarray, batch: int = 64
) -> dict[str, np.ndarray]:
    """Every output of the model ({p_malignant [N], cam [N,h,w], lesion [N,S,S]} when present)."""
    session = model if isinstance(model, ort.InferenceSession) else onnx_session(model)
    names = [o.name for o in session.get_outputs() if o.name in OUTPUTS]
    chunks = [
        session.run(names, {"image": images[i : i + batch]}) for i in range(0, len(images), batch)
    ]
    out = {name: np.concatenate([c[k] for c in chunks]) for k, name in enumerate(names)}
    out["p_malignant"] = out["p_malignant"].reshape(-1)
    return out


def source_metrics(
    source: Source,
    outputs: dict[str, np.ndarray],
    threshold: float,
    lesion_threshold: float,
    n_boot: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Classification, calibration, segmentation and CAM figures for one source."""
    y, p = source.malignant, outputs["p_malignant"].astype(np.float64)
    metrics = summarize(y, p, threshold, n_boot=n_boot, seed=seed)
    metrics["ece"] = round(expected_calibration_error(y, p), 4)
    metrics["brier_value"] = round(brier(y, p), 4)
    has = source.masks.reshape(len(source), -1).any(axis=1)
    if "lesion" in outputs and has.any():
        flagged = outputs["lesion"] >= lesion_threshold
        metrics["dice"] = round(float(np.mean(dice(flagged[has], source.masks[has]))), 4)
        metrics["dice_malignant"] = round(
            float(np.mean(dice(flagged[has & (y == 1)], source.masks[has & (y == 1)]))), 4
        )
        metrics["n_lesion_images"] = int(has.sum())
        if (~has).any():
            metrics["normal_area_flagged"] = round(float(flagged[~has].mean()), 4)
            metrics["normal_images_any_flagged"] = round(
                float(flagged[~has].reshape(int((~has).sum()), -1).any(axis=1).mean()), 4
            )
    focus = has & (y == 1)
    if focus.any():
        hottest, mass = cam_localisation(outputs["cam"][focus], source.masks[focus])
        metrics["cam_pointing_malignant"] = round(float(hottest.mean()), 4)
        metrics["cam_mass_inside_malignant"] = round(float(mass.mean()), 4)
        metrics["lesion_area_share_malignant"] = round(float(source.masks[focus].mean()), 4)
        metrics["n_malignant_lesions"] = int(focus.sum())
    return metrics


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roc(path: Path, curves: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, (y, p, auc) in curves.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title("ROC per source, malignant vs not")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_reliability(
    path: Path, sets: dict[str, tuple[np.ndarray, np.ndarray]], bins: int = 10
) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    edges = np.linspace(0, 1, bins + 1)
    for name, (y, p) in sets.items():
        idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
        pts = [
            (p[idx == b].mean(), y[idx == b].mean(), int((idx == b).sum()))
            for b in range(bins)
            if (idx == b).any()
        ]
        ax.plot([c for c, _, _ in pts], [o for _, o, _ in pts], marker="o", label=name)
        for c, o, n in pts:
            ax.annotate(str(n), (c, o), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("mean calibrated P(malignant)")
    ax.set_ylabel("observed fraction malignant")
    ax.set_title("Reliability (bin counts annotated)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_montage(
    path: Path,
    source: Source,
    outputs: dict[str, np.ndarray],
    lesion_threshold: float,
    per_row: int = 6,
) -> None:
    """Malignant and benign validation cases: expert outline (green), model outline (yellow),
    heatmap (jet)."""
    plt = _pyplot()
    rng = np.random.default_rng(0)
    y = source.malignant
    rows = [
        rng.choice(np.nonzero(y == c)[0], min(per_row, int((y == c).sum())), replace=False)
        for c in (1, 0)
    ]
    size = source.images.shape[1]
    heat = upsample(np.maximum(outputs["cam"], 0), size)
    fig, axes = plt.subplots(2, per_row, figsize=(per_row * 1.7, 3.9), squeeze=False)
    for r, idx in enumerate(rows):
        for c, i in enumerate(idx):
            ax = axes[r, c]
            ax.imshow(source.images[i, :, :, 0], cmap="gray", vmin=0, vmax=255)
            ax.imshow(heat[i], cmap="jet", alpha=0.3, vmin=0, vmax=max(float(heat[i].max()), 1e-6))
            if source.masks[i].any():
                ax.contour(source.masks[i], levels=[0.5], colors="lime", linewidths=0.7)
            if "lesion" in outputs and (outputs["lesion"][i] >= lesion_threshold).any():
                ax.contour(
                    outputs["lesion"][i], levels=[lesion_threshold], colors="yellow", linewidths=0.7
                )
            ax.set_title(f"p={outputs['p_malignant'][i]:.2f} {'M' if y[i] else 'B/N'}", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{source.name}: expert outline green, model outline yellow, heatmap", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate_outputs(
    sources: dict[str, Source],
    outputs: dict[str, dict[str, np.ndarray]],
    threshold: float,
    lesion_threshold: float,
    out: Path | None,
    n_boot: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Metrics per source from the model's outputs on it (and figures under `out` if given)."""
    curves, calib, per_source = {}, {}, {}
    for name, source in sources.items():
        m = source_metrics(source, outputs[name], threshold, lesion_threshold, n_boot, seed)
        per_source[name] = m
        p = outputs[name]["p_malignant"]
        curves[name] = (source.malignant, p, m["auc"]["value"])
        calib[name] = (source.malignant.astype(float), p.astype(float))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            plot_montage(out / f"montage_{name}.png", source, outputs[name], lesion_threshold)
    if out is not None:
        plot_roc(out / "roc.png", curves)
        plot_reliability(out / "reliability.png", calib)
    return {"threshold": threshold, "sources": per_source}


def evaluate_model(
    model: Path, sources: dict[str, Source], out: Path | None, n_boot: int, seed: int = 0
) -> dict[str, Any]:
    """Metrics per source (and figures under `out` when given) at the model's own threshold."""
    session = onnx_session(model)
    meta = dict(session.get_modelmeta().custom_metadata_map)
    outputs = {name: run_onnx(session, source.images) for name, source in sources.items()}
    results = evaluate_outputs(
        sources,
        outputs,
        float(meta["threshold"]),
        float(meta.get("lesion_threshold", "0.5")),
        out,
        n_boot,
        seed,
    )
    results = {"model": str(model), "model_version": meta.get("model_version"), **results}
    if out is not None:
        (out / "metrics.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


TABLE_COLUMNS = (
    "source", "n", "AUC [95% CI]", "acc", "sens", "spec", "ECE", "Dice",
    "normal area flagged", "CAM pointing", "CAM mass in lesion",
)  # fmt: skip


def format_table(results: dict[str, Any]) -> str:
    """One Markdown row per source, the figures the model issue asks for."""
    nan = float("nan")
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    for name, m in results["sources"].items():
        auc = m["auc"]
        cells = [
            name,
            str(m["n"]),
            f"{auc['value']:.3f} [{auc['ci95'][0]:.3f}, {auc['ci95'][1]:.3f}]",
            *(f"{m[k]['value']:.3f}" for k in ("accuracy", "sensitivity", "specificity")),
            f"{m['ece']:.3f}",
            f"{m.get('dice', nan):.3f}",
            f"{m.get('normal_area_flagged', nan):.4f}",
            f"{m.get('cam_pointing_malignant', nan):.3f}",
            f"{m.get('cam_mass_inside_malignant', nan):.3f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def validation_sources(cfg: Config) -> dict[str, Source]:
    return load_sources(cfg)["val"]


def external_source(npz: Path, split: str, malignant_label: int) -> dict[str, Source]:
    splits = load_npz_splits(npz, malignant_label)
    if split not in splits:
        raise SystemExit(f"no split {split!r} in {npz} (has {sorted(splits)})")
    s = splits[split]
    masks = np.zeros(s.images.shape[:3], np.uint8)  # no masks: classification figures only
    return {f"{npz.stem}:{split}": Source(npz.stem, s.images, s.malignant, masks)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--model", default="models/breast-cnn.onnx")
    parser.add_argument(
        "--npz", default=None, help="a MedMNIST-style npz instead of the validation sources"
    )
    parser.add_argument("--split", default="test", help="split of --npz")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--out", default="ml/reports/evaluate")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    sources = (
        external_source(Path(args.npz), args.split, cfg.data.malignant_label)
        if args.npz
        else validation_sources(cfg)
    )
    out = resolve(args.out)
    results = evaluate_model(resolve(args.model), sources, out, args.bootstrap, cfg.seed)
    print(
        f"{results['model']} (version {results['model_version']}, "
        f"threshold {results['threshold']:.4f})"
    )
    print(format_table(results))
    print(f"figures and metrics.json in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
