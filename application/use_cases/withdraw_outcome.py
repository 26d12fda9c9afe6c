"""WithdrawOutcome: remove an outcome recorded by mistake."""

from __future__ import annotations

from application.commands import WithdrawOutcome
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, visible_prediction
from domain.predictions import Prediction


class WithdrawOutcomeUseCase:
    """Remove the outcome (if any); the owner and admins may. The audit keeps the trace."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: WithdrawOutcome) -> Prediction:
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
            updated = prediction.with_outcome(None)
            await uow.predictions.update_outcome(updated)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "prediction.outcome_withdrawn",
                    actor_id=cmd.actor.id,
                    target_type="prediction",
                    target_id=prediction.id,
                    detail="" if prediction.outcome is None else f"was={prediction.outcome.result}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        return updated
