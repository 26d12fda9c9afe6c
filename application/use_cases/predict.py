"""Predict: analyse one image without storing anything."""

from __future__ import annotations

from application.commands import Analysis, Predict
from application.ports import ImageDecoder, TumorClassifier
from application.use_cases._shared import assess, clean_filename
from domain.errors import ModelUnavailable


class PredictUseCase:
    """Decode and classify one upload; the result is returned, never kept."""

    def __init__(self, decoder: ImageDecoder, classifier: TumorClassifier) -> None:
        self._decoder = decoder
        self._classifier = classifier

    async def __call__(self, cmd: Predict) -> Analysis:
        filename = clean_filename(cmd.upload.filename)
        image = await self._decoder.decode(cmd.upload.data, filename, frame=cmd.upload.frame)
        results = await self._classifier.classify([image])
        if len(results) != 1:
            raise ModelUnavailable("The model returned no result for the image.")
        return Analysis(
            filename=filename,
            assessment=assess(results[0].p_malignant, self._classifier.model),
            cam=results[0].cam,
            image_sha256=image.sha256,
            width=image.width,
            height=image.height,
            lesion=results[0].lesion,
            frame_index=None if image.dicom is None else image.dicom.frame_index,
            frame_count=None if image.dicom is None else image.dicom.frame_count,
        )
