"""What the PACS use cases share: which DICOM objects are images the model reads, and filing
them into studies through AddImagesToStudy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from application.commands import AddImagesToStudy, SkippedObject, StoredOutcome, Upload
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
BATCH = 8  # within AddImagesToStudy's batch limit (max_files_per_request)


async def file_images(
    add_images: AddImages,
    actor: User,
    objects: Sequence[tuple[str, str, bytes]],
    client: str | None = None,
) -> tuple[list[Prediction], list[SkippedObject]]:
    """Analyse (sop_instance_uid, sop_class_uid, Part 10) objects into the actor's studies of
    their StudyInstanceUIDs; non-images and refused files come back as skipped."""
    skipped = [
        SkippedObject(uid, sop_class, NOT_AN_IMAGE)
        for uid, sop_class, _ in objects
        if sop_class not in IMAGE_SOP_CLASSES
    ]
    images = [item for item in objects if item[1] in IMAGE_SOP_CLASSES]
    predictions: list[Prediction] = []
    for start in range(0, len(images), BATCH):
        chunk = images[start : start + BATCH]
        outcomes = await add_images(
            AddImagesToStudy(
                actor=actor,
                study_id=None,
                uploads=tuple(Upload(filename=f"{uid}.dcm", data=data) for uid, _, data in chunk),
                client=client,
            )
        )
        for (uid, sop_class, _), outcome in zip(chunk, outcomes, strict=True):
            if outcome.prediction is not None:
                predictions.append(outcome.prediction)
            else:
                reason = str(outcome.error.code) if outcome.error else "refused"
                skipped.append(SkippedObject(uid, sop_class, reason))
    return predictions, skipped
