"""End to end on a tiny dataset: ingest -> train 1 epoch -> export -> contract + parity."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from tests.ci import unavailable
from tests.ml.support import sample_images

pytestmark = [pytest.mark.ml, pytest.mark.slow]

if importlib.util.find_spec("tensorflow") is None:  # the `ml` extra is optional
    unavailable("TensorFlow is not installed: pip install -e '.[ml]'", module_level=True)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from ml import export, train
    from ml.preprocessing import ingest_folder, save_npz
    from ml.settings import load_config

    root = tmp_path_factory.mktemp("pipeline")
    images, malignant = sample_images(n_malignant=9, n_other=15, seed=3)
    order = np.random.default_rng(0).permutation(len(images))
    for rank, i in enumerate(order):
        split = "val" if rank % 3 == 0 else "train"
        cls = "malignant" if malignant[i] else ("benign" if i % 2 else "normal")
        folder = root / "raw" / split / cls
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(folder / f"{i}.png")
    (root / "raw" / "train" / "benign" / "broken.png").write_bytes(b"garbage")
    report = ingest_folder(root / "raw")
    assert [Path(d.path).name for d in report.dropped] == ["broken.png"]
    npz = root / "tiny.npz"
    save_npz(npz, report.splits)

    cfg = load_config(
        overrides=[
            f"data.npz={npz}",
            f"output_dir={root / 'run'}",
            "train.folds=2",
            "train.epochs=1",
            "train.batch_size=8",
            "model.filters=[8,8,16]",
            "eval.bootstrap=50",
        ]
    )
    with pytest.MonkeyPatch.context() as mp:  # the explicit tiny npz, whatever the env says
        mp.delenv("BREASTSCAN_DATA_DIR", raising=False)
        mp.delenv("BREASTSCAN_SHARED_DIR", raising=False)
        summary = train.run(cfg)
        output = root / "model.onnx"
        result = export.run(root / "run", output, root / "CARD.md", n_boot=50)
    return {"summary": summary, "result": result, "output": output, "npz": npz, "root": root}


def test_training_writes_members_history_and_summary(exported: dict[str, object]) -> None:
    root = exported["root"]
    summary = exported["summary"]
    assert isinstance(root, Path)
    assert isinstance(summary, dict)
    assert summary["folds"] == 2
    assert len(summary["members"]) == 2
    for k in range(2):
        assert (root / "run" / f"member_{k}" / "model.keras").is_file()
        assert (root / "run" / f"member_{k}" / "history.csv").is_file()
    assert json.loads((root / "run" / "summary.json").read_text())["data"]["sha256"]


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
    assert set(outputs) == {"p_malignant", "cam"}
    assert all(t.elem_type == onnx.TensorProto.FLOAT for t in outputs.values())
    keys = {p.key for p in model.metadata_props}
    assert {
        "model_version",
        "threshold",
        "positive_class",
        "input_contract",
        "training_data_sha256",
        "validation_metrics",
    } <= keys


def test_parity_through_the_service_adapter(exported: dict[str, object]) -> None:
    from adapters.inference.onnx_classifier import OnnxTumorClassifier
    from ml.data import load_npz_splits
    from ml.export import keras_predict, load_members

    result = exported["result"]
    assert isinstance(result, dict)
    assert result["parity_max_dp"] <= 1e-4
    classifier = OnnxTumorClassifier(exported["output"])  # type: ignore[arg-type]
    val = load_npz_splits(exported["npz"])["val"]  # type: ignore[arg-type]
    p_onnx, cam = classifier.run(val.images)
    p_keras = keras_predict(load_members(exported["root"] / "run"), val.images)  # type: ignore[operator]
    assert float(np.max(np.abs(p_onnx - p_keras))) <= 1e-4
    assert cam.shape[0] == len(val)
    assert np.all(cam >= 0)
    one, _ = classifier.run(val.images[:1])  # dynamic batch
    assert one[0] == pytest.approx(p_onnx[0], abs=1e-5)
    assert classifier.model.threshold == pytest.approx(result["threshold"], abs=1e-6)


def test_model_card_is_written(exported: dict[str, object]) -> None:
    card = (exported["root"] / "CARD.md").read_text()  # type: ignore[operator]
    for heading in (
        "## Intended use",
        "## Label mapping",
        "## Operating point",
        "## Limitations and risks",
        "## How to reproduce",
    ):
        assert heading in card
