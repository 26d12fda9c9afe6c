"""DescribeModel: which model answers, at which threshold, with which validation metrics."""

from __future__ import annotations

from application.commands import DescribeModel
from application.ports import ModelInfo, TumorClassifier


class DescribeModelUseCase:
    """The loaded model's version, threshold and metadata."""

    def __init__(self, classifier: TumorClassifier) -> None:
        self._classifier = classifier

    async def __call__(self, cmd: DescribeModel) -> ModelInfo:
        return self._classifier.model
