"""SweepImages: delete stored image files no prediction refers to (left by failed commits)."""

from __future__ import annotations

from datetime import timedelta

from application.commands import SweepImages
from application.ports import Clock, ImageStore, UnitOfWork

BATCH = 500


class SweepImagesUseCase:
    """Images are written before the transaction that refers to them commits; when it fails
    (a database outage) the file stays. Images untouched for the grace period and referred to
    by no prediction are deleted; one written or re-put since is kept (it is about to be used)."""

    def __init__(self, uow: UnitOfWork, images: ImageStore, clock: Clock) -> None:
        self._uow = uow
        self._images = images
        self._clock = clock

    async def __call__(self, cmd: SweepImages) -> int:
        cutoff = self._clock.now() - timedelta(seconds=cmd.grace_seconds)
        candidates = await self._images.stored_before(cutoff)
        deleted = 0
        for start in range(0, len(candidates), BATCH):
            batch = candidates[start : start + BATCH]
            async with self._uow as uow:
                in_use = await uow.predictions.images_in_use(batch)
            for digest in batch:
                if digest not in in_use and await self._images.delete_if_stored_before(
                    digest, cutoff
                ):
                    deleted += 1
        return deleted
