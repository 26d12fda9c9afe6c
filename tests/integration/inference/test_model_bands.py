"""The ONNX adapter reads the likelihood bands, borderline margin and sensitivity floor from a
model's metadata: the committed model's own, the fallback without them, a refusal when broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.inference.onnx_classifier import OnnxTumorClassifier
from domain.bands import DEFAULT_BORDERLINE_MARGIN, FALLBACK_BANDS, BandName
from domain.errors import ModelUnavailable
from tests.integration.inference.test_onnx_classifier import METADATA, tiny_model

pytestmark = pytest.mark.integration

COMMITTED = Path(__file__).resolve().parents[3] / "models" / "breast-cnn.onnx"


def test_the_committed_model_states_its_bands_margin_and_floor() -> None:
    info = OnnxTumorClassifier(COMMITTED).model
    assert [b.name for b in info.bands] == list(BandName)
    assert [b.upper for b in info.bands] == [0.02, 0.1, 0.5, 0.95, 1.0]
    assert all(b.observed_count is not None for b in info.bands)
    assert sum(b.observed_count or 0 for b in info.bands) == 346  # the validation images
    assert info.borderline_margin == pytest.approx(0.07)  # the largest validation ECE
    assert info.sensitivity_floor == pytest.approx(0.90)


def test_a_model_without_bands_gets_the_fallback(tmp_path: Path) -> None:
    info = OnnxTumorClassifier(tiny_model(tmp_path / "plain.onnx")).model
    assert info.bands == FALLBACK_BANDS
    assert info.borderline_margin == DEFAULT_BORDERLINE_MARGIN
    assert info.sensitivity_floor is None


def test_broken_bands_refuse_the_model(tmp_path: Path) -> None:
    bands = [{"name": "low", "lower": 0.0, "upper": 1.0}]
    path = tiny_model(tmp_path / "bad.onnx", METADATA | {"likelihood_bands": json.dumps(bands)})
    with pytest.raises(ModelUnavailable, match="likelihood_bands"):
        OnnxTumorClassifier(path)
