"""The TumorClassifier contract on ONNX Runtime: a tiny contract model and the committed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.inference.onnx_classifier import OnnxTumorClassifier
from entrypoints.settings import DEFAULT_MODEL_PATH
from tests.contracts.tumor_classifier_contract import TumorClassifierContract
from tests.e2e.http.tiny_model import build_tiny_model

pytestmark = pytest.mark.integration


class TestOnnxTumorClassifierOnTinyModel(TumorClassifierContract):
    @pytest.fixture
    def tumor_classifier(self, tmp_path: Path) -> OnnxTumorClassifier:
        return OnnxTumorClassifier(build_tiny_model(tmp_path / "tiny.onnx"))


class TestOnnxTumorClassifierOnTinyModelWithoutLesionOutput(TumorClassifierContract):
    @pytest.fixture
    def tumor_classifier(self, tmp_path: Path) -> OnnxTumorClassifier:
        return OnnxTumorClassifier(build_tiny_model(tmp_path / "tiny.onnx", lesion=False))


class TestOnnxTumorClassifierOnCommittedModel(TumorClassifierContract):
    @pytest.fixture
    def tumor_classifier(self) -> OnnxTumorClassifier:
        path = Path(DEFAULT_MODEL_PATH)
        assert path.is_file(), f"the committed model {path} is missing (make train)"
        return OnnxTumorClassifier(path)
