"""Dataset loading (through the shared preprocessing): BUSI and BUS-BRA sources, hashing, folds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from adapters.imaging.preprocessing import MODEL_INPUT_SIZE, preprocess
from ml.settings import Config, data_path

SPLITS = ("train", "val", "test")
DATA_KEYS = ("busi_npz", "busi_masks", "busbra_npz")


@dataclass(frozen=True)
class Split:
    """Preprocessed images (uint8 [N,128,128,3]) and binary targets (1 = malignant)."""

    images: np.ndarray
    malignant: np.ndarray

    def __len__(self) -> int:
        return int(self.malignant.shape[0])


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def preprocess_array(image: np.ndarray) -> np.ndarray:
    """Run the service's preprocessing on one raw array (H,W) or (H,W,C) uint8."""
    return preprocess(Image.fromarray(np.asarray(image)))


def load_npz_splits(path: str | Path, malignant_label: int = 0) -> dict[str, Split]:
    """Every split present in a MedMNIST-style npz, passed through the shared preprocessing."""
    splits: dict[str, Split] = {}
    with np.load(path) as data:
        for name in SPLITS:
            if f"{name}_images" not in data:
                continue
            raw = data[f"{name}_images"]
            labels = data[f"{name}_labels"].reshape(-1)
            images = (
                np.stack([preprocess_array(img) for img in raw])
                if len(raw)
                else (np.zeros((0, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3), np.uint8))
            )
            splits[name] = Split(images, (labels == malignant_label).astype(np.int64))
    return splits


def dhash(image: np.ndarray, size: int = 8) -> int:
    """64-bit difference hash of a (grayscale or 3-channel) uint8 image."""
    gray = image[..., 0] if image.ndim == 3 else image
    small = np.asarray(
        Image.fromarray(gray).resize((size + 1, size), Image.Resampling.BILINEAR), dtype=np.int16
    )
    bits = (small[:, 1:] > small[:, :-1]).reshape(-1)
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def duplicate_pairs(hashes: list[int], max_distance: int) -> list[tuple[int, int, int]]:
    """All (i, j, distance) pairs with i < j whose hashes are within max_distance bits."""
    arr = np.array(hashes, dtype=np.uint64)
    pairs: list[tuple[int, int, int]] = []
    for i in range(len(arr) - 1):
        xor = np.bitwise_xor(arr[i + 1 :], arr[i])
        dist = np.array([int(v).bit_count() for v in xor])
        for offset in np.nonzero(dist <= max_distance)[0]:
            pairs.append((i, i + 1 + int(offset), int(dist[offset])))
    return pairs


def stratified_group_folds(
    targets: np.ndarray, groups: np.ndarray, folds: int, seed: int
) -> np.ndarray:
    """Fold index per sample: classes balanced across folds, duplicate groups never split."""
    rng = np.random.default_rng(seed)
    fold_of = np.full(len(targets), -1, dtype=np.int64)
    counts = np.zeros((folds, 2), dtype=np.int64)
    unique_groups = np.unique(groups)
    # Bigger groups first, then random order; each goes to the fold with fewest of its class.
    order = rng.permutation(len(unique_groups))
    sizes = np.array([(groups == g).sum() for g in unique_groups])
    order = order[np.argsort(-sizes[order], kind="stable")]
    for g in unique_groups[order]:
        members = np.nonzero(groups == g)[0]
        cls = round(targets[members].mean())
        fold = int(np.argmin(counts[:, cls] + 1e-3 * counts.sum(axis=1)))
        fold_of[members] = fold
        counts[fold, cls] += len(members)
    return fold_of


@dataclass(frozen=True)
class Source:
    """One site's images (uint8 [N,128,128,3]), malignant flags [N], lesion masks [N,128,128]."""

    name: str
    images: np.ndarray
    malignant: np.ndarray
    masks: np.ndarray
    birads: np.ndarray | None = None  # BI-RADS 2/3/4/5 as 0..3 (an auxiliary target), -1 unknown

    def __len__(self) -> int:
        return int(self.malignant.shape[0])

    @property
    def birads_index(self) -> np.ndarray:
        return self.birads if self.birads is not None else np.full(len(self), -1, np.int64)

    def subset(self, keep: np.ndarray) -> Source:
        return Source(
            self.name, self.images[keep], self.malignant[keep], self.masks[keep],
            self.birads_index[keep],
        )  # fmt: skip


def load_busi(
    npz: str | Path, masks_npz: str | Path, malignant_label: int = 0
) -> dict[str, Source]:
    """BUSI (BreastMNIST 128) train and val with their expert lesion masks."""
    splits = load_npz_splits(npz, malignant_label)
    with np.load(masks_npz) as masks:
        return {
            name: Source(
                "busi", splits[name].images, splits[name].malignant, masks[f"{name}_masks"]
            )
            for name in ("train", "val")
        }


def load_busbra(
    npz: str | Path, val_folds: int, seed: int, malignant_label: int = 0
) -> dict[str, Source]:
    """BUS-BRA split by patient (group_id), label-stratified: fold 0 of val_folds validates.

    BI-RADS at acquisition is kept as an auxiliary training target (never the label)."""
    with np.load(npz) as data:
        raw, masks = data["images"], data["masks"]
        malignant = (data["labels"].reshape(-1) == malignant_label).astype(np.int64)
        _, groups = np.unique(data["group_id"], return_inverse=True)
        categories = {"2": 0, "3": 1, "4": 2, "5": 3}
        raw_birads = data["birads"] if "birads" in data else np.full(len(raw), "")
        birads = np.array([categories.get(str(b), -1) for b in raw_birads], np.int64)
    images = np.stack([preprocess_array(img) for img in raw])
    everything = Source("busbra", images, malignant, masks, birads)
    fold_of = stratified_group_folds(malignant, groups, val_folds, seed)
    return {"train": everything.subset(fold_of != 0), "val": everything.subset(fold_of == 0)}


def load_sources(cfg: Config) -> dict[str, dict[str, Source]]:
    """{"train"|"val": {"busi"|"busbra": Source}}."""
    busi = load_busi(
        data_path(cfg, "busi_npz"), data_path(cfg, "busi_masks"), cfg.data.malignant_label
    )
    busbra = load_busbra(
        data_path(cfg, "busbra_npz"), cfg.data.busbra_val_folds, cfg.seed, cfg.data.malignant_label
    )
    return {split: {"busi": busi[split], "busbra": busbra[split]} for split in ("train", "val")}
