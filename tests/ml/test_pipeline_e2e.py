"""End to end on tiny two-site data: train 1 epoch -> export (fp32 + int8) -> contract + parity."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.ci import unavailable
from tests.ml.support import sample_images

pytestmark = [pytest.mark.ml, pytest.mark.slow]

if importlib.util.find_spec("tensorflow") is None:  # the `ml` extra is optional
    unavailable("TensorFlow is not installed: pip install -e '.[ml]'", module_level=True)


def _masks(images: np.ndarray) -> np.ndarray:
    """A stand-in lesion mask: the darkest tenth of each image."""
    cut = np.quantile(images.reshape(len(images), -1), 0.1, axis=1)
    return (images <= cut[:, None, None]).astype(np.uint8)


def _write_sources(root: Path) -> dict[str, Path]:
    busi, busi_mal = sample_images(n_malignant=8, n_other=16, seed=3)
    labels = (1 - busi_mal).astype(np.uint8)[:, None]  # 0 = malignant
    train, val = np.arange(16), np.arange(16, 24)
    paths = {
        "busi_npz": root / "busi.npz",
        "busi_masks": root / "busi_masks.npz",
        "busbra_npz": root / "busbra.npz",
    }
    order = np.random.default_rng(0).permutation(24)
    train, val = order[:16], order[16:]
    np.savez(
        paths["busi_npz"],
        train_images=busi[train],
        train_labels=labels[train],
        val_images=busi[val],
        val_labels=labels[val],
    )
    masks = _masks(busi)
    np.savez(paths["busi_masks"], train_masks=masks[train], val_masks=masks[val])
    bra, bra_mal = sample_images(n_malignant=14, n_other=14, seed=5)
    groups = np.array([f"case{i // 2}" for i in range(len(bra))])  # two views per patient
    np.savez(
        paths["busbra_npz"],
        images=bra,
        masks=_masks(bra),
        labels=(1 - bra_mal).astype(np.uint8)[:, None],
        group_id=groups,
        birads=np.array(["5" if m else "2" for m in bra_mal]),
    )
    return paths


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from ml import export, train
    from ml.settings import load_config

    root = tmp_path_factory.mktemp("pipeline")
    paths = _write_sources(root)
    cfg = load_config(
        overrides=[
            *(f"data.{key}={path}" for key, path in paths.items()),
            "data.busbra_val_folds=3",
            f"output_dir={root / 'run'}",
            "train.epochs=1",
            "train.samples_per_site=16",
            "train.batch_size=8",
            "model.filters=[4,8,8,16]",
            "model.decoder=[8,8,4]",
            "model.birads_head=true",
            "train.birads_weight=0.3",
            "train.ema=0.9",
            "eval.bootstrap=50",
        ]
    )
    with pytest.MonkeyPatch.context() as mp:  # the explicit tiny files, whatever the env says
        mp.delenv("BREASTSCAN_ML_DATA_DIR", raising=False)
        mp.delenv("BREASTSCAN_SHARED_DIR", raising=False)
        summary = train.run(cfg)
        output = root / "model.onnx"
        result = export.run(root / "run", output, root / "CARD.md", n_boot=50, bench_seconds=0.5)
    return {"summary": summary, "result": result, "output": output, "root": root}


def test_training_writes_model_history_and_summary(exported: dict[str, object]) -> None:
    root = exported["root"]
    assert isinstance(root, Path)
    assert (root / "run" / "model.keras").is_file()
    history = json.loads((root / "run" / "history.json").read_text())
    assert len(history) == 1
    assert {"cls", "seg_dice", "cam_out", "busi_auc", "busbra_dice"} <= set(history[0])
    summary = json.loads((root / "run" / "summary.json").read_text())
    assert set(summary["data"]) == {"busi_npz", "busi_masks", "busbra_npz"}
    counts = summary["counts"]
    assert counts["train"]["busbra"]["n"] + counts["val"]["busbra"]["n"] == 28


def test_onnx_contract(exported: dict[str, object]) -> None:
    model = onnx.load(str(exported["output"]))
    onnx.checker.check_model(model)
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} == {17}
    (image,) = model.graph.input
    assert image.name == "image"
    assert image.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = image.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [128, 128, 3]
    outputs = {o.name: o.type.tensor_type for o in model.graph.output}
    assert set(outputs) == {"p_malignant", "cam", "lesion"}
    assert all(t.elem_type == onnx.TensorProto.FLOAT for t in outputs.values())
    meta = {p.key: p.value for p in model.metadata_props}
    assert {
        "model_version",
        "threshold",
        "positive_class",
        "input_contract",
        "training_data_sha256",
        "validation_metrics",
        "likelihood_bands",
        "calibration",
        "lesion_threshold",
    } <= set(meta)
    assert set(json.loads(meta["validation_metrics"])) == {"busi", "busbra"}
    bands = json.loads(meta["likelihood_bands"])
    assert sum(b["n_val"] for b in bands) == 8 + exported["summary"]["counts"]["val"]["busbra"]["n"]  # type: ignore[index]


def test_parity_and_the_service_adapter_accepts_both_variants(exported: dict[str, object]) -> None:
    from adapters.inference.onnx_classifier import OnnxTumorClassifier
    from ml.evaluate import run_onnx

    result = exported["result"]
    output = exported["output"]
    assert isinstance(result, dict)
    assert isinstance(output, Path)
    assert result["parity_max_abs"] <= 1e-4
    for path in (output, output.with_suffix(".int8.onnx")):
        classifier = OnnxTumorClassifier(path)
        assert classifier.model.threshold == pytest.approx(result["threshold"], abs=1e-6)
    images = np.random.default_rng(1).integers(0, 256, (3, 128, 128, 3), dtype=np.uint8)
    out = run_onnx(output, images)
    assert out["p_malignant"].shape == (3,)
    assert out["lesion"].shape == (3, 128, 128)
    assert np.all((out["lesion"] >= 0) & (out["lesion"] <= 1))
    assert np.all(out["cam"] >= 0)
    one = run_onnx(output, images[:1])  # dynamic batch
    assert one["p_malignant"][0] == pytest.approx(out["p_malignant"][0], abs=1e-5)
    assert set(result["latency"]["ms_per_image_median"]) >= {"fp32", "int8"}


def test_model_card_is_written(exported: dict[str, object]) -> None:
    card = (exported["root"] / "CARD.md").read_text()  # type: ignore[operator]
    for heading in (
        "## Intended use",
        "## Data",
        "## Performance on validation, per source",
        "## Operating point and likelihood bands",
        "## int8 variant and speed",
        "## Limitations and risks",
        "## How to reproduce",
    ):
        assert heading in card
    assert "Gómez-Flores" in card
    assert "Al-Dhabyani" in card
