"""Explore the dataset: class balance, image statistics, montages, cross-split near-duplicates.

Writes PNG figures plus summary.json and summary.md to ml/reports/explore/ (or --out).
Usage: python -m ml.explore_data [--npz PATH] [--out DIR] [--bits 4]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from ml.data import dhash, duplicate_pairs, load_npz_splits, sha256_file
from ml.settings import dataset_path, load_config, resolve


def image_stats(images: np.ndarray) -> dict[str, float]:
    gray = images[..., 0].astype(np.float64)
    per_image_mean = gray.mean(axis=(1, 2))
    return {
        "mean": round(float(gray.mean()), 2),
        "std": round(float(gray.std()), 2),
        "per_image_mean_min": round(float(per_image_mean.min()), 2),
        "per_image_mean_max": round(float(per_image_mean.max()), 2),
        "fraction_black_pixels": round(float((gray < 8).mean()), 4),
        "fraction_saturated_pixels": round(float((gray > 247).mean()), 4),
    }


def montage(path: Path, splits: dict[str, Any], per_class: int = 8, seed: int = 0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = splits["train"]
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(2, per_class, figsize=(per_class * 1.4, 3.2))
    for row, (cls, name) in enumerate(((1, "malignant"), (0, "benign/normal"))):
        idx = rng.choice(np.nonzero(train.malignant == cls)[0], per_class, replace=False)
        for col, i in enumerate(idx):
            ax = axes[row, col]
            ax.imshow(train.images[i, :, :, 0], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(name, fontsize=8)
            ax.set_title(f"train[{i}]", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def histograms(path: Path, splits: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, split in splits.items():
        for cls, label in ((1, "malignant"), (0, "benign/normal")):
            pix = split.images[split.malignant == cls][..., 0].reshape(-1)
            ax.hist(pix, bins=64, density=True, histtype="step", label=f"{name} {label}")
    ax.set_xlabel("grey level")
    ax.set_ylabel("density")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def duplicate_figure(
    path: Path, pairs: list[dict[str, Any]], splits: dict[str, Any], n: int = 6
) -> None:
    if not pairs:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = pairs[:n]
    fig, axes = plt.subplots(2, len(shown), figsize=(len(shown) * 1.6, 3.4), squeeze=False)
    for col, pair in enumerate(shown):
        for row, key in enumerate(("a", "b")):
            split, idx = pair[key].split(":")
            ax = axes[row, col]
            ax.imshow(splits[split].images[int(idx), :, :, 0], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{pair[key]} ({pair['bits']}b)", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(npz: Path, out: Path, bits: int, malignant_label: int = 0) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    splits = load_npz_splits(npz, malignant_label)
    names = [(split, i) for split, s in splits.items() for i in range(len(s))]
    hashes = [dhash(splits[split].images[i]) for split, i in names]
    pairs = []
    for a, b, dist in duplicate_pairs(hashes, bits):
        (sa, ia), (sb, ib) = names[a], names[b]
        pairs.append(
            {
                "a": f"{sa}:{ia}",
                "b": f"{sb}:{ib}",
                "bits": dist,
                "cross_split": sa != sb,
                "same_label": bool(splits[sa].malignant[ia] == splits[sb].malignant[ib]),
                "identical": bool(np.array_equal(splits[sa].images[ia], splits[sb].images[ib])),
            }
        )
    pairs.sort(key=lambda p: (not p["cross_split"], p["bits"]))
    summary: dict[str, Any] = {
        "file": str(npz),
        "sha256": sha256_file(npz),
        "splits": {
            name: {
                "n": len(s),
                "malignant": int(s.malignant.sum()),
                "benign_or_normal": int(len(s) - s.malignant.sum()),
                "malignant_fraction": round(float(s.malignant.mean()), 3),
                "shape": list(s.images.shape[1:]),
                "stats_all": image_stats(s.images),
                "stats_malignant": image_stats(s.images[s.malignant == 1]),
                "stats_benign_or_normal": image_stats(s.images[s.malignant == 0]),
            }
            for name, s in splits.items()
        },
        "near_duplicates": {
            "dhash_bits": bits,
            "pairs": len(pairs),
            "cross_split": sum(p["cross_split"] for p in pairs),
            "identical": sum(p["identical"] for p in pairs),
            "label_conflicts": sum(not p["same_label"] for p in pairs),
            "examples": pairs[:40],
        },
    }
    montage(out / "montage.png", splits)
    histograms(out / "intensity_histogram.png", splits)
    duplicate_figure(out / "near_duplicates.png", pairs, splits)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    lines = [
        f"# Dataset summary: {npz.name}",
        "",
        f"sha256 `{summary['sha256']}`",
        "",
        "| split | n | malignant | benign/normal | malignant % | mean grey | std |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in summary["splits"].items():
        lines.append(
            f"| {name} | {s['n']} | {s['malignant']} | {s['benign_or_normal']} | "
            f"{100 * s['malignant_fraction']:.1f} | {s['stats_all']['mean']} | "
            f"{s['stats_all']['std']} |"
        )
    nd = summary["near_duplicates"]
    lines += [
        "",
        f"Near-duplicate pairs (dHash distance <= {bits} bits): {nd['pairs']}, "
        f"{nd['cross_split']} across splits, {nd['identical']} pixel-identical, "
        f"{nd['label_conflicts']} with conflicting labels. Training keeps each near-duplicate "
        "group inside one cross-validation fold.",
        "",
        "Figures: montage.png, intensity_histogram.png, near_duplicates.png",
    ]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--npz", default=None)
    parser.add_argument("--out", default="ml/reports/explore")
    parser.add_argument("--bits", type=int, default=None, help="dHash near-duplicate distance")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    npz = Path(args.npz) if args.npz else dataset_path(cfg)
    bits = args.bits if args.bits is not None else cfg.data.dedup_hamming
    summary = run(npz, resolve(args.out), bits, cfg.data.malignant_label)
    print((resolve(args.out) / "summary.md").read_text(encoding="utf-8"))
    _ = summary
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
