"""Ingest a dataset, validate every image, apply the shared preprocessing, report what was dropped.

Sources: a MedMNIST-style npz (`train_images`, `train_labels`, ...) or a folder of class
sub-folders, with or without split folders: `ROOT/{train,val,test}/<class>/*.png|jpg` or
`ROOT/<class>/*`. Class `malignant` (case-insensitive) is the positive class; every other class
(benign, normal) is negative. Dropped: unreadable files, unsupported modes, images smaller than
--min-size, exact duplicates (identical preprocessed pixels; all copies when their labels
conflict). Near-duplicates (dHash) are reported, and dropped with --drop-near-duplicates.

Output: a MedMNIST-style npz (grayscale uint8 [N,128,128], labels 0 = malignant, 1 = not, as in
BreastMNIST) that `ml.train --set data.npz=...` accepts, plus a JSON report.

Usage: python -m ml.ingest (--folder DIR | --npz FILE) --out ml/data/dataset.npz
       [--split 0.8,0.1,0.1] [--balance none|oversample] [--min-size 32] [--seed 42]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from adapters.imaging.preprocessing import preprocess
from ml.data import SPLITS, Split, dhash, duplicate_pairs

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
ACCEPTED_MODES = {"L", "LA", "RGB", "RGBA", "I;16", "I;16B", "I;16L"}
POSITIVE_CLASS = "malignant"


@dataclass
class Dropped:
    path: str
    split: str
    reason: str


@dataclass
class IngestReport:
    splits: dict[str, Split] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "kept": {
                name: {"n": len(s), "malignant": int(s.malignant.sum())}
                for name, s in self.splits.items()
            },
            "dropped": {
                "total": len(self.dropped),
                "by_reason": dict(Counter(d.reason.split(":")[0] for d in self.dropped)),
                "files": [vars(d) for d in self.dropped],
            },
            "near_duplicates": self.near_duplicates,
        }


def _load_image(path: Path, min_size: int) -> tuple[np.ndarray | None, str | None]:
    """(preprocessed uint8 [128,128,3], None) or (None, reason)."""
    try:
        with Image.open(path) as img:
            img.load()
            mode, size = img.mode, img.size
            if mode not in ACCEPTED_MODES:
                return None, f"wrong mode: {mode}"
            if min(size) < min_size:
                return None, f"too small: {size[0]}x{size[1]} < {min_size}"
            if mode.startswith("I;16"):
                arr = np.asarray(img, dtype=np.float64)
                peak = arr.max() or 1.0
                return preprocess(
                    Image.fromarray((arr / peak * 255.0).round().astype(np.uint8))
                ), None
            return preprocess(img), None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        return None, f"unreadable: {type(exc).__name__}"


def _discover(root: Path) -> dict[str, list[tuple[Path, str]]]:
    """split -> [(file, class name)]; a root without split folders becomes split 'all'."""
    split_dirs = [d for d in root.iterdir() if d.is_dir() and d.name in SPLITS]
    layout = {d.name: d for d in split_dirs} if split_dirs else {"all": root}
    found: dict[str, list[tuple[Path, str]]] = {}
    for split, base in sorted(layout.items()):
        for class_dir in sorted(d for d in base.iterdir() if d.is_dir()):
            for path in sorted(class_dir.rglob("*")):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    found.setdefault(split, []).append((path, class_dir.name))
                elif path.is_file():
                    found.setdefault(split, []).append((path, "?unsupported"))
    return found


def ingest_folder(
    root: Path, min_size: int = 32, near_duplicate_bits: int = 4, drop_near_duplicates: bool = False
) -> IngestReport:
    report = IngestReport()
    entries: list[tuple[str, str, np.ndarray, int]] = []  # (split, path, pixels, target)
    for split, files in _discover(root).items():
        for path, class_name in files:
            if class_name == "?unsupported":
                report.dropped.append(
                    Dropped(str(path), split, f"unsupported file type: {path.suffix}")
                )
                continue
            pixels, reason = _load_image(path, min_size)
            if pixels is None:
                report.dropped.append(Dropped(str(path), split, reason or "unreadable"))
                continue
            entries.append((split, str(path), pixels, int(class_name.lower() == POSITIVE_CLASS)))
    _finish(report, entries, near_duplicate_bits, drop_near_duplicates)
    return report


def ingest_npz(
    path: Path,
    malignant_label: int = 0,
    min_size: int = 32,
    near_duplicate_bits: int = 4,
    drop_near_duplicates: bool = False,
) -> IngestReport:
    report = IngestReport()
    entries: list[tuple[str, str, np.ndarray, int]] = []
    with np.load(path) as data:
        for split in SPLITS:
            if f"{split}_images" not in data:
                continue
            images, labels = data[f"{split}_images"], data[f"{split}_labels"].reshape(-1)
            if len(images) != len(labels):
                raise ValueError(f"{path}: {split} has {len(images)} images, {len(labels)} labels")
            for i, (raw, label) in enumerate(zip(images, labels, strict=True)):
                name = f"{path.name}:{split}[{i}]"
                if raw.dtype != np.uint8 or raw.ndim not in (2, 3):
                    report.dropped.append(
                        Dropped(name, split, f"wrong mode: {raw.dtype} {raw.shape}")
                    )
                    continue
                if min(raw.shape[:2]) < min_size:
                    report.dropped.append(Dropped(name, split, f"too small: {raw.shape[:2]}"))
                    continue
                entries.append(
                    (split, name, preprocess(Image.fromarray(raw)), int(label == malignant_label))
                )
    _finish(report, entries, near_duplicate_bits, drop_near_duplicates)
    return report


def _finish(
    report: IngestReport,
    entries: list[tuple[str, str, np.ndarray, int]],
    near_bits: int,
    drop_near: bool,
) -> None:
    by_digest: dict[str, list[int]] = {}
    for idx, (_, _, pixels, _) in enumerate(entries):
        by_digest.setdefault(hashlib.sha256(pixels.tobytes()).hexdigest(), []).append(idx)
    drop: set[int] = set()
    for copies in by_digest.values():
        if len(copies) < 2:
            continue
        labels = {entries[i][3] for i in copies}
        first = entries[copies[0]][1]
        if len(labels) > 1:
            drop.update(copies)
            for i in copies:
                report.dropped.append(
                    Dropped(
                        entries[i][1],
                        entries[i][0],
                        "duplicate: identical pixels with conflicting labels",
                    )
                )
        else:
            drop.update(copies[1:])
            for i in copies[1:]:
                report.dropped.append(
                    Dropped(entries[i][1], entries[i][0], f"duplicate: of {first}")
                )
    kept = [i for i in range(len(entries)) if i not in drop]
    hashes = [dhash(entries[i][2]) for i in kept]
    near_drop: set[int] = set()
    for a, b, dist in duplicate_pairs(hashes, near_bits):
        ia, ib = kept[a], kept[b]
        report.near_duplicates.append(
            {
                "a": entries[ia][1],
                "b": entries[ib][1],
                "bits": dist,
                "cross_split": entries[ia][0] != entries[ib][0],
            }
        )
        if drop_near and ia not in near_drop:
            near_drop.add(ib)
            report.dropped.append(
                Dropped(
                    entries[ib][1],
                    entries[ib][0],
                    f"near-duplicate: of {entries[ia][1]} ({dist} bits)",
                )
            )
    kept = [i for i in kept if i not in near_drop]
    for split in dict.fromkeys(entries[i][0] for i in kept):
        members = [i for i in kept if entries[i][0] == split]
        report.splits[split] = Split(
            np.stack([entries[i][2] for i in members]),
            np.array([entries[i][3] for i in members], dtype=np.int64),
        )
        report.sources[split] = [entries[i][1] for i in members]


def stratified_split(split: Split, fractions: list[float], seed: int) -> dict[str, Split]:
    """Split one set into train/val[/test] by the given fractions, per class."""
    names = list(SPLITS[: len(fractions)])
    rng = np.random.default_rng(seed)
    assigned: dict[str, list[int]] = {n: [] for n in names}
    for cls in (0, 1):
        idx = rng.permutation(np.nonzero(split.malignant == cls)[0])
        bounds = np.round(np.cumsum(fractions) / sum(fractions) * len(idx)).astype(int)
        for name, part in zip(names, np.split(idx, bounds[:-1]), strict=True):
            assigned[name].extend(part.tolist())
    return {
        n: Split(split.images[sorted(ix)], split.malignant[sorted(ix)])
        for n, ix in assigned.items()
    }


def oversample(split: Split, seed: int) -> Split:
    """Repeat minority-class images (randomly) until both classes are equally frequent."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(split.malignant, minlength=2)
    minority = int(np.argmin(counts))
    extra = rng.choice(np.nonzero(split.malignant == minority)[0], counts.max() - counts.min())
    idx = np.concatenate([np.arange(len(split)), extra])
    return Split(split.images[idx], split.malignant[idx])


