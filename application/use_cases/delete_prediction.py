"""DeletePrediction: remove an analysis, and its image once nothing refers to it."""

from __future__ import annotations

from application.commands import DeletePrediction
from application.ports import Clock, ImageStore, UnitOfWork
from application.use_cases._shared import audit_entry, visible_prediction


class DeletePredictionUseCase:
    """Owners and admins delete a prediction; the image file goes after the commit."""

    def __init__(self, uow: UnitOfWork, images: ImageStore, clock: Clock) -> None:
        self._uow = uow
        self._images = images
        self._clock = clock

    async def __call__(self, cmd: DeletePrediction) -> None:
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
            await uow.predictions.delete(prediction.id)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "prediction.deleted",
                    actor_id=cmd.actor.id,
                    target_type="prediction",
                    target_id=prediction.id,
                    detail=f"owner={prediction.owner_id}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        # Re-count after the commit, in a fresh transaction: another upload of the same image
        # may have been stored meanwhile, and its prediction must keep its file.
        async with self._uow as uow:
            still_used = await uow.predictions.count_with_image(prediction.image_sha256)
        if still_used == 0:
            await self._images.delete(prediction.image_sha256)
