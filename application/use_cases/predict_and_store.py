"""PredictAndStore: analyse a batch of images and keep each result for later review."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from application.commands import PredictAndStore, StoredOutcome
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

DEFAULT_MAX_BATCH = 32


@dataclass(frozen=True, slots=True)
class _Accepted:
    index: int
    filename: str
    image: DecodedImage


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
        if not cmd.uploads:
            raise InvalidInput("Send at least one image.", ErrorCode.NO_IMAGE)
        if len(cmd.uploads) > self._max_batch:
            raise InvalidInput(
                f"Send at most {self._max_batch} images at once.",
                ErrorCode.TOO_MANY_IMAGES,
                count=self._max_batch,
            )

        outcomes: list[StoredOutcome | None] = [None] * len(cmd.uploads)
        accepted: list[_Accepted] = []
        for index, upload in enumerate(cmd.uploads):
            filename = clean_filename(upload.filename)
            try:
                image = await self._decoder.decode(upload.data, filename)
            except InvalidImage as error:
                outcomes[index] = StoredOutcome(filename=filename, error=error)
            else:
                accepted.append(_Accepted(index, filename, image))

        if accepted:
            results = await self._classifier.classify([a.image for a in accepted])
            if len(results) != len(accepted):
                raise ModelUnavailable("The model returned fewer results than images.")
            model = self._classifier.model
            # Images are stored before the transaction opens (file IO never holds a database
            # write lock) and before the commit: a failed commit leaves an unreferenced file,
            # never a prediction whose image is missing.
            for item in accepted:
                await self._images.put(item.image.sha256, item.image.stored_image)
            async with self._uow as uow:
                for item, result in zip(accepted, results, strict=True):
                    assessment = assess(result.p_malignant, model)
                    prediction = Prediction(
                        id=uuid4(),
                        owner_id=cmd.actor.id,
                        filename=item.filename,
                        image_sha256=item.image.sha256,
                        p_malignant=assessment.p_malignant,
                        threshold=assessment.threshold,
                        model_version=assessment.model_version,
                        created_at=self._clock.now(),
                        lesion=result.lesion,
                        stored_likelihood=assessment.likelihood,
                    )
                    await uow.predictions.add(prediction, result.cam)
                    await uow.audit.record(
                        audit_entry(
                            self._clock,
                            "prediction.created",
                            actor_id=cmd.actor.id,
                            target_type="prediction",
                            target_id=prediction.id,
                            detail=f"label={prediction.label.value}; model={model.version}",
                            client=cmd.client,
                        )
                    )
                    outcomes[item.index] = StoredOutcome(
                        filename=item.filename, prediction=prediction
                    )
                await uow.commit()
        return [outcome for outcome in outcomes if outcome is not None]
