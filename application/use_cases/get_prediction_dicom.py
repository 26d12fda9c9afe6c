"""GetPredictionDicom: the de-identified DICOM copy an analysis was made from."""

from __future__ import annotations

from application.commands import GetPredictionDicom
from application.ports import Clock, ImageStore, UnitOfWork
from application.use_cases._shared import audit_entry, visible_prediction
from domain.errors import ErrorCode, NotFound


class GetPredictionDicomUseCase:
    """Part 10 bytes of the stored copy (basic profile, UIDs retained) for owners and admins,
    so the source can be fetched again without the clinic's archive. Audited."""

    def __init__(self, uow: UnitOfWork, images: ImageStore, clock: Clock) -> None:
        self._uow = uow
        self._images = images
        self._clock = clock

    async def __call__(self, cmd: GetPredictionDicom) -> bytes:
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
            if prediction.dicom_sha256 is None:
                raise NotFound(
                    "This analysis was not made from a DICOM file.", ErrorCode.DICOM_NOT_STORED
                )
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "prediction.dicom_downloaded",
                    actor_id=cmd.actor.id,
                    target_type="prediction",
                    target_id=prediction.id,
                    client=cmd.client,
                )
            )
            await uow.commit()
        return await self._images.get(prediction.dicom_sha256)
