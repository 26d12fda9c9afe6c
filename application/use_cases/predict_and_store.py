"""PredictAndStore: analyse a batch of images and keep each result for later review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID, uuid4

from application.commands import PredictAndStore, StoredOutcome, Upload
from application.ports import (
    Clock,
    DecodedImage,
    ImageDecoder,
    ImageStore,
    TumorClassifier,
    UnitOfWork,
)
from application.use_cases._shared import assess, audit_entry, clean_filename
from domain.errors import ErrorCode, InvalidImage, InvalidInput, ModelUnavailable
from domain.predictions import Prediction
from domain.studies import ImagePosition
from domain.users import User

DEFAULT_MAX_BATCH = 32


@dataclass(frozen=True, slots=True)
class _Accepted:
    index: int
    filename: str
    image: DecodedImage
    dicom_sha256: str | None = None  # content address of a DICOM upload's de-identified copy


@dataclass(frozen=True, slots=True)
class Filing:
    """Whose analysis an image becomes, and the study and position it is filed under."""

    owner_id: UUID
    study_id: UUID | None = None
    position: ImagePosition | None = None


class Filer(Protocol):
    """Decides, inside the storing transaction, where the accepted upload `index` goes;
    raising InvalidImage refuses that file alone."""

    async def __call__(
        self, uow: UnitOfWork, index: int, filename: str, image: DecodedImage
    ) -> Filing: ...


class PredictAndStoreUseCase:
    """Store one prediction per decodable upload; a bad file is reported, never sinks the batch."""

    def __init__(
        self,
        uow: UnitOfWork,
        decoder: ImageDecoder,
        classifier: TumorClassifier,
        images: ImageStore,
        clock: Clock,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._uow = uow
        self._decoder = decoder
        self._classifier = classifier
        self._images = images
        self._clock = clock
        self._max_batch = max_batch

    async def __call__(self, cmd: PredictAndStore) -> list[StoredOutcome]:
        return await self.store(cmd.actor, cmd.uploads, cmd.client)

    async def store(
        self,
        actor: User,
        uploads: Sequence[Upload],
        client: str | None,
        filer: Filer | None = None,
    ) -> list[StoredOutcome]:
        """Loose uploads of `actor`, or filed where `filer` says (AddImagesToStudy)."""
        if not uploads:
            raise InvalidInput("Send at least one image.", ErrorCode.NO_IMAGE)
        if len(uploads) > self._max_batch:
            raise InvalidInput(
                f"Send at most {self._max_batch} images at once.",
                ErrorCode.TOO_MANY_IMAGES,
                count=self._max_batch,
            )

        outcomes: list[StoredOutcome | None] = [None] * len(uploads)
        accepted: list[_Accepted] = []
        for index, upload in enumerate(uploads):
            filename = clean_filename(upload.filename)
            try:
                image = await self._decoder.decode(upload.data, filename, frame=upload.frame)
            except InvalidImage as error:
                outcomes[index] = StoredOutcome(filename=filename, error=error)
            else:
                digest = None if image.dicom is None else image.dicom.deidentified_sha256
                accepted.append(_Accepted(index, filename, image, digest))

        if accepted:
            results = await self._classifier.classify([a.image for a in accepted])
            if len(results) != len(accepted):
                raise ModelUnavailable("The model returned fewer results than images.")
            model = self._classifier.model
            # Images (and DICOM uploads' de-identified copies) are stored before the transaction
            # opens (file IO never holds a database write lock) and before the commit: a failed
            # commit leaves an unreferenced file, never a prediction whose file is missing.
            for item in accepted:
                await self._images.put(item.image.sha256, item.image.stored_image)
                if item.image.dicom is not None and item.dicom_sha256 is not None:
                    await self._images.put(item.dicom_sha256, item.image.dicom.deidentified)
            async with self._uow as uow:
                for item, result in zip(accepted, results, strict=True):
                    try:
                        filing = await (filer or _loose(actor))(
                            uow, item.index, item.filename, item.image
                        )
                    except InvalidImage as error:
                        outcomes[item.index] = StoredOutcome(filename=item.filename, error=error)
                        continue
                    assessment = assess(result.p_malignant, model)
                    dicom = item.image.dicom
                    prediction = Prediction(
                        id=uuid4(),
                        owner_id=filing.owner_id,
                        filename=item.filename,
                        image_sha256=item.image.sha256,
                        p_malignant=assessment.p_malignant,
                        threshold=assessment.threshold,
                        model_version=assessment.model_version,
                        created_at=self._clock.now(),
                        lesion=result.lesion,
                        stored_likelihood=assessment.likelihood,
                        study_id=filing.study_id,
                        position=filing.position,
                        dicom_sha256=item.dicom_sha256,
                        frame_index=None if dicom is None else dicom.frame_index,
                        frame_count=None if dicom is None else dicom.frame_count,
                    )
                    await uow.predictions.add(prediction, result.cam)
                    await uow.audit.record(
                        audit_entry(
                            self._clock,
                            "prediction.created",
                            actor_id=actor.id,
                            target_type="prediction",
                            target_id=prediction.id,
                            detail=f"label={prediction.label.value}; model={model.version}"
                            + (f"; study={filing.study_id}" if filing.study_id else ""),
                            client=client,
                        )
                    )
                    outcomes[item.index] = StoredOutcome(
                        filename=item.filename, prediction=prediction
                    )
                await uow.commit()
        return [outcome for outcome in outcomes if outcome is not None]


def _loose(actor: User) -> Filer:
    """Loose uploads (POST /api/predictions): the actor's, in no study."""

    async def file(uow: UnitOfWork, index: int, filename: str, image: DecodedImage) -> Filing:
        return Filing(actor.id)

    return file
