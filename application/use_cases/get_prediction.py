"""GetPrediction: one stored analysis, if the caller may see it."""

from __future__ import annotations

from application.commands import GetPrediction
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, visible_prediction
from domain.predictions import Prediction


class GetPredictionUseCase:
    """Owners and admins read a prediction; for anyone else it does not exist. Audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: GetPrediction) -> Prediction:
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "prediction.viewed",
                    actor_id=cmd.actor.id,
                    target_type="prediction",
                    target_id=prediction.id,
                    client=cmd.client,
                )
            )
            await uow.commit()
        return prediction
