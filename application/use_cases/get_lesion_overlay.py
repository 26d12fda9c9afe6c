"""GetLesionOverlay: the stored image of an analysis with the model's lesion outline drawn on it."""

from __future__ import annotations

from application.commands import GetLesionOverlay
from application.ports import ImageStore, LesionRenderer, UnitOfWork
from application.use_cases._shared import visible_prediction
from domain.errors import ErrorCode, NotFound


class GetLesionOverlayUseCase:
    """PNG of the stored image with the lesion outline; NotFound when no lesion was found."""

    def __init__(self, uow: UnitOfWork, images: ImageStore, renderer: LesionRenderer) -> None:
        self._uow = uow
        self._images = images
        self._renderer = renderer

    async def __call__(self, cmd: GetLesionOverlay) -> bytes:
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
        if prediction.lesion is None or not prediction.lesion.found:
            raise NotFound(
                "No lesion outline is stored for this analysis.", ErrorCode.LESION_NOT_FOUND
            )
        png = await self._images.get(prediction.image_sha256)
        return await self._renderer.render(png, prediction.lesion)
