"""RecordOutcome: what pathology (or follow-up) later showed for an analysed image."""

from __future__ import annotations

from application.commands import RecordOutcome
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, visible_prediction
from domain.outcomes import Outcome
from domain.predictions import Prediction
from domain.text import plain_text


class RecordOutcomeUseCase:
    """Record or replace the outcome; the owner and admins may, like the review."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: RecordOutcome) -> Prediction:
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
            outcome = Outcome(
                result=cmd.result,
                source=cmd.source,
                outcome_date=cmd.outcome_date,
                recorded_by=cmd.actor.id,
                recorded_at=self._clock.now(),
                histology=plain_text(cmd.histology.strip(), "histology"),
            )
            updated = prediction.with_outcome(outcome)
            await uow.predictions.update_outcome(updated)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "prediction.outcome_recorded",
                    actor_id=cmd.actor.id,
                    target_type="prediction",
                    target_id=prediction.id,
                    detail=f"result={outcome.result.value}; source={outcome.source.value}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        return updated
