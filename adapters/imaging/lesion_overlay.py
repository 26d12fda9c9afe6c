"""Lesion overlays: the outline of the lesion the model found, drawn on the stored image."""

from __future__ import annotations

import io

import anyio
import anyio.to_thread
from PIL import ImageDraw

from adapters.imaging.heatmap import stored_rgb
from domain.lesions import LesionFinding

# Amber on a dark halo: visible on bright and dark ultrasound texture alike, and distinct from
# the viridis heatmap colours.
OUTLINE_COLOUR = (255, 191, 0)
HALO_COLOUR = (0, 0, 0)


def outline_width(width: int, height: int) -> int:
    """Line width in pixels, growing with the image so the outline stays visible."""
    return max(2, round(max(width, height) / 256))


class PillowLesionRenderer:
    """LesionRenderer port: the closed outline polygon (stored-image coordinates) drawn over
    the whole stored image in colour, with a dark halo; rendering runs in worker threads."""

    def __init__(self, max_concurrency: int = 2) -> None:
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def render(self, stored_image: bytes, lesion: LesionFinding) -> bytes:
        return await anyio.to_thread.run_sync(
            self.render_sync, stored_image, lesion, limiter=self._limiter
        )

    def render_sync(self, stored_image: bytes, lesion: LesionFinding) -> bytes:
        if not lesion.found or len(lesion.outline) < 3:
            raise ValueError("Only a found lesion has an outline to draw.")
        base = stored_rgb(stored_image)
        width = outline_width(*base.size)
        points = [*lesion.outline, lesion.outline[0]]
        draw = ImageDraw.Draw(base)
        draw.line(points, fill=HALO_COLOUR, width=width + 2, joint="curve")
        draw.line(points, fill=OUTLINE_COLOUR, width=width, joint="curve")
        buffer = io.BytesIO()
        base.save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()
