"""The committed models (fp32 and int8) honour the contract and reproduce their recorded metrics."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnx
import pytest

from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from adapters.inference.onnx_classifier import OnnxTumorClassifier
from ml.data import DATA_KEYS, Source, load_sources, sha256_file
from ml.evaluate import evaluate_model, run_onnx
from ml.settings import data_path, load_config
from tests.ci import unavailable
from tests.ml.support import MODEL_PATH

pytestmark = pytest.mark.integration

INT8_PATH = MODEL_PATH.with_suffix(".int8.onnx")
REQUIRED_KEYS = {
    "model_version",
    "threshold",
    "positive_class",
    "input_contract",
    "training_data_sha256",
    "validation_metrics",
    "likelihood_bands",
    "calibration",
    "lesion_threshold",
}


@pytest.fixture(scope="module")
def metadata() -> dict[str, str]:
    if not MODEL_PATH.is_file():
        unavailable(f"{MODEL_PATH} is missing: run `make train` (see ml/README.md)")
    OnnxTumorClassifier(MODEL_PATH)  # the service adapter accepts it
    return {p.key: p.value for p in onnx.load(str(MODEL_PATH)).metadata_props}


@pytest.fixture(scope="module")
def validation(metadata: dict[str, str]) -> dict[str, Source]:
    cfg = load_config()
    recorded = json.loads(metadata["training_data_sha256"])
    for key in DATA_KEYS:
        path = data_path(cfg, key)
        if not path.is_file():
            unavailable(f"shared dataset not found at {path} (set BREASTSCAN_SHARED_DIR)")
        assert sha256_file(path) == recorded[key], (
            f"{path} is not the data the model was trained on"
        )
    return load_sources(cfg)["val"]


def test_contract_and_metadata(metadata: dict[str, str]) -> None:
    model = onnx.load(str(MODEL_PATH))
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} == {17}
    assert [i.name for i in model.graph.input] == ["image"]
    assert {o.name for o in model.graph.output} == {"p_malignant", "cam", "lesion"}
    assert set(metadata) >= REQUIRED_KEYS
    assert metadata["passes_per_image"] == "1"
    assert 0.0 < float(metadata["threshold"]) < 1.0
    bands = json.loads(metadata["likelihood_bands"])
    assert [b["lower"] for b in bands[1:]] == [b["upper"] for b in bands[:-1]]
    assert bands[0]["lower"] == 0.0
    assert bands[-1]["upper"] == 1.0
    assert MODEL_PATH.stat().st_size < 10_000_000


def test_output_shapes_and_ranges_on_a_dynamic_batch(metadata: dict[str, str]) -> None:
    rng = np.random.default_rng(0)
    for path in (MODEL_PATH, INT8_PATH):
        for n in (1, 3):
            batch = rng.integers(0, 256, (n, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3), dtype=np.uint8)
            out = run_onnx(path, batch)
            assert out["p_malignant"].shape == (n,)
            assert np.all((out["p_malignant"] >= 0) & (out["p_malignant"] <= 1))
            assert out["cam"].ndim == 3
            assert out["cam"].shape[0] == n
            assert np.all(out["cam"] >= 0)
            assert out["lesion"].shape == (n, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)
            assert np.all((out["lesion"] >= 0) & (out["lesion"] <= 1))


def _metrics(path: Any, validation: dict[str, Source]) -> dict[str, Any]:
    sources: dict[str, Any] = evaluate_model(path, validation, None, n_boot=1)["sources"]
    return sources


def test_recorded_validation_metrics_reproduce(
    metadata: dict[str, str], validation: dict[str, Source]
) -> None:
    recorded = json.loads(metadata["validation_metrics"])
    measured = _metrics(MODEL_PATH, validation)
    assert set(measured) == set(recorded) == {"busi", "busbra"}
    for name, m in measured.items():
        assert m["auc"]["value"] == pytest.approx(recorded[name]["auc"], abs=0.005)
        assert m["dice"] == pytest.approx(recorded[name]["dice"], abs=0.005)
        assert m["sensitivity"]["value"] >= 0.90  # the threshold's goal, on each source
        assert m["cam_pointing_malignant"] == pytest.approx(
            recorded[name]["cam_pointing_malignant"], abs=0.01
        )


def test_int8_variant_stays_close_to_fp32(
    metadata: dict[str, str], validation: dict[str, Source]
) -> None:
    assert {p.key: p.value for p in onnx.load(str(INT8_PATH)).metadata_props}[
        "model_version"
    ] == metadata["model_version"]
    OnnxTumorClassifier(INT8_PATH)
    fp32 = json.loads(metadata["validation_metrics"])
    int8 = _metrics(INT8_PATH, validation)
    for name, m in int8.items():
        assert m["auc"]["value"] == pytest.approx(fp32[name]["auc"], abs=0.01)
        assert m["dice"] == pytest.approx(fp32[name]["dice"], abs=0.02)
