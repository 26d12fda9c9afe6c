"""GetPredictionImage: the stored image of an analysis, plain or with its heatmap."""

from __future__ import annotations

from application.commands import GetPredictionImage
from application.ports import HeatmapRenderer, ImageStore, UnitOfWork
from application.use_cases._shared import visible_prediction
from domain.errors import ErrorCode, InvalidInput, NotFound


class GetPredictionImageUseCase:
    """PNG bytes of the stored image, or of its class-activation overlay."""

    def __init__(self, uow: UnitOfWork, images: ImageStore, renderer: HeatmapRenderer) -> None:
        self._uow = uow
        self._images = images
        self._renderer = renderer

    async def __call__(self, cmd: GetPredictionImage) -> bytes:
        if not 0.0 <= cmd.opacity <= 1.0:
            raise InvalidInput("Opacity must lie in [0, 1].", ErrorCode.OPACITY_INVALID)
        async with self._uow as uow:
            prediction = await visible_prediction(uow, cmd.actor, cmd.prediction_id)
            cam = await uow.predictions.get_cam(prediction.id) if cmd.heatmap else None
        if cmd.heatmap and not cam:
            raise NotFound("No heatmap is stored for this analysis.", ErrorCode.HEATMAP_NOT_STORED)
        png = await self._images.get(prediction.image_sha256)
        if cam:
            return await self._renderer.render(png, cam, cmd.opacity)
        return png
