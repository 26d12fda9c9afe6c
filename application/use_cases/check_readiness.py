"""CheckReadiness: may this process take traffic? The database and the model, with reasons."""

from __future__ import annotations

from collections.abc import Callable

from application.commands import CheckReadiness, Readiness
from application.ports import HealthProbe, TumorClassifier
from domain.errors import DatabaseUnavailable, ModelUnavailable


class CheckReadinessUseCase:
    """Ready when the database answers at this code's migration head and the model loads."""

    def __init__(self, probe: HealthProbe, classifier: Callable[[], TumorClassifier]) -> None:
        self._probe = probe
        self._classifier = classifier  # loads the model on first call; may raise

    async def __call__(self, cmd: CheckReadiness) -> Readiness:
        database = database_error = model = model_error = None
        try:
            database = await self._probe.check()
        except DatabaseUnavailable as error:
            database_error = error.message
        try:
            model = self._classifier().model
        except ModelUnavailable as error:
            model_error = error.message
        return Readiness(
            database=database, database_error=database_error, model=model, model_error=model_error
        )
