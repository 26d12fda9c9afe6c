"""DeletePrediction: remove an analysis, and its stored files once nothing refers to them."""

from __future__ import annotations

from application.commands import DeletePrediction
from application.ports import Clock, ImageStore, UnitOfWork
from application.use_cases._shared import audit_entry, visible_prediction


class DeletePredictionUseCase:
    """Owners and admins delete a prediction; its image (and DICOM copy) go after the commit."""

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
            unused = [
                sha256
                for sha256 in prediction.stored_files
                if await uow.predictions.count_with_image(sha256) == 0
            ]
        for sha256 in unused:
            await self._images.delete(sha256)
