"""PlaceStudyImage: say where an image of a study was taken, after it was analysed."""

from __future__ import annotations

from dataclasses import replace

from application.commands import PlaceStudyImage
from application.ports import Clock, UnitOfWork
from application.use_cases._study_shared import study_entry, visible_study
from domain.predictions import Prediction, prediction_not_found


class PlaceStudyImageUseCase:
    """Set or clear an image's position (e.g. the lesion number of a DICOM view, whose header
    gives only the side); the model's output is never changed. Audited."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: PlaceStudyImage) -> Prediction:
        async with self._uow as uow:
            study = await visible_study(uow, cmd.actor, cmd.study_id)
            prediction = await uow.predictions.get(cmd.prediction_id)
            if prediction is None or prediction.study_id != study.id:
                raise prediction_not_found()
            await uow.studies.place(prediction.id, cmd.position)
            await uow.audit.record(
                study_entry(
                    self._clock,
                    "study.image_placed",
                    cmd.actor,
                    study,
                    cmd.client,
                    detail=f"prediction={prediction.id}",
                )
            )
            await uow.commit()
        return replace(prediction, position=cmd.position)
