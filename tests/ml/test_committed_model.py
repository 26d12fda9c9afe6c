"""The committed models/breast-cnn.onnx honours the contract and its recorded validation AUC."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from adapters.inference.onnx_classifier import OnnxTumorClassifier
from ml.data import load_npz_splits, sha256_file
from ml.metrics import roc_auc
from tests.ci import unavailable
from tests.ml.support import MODEL_PATH, require_shared_data

pytestmark = pytest.mark.integration

REQUIRED_KEYS = {
    "model_version",
    "threshold",
    "positive_class",
    "input_contract",
    "training_data_sha256",
    "validation_metrics",
}


@pytest.fixture(scope="module")
def classifier() -> OnnxTumorClassifier:
    if not MODEL_PATH.is_file():
        unavailable(f"{MODEL_PATH} is missing: run `make train` (see ml/README.md)")
    return OnnxTumorClassifier(MODEL_PATH)


def test_contract_and_metadata(classifier: OnnxTumorClassifier) -> None:
    model = onnx.load(str(MODEL_PATH))
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} == {17}
    assert [i.name for i in model.graph.input] == ["image"]
    assert {o.name for o in model.graph.output} == {"p_malignant", "cam"}
    assert set(classifier.metadata) >= REQUIRED_KEYS
    assert classifier.model.positive_class == "malignant"
    assert 0.0 < classifier.model.threshold < 1.0
    assert MODEL_PATH.stat().st_size < 10_000_000


def test_dynamic_batch_and_output_ranges(classifier: OnnxTumorClassifier) -> None:
    rng = np.random.default_rng(0)
    for n in (1, 3):
        batch = rng.integers(0, 256, (n, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3), dtype=np.uint8)
        p, cam = classifier.run(batch)
        assert p.shape == (n,)
        assert np.all((p >= 0) & (p <= 1))
        assert cam.ndim == 3
        assert cam.shape[0] == n
        assert np.all(cam >= 0)


def test_recorded_validation_auc_reproduces(classifier: OnnxTumorClassifier) -> None:
    npz = require_shared_data()
    assert sha256_file(npz) == classifier.metadata["training_data_sha256"]
    val = load_npz_splits(npz, malignant_label=0)["val"]
    p, _ = classifier.run(val.images)
    recorded = json.loads(classifier.metadata["validation_metrics"])["auc"]["value"]
    assert roc_auc(val.malignant, p) == pytest.approx(recorded, abs=0.005)
