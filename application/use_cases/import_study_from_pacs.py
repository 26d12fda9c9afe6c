"""ImportStudyFromPacs: retrieve a study from the PACS (WADO-RS) and analyse its images."""

from __future__ import annotations

from application.commands import DicomObject, ImportStudyFromPacs, PacsImport
from application.ports import Clock, PacsClient, UnitOfWork
from application.use_cases._pacs import ALREADY_ANALYSED, AddImages, file_images
from application.use_cases._shared import audit_entry
from domain.errors import ErrorCode, InvalidInput, PacsUnavailable
from domain.studies import check_study_uid


class ImportStudyFromPacsUseCase:
    """Analyse a PACS study into the caller's study of the same StudyInstanceUID.

    Nothing is stored from a partial retrieve unless the caller accepts it; objects that are
    not images (reports, segmentations, presentation states) are skipped and named."""

    def __init__(
        self, pacs: PacsClient, add_images: AddImages, uow: UnitOfWork, clock: Clock
    ) -> None:
        self._pacs = pacs
        self._add_images = add_images
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: ImportStudyFromPacs) -> PacsImport:
        uid = check_study_uid(cmd.study_instance_uid)
        if uid is None:
            raise InvalidInput("Name the study to import.", ErrorCode.STUDY_UID_INVALID)
        retrieved = await self._pacs.retrieve_study(uid)
        if retrieved.missing and not cmd.accept_partial:
            missing, count = (
                len(retrieved.missing),
                len(retrieved.missing) + len(retrieved.instances),
            )
            raise PacsUnavailable(
                f"The PACS delivered only part of study {uid} ({missing} of {count} objects "
                "missing); nothing was stored.",
                ErrorCode.PACS_RETRIEVE_PARTIAL,
                missing=missing,
                count=count,
            )
        objects = [
            DicomObject(i.sop_instance_uid, i.sop_class_uid, uid, i.data)
            for i in retrieved.instances
        ]
        predictions, skipped = await file_images(
            self._add_images, self._uow, cmd.actor, objects, cmd.client
        )
        async with self._uow as uow:
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "pacs.imported",
                    actor_id=cmd.actor.id,
                    detail=f"analysed={len(predictions)}; skipped={len(skipped)}; "
                    f"missing={len(retrieved.missing)}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        if not predictions and all(s.reason != ALREADY_ANALYSED for s in skipped):
            raise InvalidInput(
                f"Study {uid} holds no image the model can read.",
                ErrorCode.PACS_NO_IMAGES,
                skipped=len(skipped),
            )
        return PacsImport(
            study_instance_uid=uid,
            study_ids=tuple(dict.fromkeys(p.study_id for p in predictions if p.study_id)),
            predictions=tuple(predictions),
            skipped=tuple(skipped),
            missing=retrieved.missing,
        )
