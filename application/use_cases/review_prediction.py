"""ReviewPrediction: a clinician's BI-RADS, agreement with the model, and why."""

from __future__ import annotations

from application.commands import ReviewPrediction
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, visible_prediction
from domain.predictions import Prediction, Review
from domain.text import plain_text


class ReviewPredictionUseCase:
    """Record the owner's (or an admin's) review; the model's output stays as it was."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: ReviewPrediction) -> Prediction:
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
            review = Review(
                verdict=cmd.verdict,
                note=plain_text(cmd.note.strip(), "note", multiline=True),
                reviewer_id=cmd.actor.id,
                reviewed_at=self._clock.now(),
                birads=cmd.birads,
            )
            reviewed = prediction.reviewed(review)
            await uow.predictions.update_review(reviewed)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "prediction.reviewed",
                    actor_id=cmd.actor.id,
                    target_type="prediction",
                    target_id=prediction.id,
                    detail=f"verdict={review.verdict.value}"
                    + (f"; birads={review.birads.value}" if review.birads else ""),
                    client=cmd.client,
                )
            )
            await uow.commit()
        return reviewed
