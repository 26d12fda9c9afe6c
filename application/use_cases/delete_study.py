"""DeleteStudy: remove a study and the analyses of its images."""

from __future__ import annotations

from application.commands import DeleteStudy
from application.ports import Clock, ImageStore, UnitOfWork
from application.use_cases._study_shared import study_entry, visible_study


class DeleteStudyUseCase:
    """Owners and admins delete a study: its images' predictions go with it, in one
    transaction, and their files after the commit once nothing else refers to them."""

    def __init__(self, uow: UnitOfWork, images: ImageStore, clock: Clock) -> None:
        self._uow = uow
        self._images = images
        self._clock = clock

    async def __call__(self, cmd: DeleteStudy) -> None:
        async with self._uow as uow:
            study = await visible_study(uow, cmd.actor, cmd.study_id)
            images = (await uow.studies.images([study.id]))[study.id]
            for prediction in images:
                await uow.predictions.delete(prediction.id)
            await uow.studies.delete(study.id)
            await uow.audit.record(
                study_entry(
                    self._clock,
                    "study.deleted",
                    cmd.actor,
                    study,
                    cmd.client,
                    detail=f"owner={study.owner_id}; images={len(images)}",
                )
            )
            await uow.commit()
        # Re-counted in a fresh transaction, as DeletePrediction does: a file another
        # prediction came to use meanwhile stays.
        files = {sha256 for prediction in images for sha256 in prediction.stored_files}
        async with self._uow as uow:
            unused = [f for f in files if await uow.predictions.count_with_image(f) == 0]
        for sha256 in unused:
            await self._images.delete(sha256)
