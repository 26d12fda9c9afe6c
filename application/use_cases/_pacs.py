"""What the PACS use cases share: which DICOM objects are images the model reads, and filing
them into studies through AddImagesToStudy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from application.commands import (
    AddImagesToStudy,
    DicomObject,
    SkippedObject,
    StoredOutcome,
    Upload,
)
from application.ports import UnitOfWork
from domain.errors import ErrorCode, InvalidInput
from domain.predictions import Prediction
from domain.users import User

AddImages = Callable[[AddImagesToStudy], Awaitable[list[StoredOutcome]]]

# Storage SOP classes of the images analysed: ultrasound (and its retired forms), ultrasound
# multi-frame, and the secondary-capture classes scanners and PACS export screenshots with.
IMAGE_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.6.1",  # US Image Storage
        "1.2.840.10008.5.1.4.1.1.6",  # US Image Storage (retired)
        "1.2.840.10008.5.1.4.1.1.3.1",  # US Multi-frame Image Storage
        "1.2.840.10008.5.1.4.1.1.3",  # US Multi-frame Image Storage (retired)
        "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
        "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
        "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
    }
)
NOT_AN_IMAGE = "not_an_image"
ALREADY_ANALYSED = "already_analysed"


async def file_images(
    add_images: AddImages,
    uow: UnitOfWork,
    actor: User,
    objects: Sequence[DicomObject],
    client: str | None = None,
) -> tuple[list[Prediction], list[SkippedObject]]:
    """Analyse objects into the actor's studies of their StudyInstanceUIDs, in one
    AddImagesToStudy call (one transaction: all filed or none). Non-images, images already
    analysed there (the same SOP instance sent or imported again) and files the decoder
    refuses come back as skipped."""
    done = await _already_filed(uow, actor, {o.study_instance_uid for o in objects})
    skipped: list[SkippedObject] = []
    images: list[DicomObject] = []
    for item in objects:
        if item.sop_class_uid not in IMAGE_SOP_CLASSES:
            skipped.append(SkippedObject(item.sop_instance_uid, item.sop_class_uid, NOT_AN_IMAGE))
        elif _filename(item) in done:
            skipped.append(
                SkippedObject(item.sop_instance_uid, item.sop_class_uid, ALREADY_ANALYSED)
            )
        else:
            images.append(item)
    predictions: list[Prediction] = []
    if not images:
        return predictions, skipped
    try:
        outcomes = await add_images(
            AddImagesToStudy(
                actor=actor,
                study_id=None,
                uploads=tuple(Upload(filename=_filename(i), data=i.data) for i in images),
                client=client,
            )
        )
    except InvalidInput as error:
        if error.code is not ErrorCode.TOO_MANY_IMAGES:
            raise
        raise InvalidInput(
            f"{len(images)} images to analyse, more than the {error.params['count']} "
            "filed in one transaction; nothing was stored.",
            ErrorCode.TOO_MANY_IMAGES,
            **error.params,
        ) from None
    for item, outcome in zip(images, outcomes, strict=True):
        if outcome.prediction is not None:
            predictions.append(outcome.prediction)
        else:
            reason = str(outcome.error.code) if outcome.error else "refused"
            skipped.append(SkippedObject(item.sop_instance_uid, item.sop_class_uid, reason))
    return predictions, skipped


def _filename(item: DicomObject) -> str:
    """Analyses of PACS objects are named by SOP instance UID: what makes a resend known."""
    return f"{item.sop_instance_uid}.dcm"


async def _already_filed(uow: UnitOfWork, actor: User, study_uids: set[str]) -> set[str]:
    """The file names of the images already in the actor's studies of these UIDs."""
    async with uow:
        studies = [await uow.studies.get_by_uid(actor.id, uid) for uid in study_uids if uid]
        found = [s.id for s in studies if s is not None]
        images = await uow.studies.images(found) if found else {}
    return {p.filename for filed in images.values() for p in filed}
