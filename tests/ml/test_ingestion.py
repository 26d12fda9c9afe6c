"""Shared preprocessing and dataset ingestion, including the bad files the old system held."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adapters.imaging.preprocessing import MODEL_INPUT_SIZE, preprocess
from ml.data import Split, load_npz_splits
from ml.ingest import ingest_folder, ingest_npz, oversample, save_npz, stratified_split

pytestmark = pytest.mark.unit


def noise(seed: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size[1], size[0]), dtype=np.uint8)


def test_preprocess_crops_the_centre_square_and_replicates_channels() -> None:
    img = np.zeros((100, 300), np.uint8)
    img[:, 100:200] = 200  # the centre square is uniformly bright
    out = preprocess(Image.fromarray(img))
    assert out.shape == (MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3)
    assert out.dtype == np.uint8
    assert np.all(out == 200)


def test_preprocess_is_identity_on_128_grayscale_and_handles_rgb() -> None:
    gray = noise(0, (128, 128))
    np.testing.assert_array_equal(preprocess(Image.fromarray(gray))[..., 0], gray)
    rgb = Image.fromarray(np.stack([gray] * 3, axis=2))
    np.testing.assert_array_equal(preprocess(rgb)[..., 2], gray)


def test_preprocess_uses_pillow_bilinear() -> None:
    src = Image.fromarray(noise(3, (256, 256)))
    expected = np.asarray(src.resize((128, 128), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(preprocess(src)[..., 1], expected)


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    root = tmp_path / "old_system"
    for split, cls, seeds in [
        ("train", "malignant", [1, 2, 3]),
        ("train", "benign", [4, 5, 6]),
        ("train", "normal", [7]),
        ("val", "malignant", [8]),
        ("val", "Benign", [9]),
    ]:
        folder = root / split / cls
        folder.mkdir(parents=True)
        for seed in seeds:
            Image.fromarray(noise(seed)).save(folder / f"img{seed}.png")
    bad = root / "train" / "benign"
    (bad / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (bad / "notes.txt").write_text("scanner export log")
    Image.fromarray(noise(10, (20, 20))).save(bad / "tiny.png")
    Image.fromarray(noise(11)).convert("CMYK").save(bad / "cmyk.jpg")
    Image.fromarray(noise(4)).save(bad / "img4_copy.png")  # duplicate, same label
    Image.fromarray(noise(1)).save(root / "val" / "Benign" / "img1_mislabelled.png")  # conflict
    rgb = np.stack([noise(12)] * 3, axis=2)
    Image.fromarray(rgb).save(root / "train" / "malignant" / "rgb.jpg", quality=95)
    return root


def test_folder_ingestion_drops_bad_files_with_reasons(messy_folder: Path) -> None:
    report = ingest_folder(messy_folder, min_size=32)
    reasons = {Path(d.path).name: d.reason for d in report.dropped}
    assert reasons["truncated.png"].startswith("unreadable")
    assert reasons["notes.txt"].startswith("unsupported file type")
    assert reasons["tiny.png"].startswith("too small")
    assert reasons["cmyk.jpg"] == "wrong mode: CMYK"
    assert reasons["img4_copy.png"].startswith("duplicate: of")
    assert "conflicting labels" in reasons["img1.png"]
    assert "conflicting labels" in reasons["img1_mislabelled.png"]
    assert "img4.png" not in reasons  # the first copy is kept


def test_folder_ingestion_keeps_valid_images_and_maps_labels(messy_folder: Path) -> None:
    report = ingest_folder(messy_folder, min_size=32)
    train, val = report.splits["train"], report.splits["val"]
    # train: malignant 2,3 + rgb.jpg (img1 dropped), benign 4,5,6, normal 7
    assert len(train) == 7
    assert int(train.malignant.sum()) == 3
    assert len(val) == 2
    assert sorted(val.malignant.tolist()) == [0, 1]
    assert train.images.shape[1:] == (128, 128, 3)
    assert train.images.dtype == np.uint8
    summary = report.summary()
    assert summary["dropped"]["total"] == 7
    assert summary["dropped"]["by_reason"]["duplicate"] == 3


def test_folder_without_split_folders_is_one_pool(tmp_path: Path) -> None:
    for cls, seeds in (("malignant", [1, 2]), ("benign", [3, 4, 5])):
        (tmp_path / cls).mkdir()
        for seed in seeds:
            Image.fromarray(noise(seed)).save(tmp_path / cls / f"{seed}.png")
    report = ingest_folder(tmp_path)
    assert list(report.splits) == ["all"]
    assert len(report.splits["all"]) == 5


def test_near_duplicates_are_reported_and_optionally_dropped(tmp_path: Path) -> None:
    (tmp_path / "train" / "benign").mkdir(parents=True)
    (tmp_path / "val" / "benign").mkdir(parents=True)
    base = noise(5, (128, 128))
    Image.fromarray(base).save(tmp_path / "train" / "benign" / "a.png")
    shifted = base.copy()
    shifted[0, 0] ^= 1  # one grey level on one pixel: a near-duplicate, not identical
    Image.fromarray(shifted).save(tmp_path / "val" / "benign" / "b.png")
    report = ingest_folder(tmp_path)
    assert len(report.near_duplicates) == 1
    assert report.near_duplicates[0]["cross_split"] is True
    dropped = ingest_folder(tmp_path, drop_near_duplicates=True)
    assert [d.reason.split(":")[0] for d in dropped.dropped] == ["near-duplicate"]


def test_npz_round_trip_keeps_the_medmnist_label_convention(tmp_path: Path) -> None:
    images = np.stack([noise(s, (128, 128)) for s in range(6)])
    split = Split(np.repeat(images[..., None], 3, axis=3), np.array([1, 0, 0, 1, 0, 0]))
    path = tmp_path / "d.npz"
    save_npz(path, {"train": split})
    with np.load(path) as data:
        assert data["train_images"].shape == (6, 128, 128)
        assert data["train_labels"].reshape(-1).tolist() == [0, 1, 1, 0, 1, 1]  # 0 = malignant
    loaded = load_npz_splits(path, malignant_label=0)["train"]
    np.testing.assert_array_equal(loaded.malignant, split.malignant)
    np.testing.assert_array_equal(loaded.images, split.images)
    assert len(ingest_npz(path).splits["train"]) == 6


def test_stratified_split_and_oversampling() -> None:
    y = np.array([1] * 10 + [0] * 30)
    split = Split(np.zeros((40, 2, 2, 3), np.uint8), y)
    parts = stratified_split(split, [0.8, 0.2], seed=0)
    assert [len(parts["train"]), len(parts["val"])] == [32, 8]
    assert [int(parts["train"].malignant.sum()), int(parts["val"].malignant.sum())] == [8, 2]
    balanced = oversample(parts["train"], seed=0)
    assert np.bincount(balanced.malignant).tolist() == [24, 24]
