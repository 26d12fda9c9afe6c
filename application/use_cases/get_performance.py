"""GetPerformance: the model and the clinicians against recorded outcomes (post-market)."""

from __future__ import annotations

from application.commands import GetPerformance
from application.ports import PerformanceReader, TumorClassifier
from application.use_cases._shared import scoped_query
from domain.performance import Performance, performance


class GetPerformanceUseCase:
    """Figures over the caller's predictions with outcomes (everyone's for admins), with the
    warning floor the current model was validated for."""

    def __init__(self, reader: PerformanceReader, classifier: TumorClassifier) -> None:
        self._reader = reader
        self._classifier = classifier

    async def __call__(self, cmd: GetPerformance) -> Performance:
        points = await self._reader.outcome_points(scoped_query(cmd.actor, cmd.filters))
        return performance(points, self._classifier.model.sensitivity_floor)