def save_npz(path: Path, splits: dict[str, Split], malignant_label: int = 0) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, split in splits.items():
        arrays[f"{name}_images"] = split.images[..., 0]
        labels = np.where(split.malignant == 1, malignant_label, 1 - malignant_label)
        arrays[f"{name}_labels"] = labels.astype(np.uint8).reshape(-1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy's stub: **kwds vs allow_pickle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--folder", type=Path)
    source.add_argument("--npz", type=Path)
    parser.add_argument("--out", type=Path, default=Path("ml/data/dataset.npz"))
    parser.add_argument("--report", type=Path, default=None, help="default: <out>.report.json")
    parser.add_argument("--split", default=None, help="fractions, e.g. 0.8,0.1,0.1 (pools all)")
    parser.add_argument(
        "--balance",
        choices=["none", "oversample"],
        default="none",
        help="oversample the minority class in train",
    )
    parser.add_argument("--min-size", type=int, default=32)
    parser.add_argument("--near-duplicate-bits", type=int, default=4)
    parser.add_argument("--drop-near-duplicates", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    report = (
        ingest_folder(
            args.folder, args.min_size, args.near_duplicate_bits, args.drop_near_duplicates
        )
        if args.folder
        else ingest_npz(
            args.npz, 0, args.min_size, args.near_duplicate_bits, args.drop_near_duplicates
        )
    )
    splits = dict(report.splits)
    if args.split:
        pooled = Split(
            np.concatenate([s.images for s in splits.values()]),
            np.concatenate([s.malignant for s in splits.values()]),
        )
        splits = stratified_split(pooled, [float(f) for f in args.split.split(",")], args.seed)
    elif set(splits) == {"all"}:
        splits = {"train": splits["all"]}
    if args.balance == "oversample" and "train" in splits:
        splits["train"] = oversample(splits["train"], args.seed)
    save_npz(args.out, splits)
    summary = report.summary()
    summary["written"] = {
        n: {"n": len(s), "malignant": int(s.malignant.sum())} for n, s in splits.items()
    }
    report_path = args.report or args.out.with_suffix(".report.json")
    report_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps({k: summary[k] for k in ("kept", "written")}, indent=2))
    print(f"dropped {summary['dropped']['total']}: {summary['dropped']['by_reason']}")
    for d in report.dropped[:50]:
        print(f"  {d.split}: {d.path}: {d.reason}")
    print(
        f"near-duplicate pairs: {len(report.near_duplicates)} "
        f"({sum(p['cross_split'] for p in report.near_duplicates)} across splits); "
        f"report in {report_path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
