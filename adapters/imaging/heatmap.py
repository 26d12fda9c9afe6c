"""Class-activation overlays: the model's attention drawn over the image it looked at."""

from __future__ import annotations

import io

import anyio
import anyio.to_thread
import numpy as np
from PIL import Image

from adapters.imaging.preprocessing import centre_square
from application.ports import CamGrid
from domain.errors import ErrorCode, InvalidImage

# Viridis sampled at nine evenly spaced points: perceptually ordered, readable by people with
# the common colour-vision deficiencies, and dark-to-bright so it survives grayscale printing.
_VIRIDIS_STOPS = np.array(
    [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 145, 140),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ],
    dtype=np.float64,
)


def colormap_lut(stops: np.ndarray = _VIRIDIS_STOPS) -> np.ndarray:
    """256 x 3 uint8 lookup table interpolated linearly between the colour stops."""
    positions = np.linspace(0.0, 1.0, len(stops))
    levels = np.linspace(0.0, 1.0, 256)
    channels = [np.interp(levels, positions, stops[:, c]) for c in range(3)]
    return np.stack(channels, axis=1).round().astype(np.uint8)


VIRIDIS = colormap_lut()


def css_gradient(stops: np.ndarray = _VIRIDIS_STOPS) -> str:
    """The colour scale as a CSS left-to-right gradient (low to high), for legends."""
    colours = ", ".join(f"rgb({r:.0f}, {g:.0f}, {b:.0f})" for r, g, b in stops)
    return f"linear-gradient(to right, {colours})"


class PillowHeatmapRenderer:
    """HeatmapRenderer port: CAM normalised to [0, 1], bilinearly upsampled, coloured with
    viridis and blended over the centre square crop the model saw (the crop ``preprocess``
    makes). Each pixel's blend weight is ``opacity`` x activation, so regions the model
    ignored keep the plain image. Rendering runs in worker threads.
    """

    def __init__(self, size: int = 512, max_concurrency: int = 2) -> None:
        self.size = size
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def render(self, stored_image: bytes, cam: CamGrid, opacity: float = 0.45) -> bytes:
        return await anyio.to_thread.run_sync(
            self.render_sync, stored_image, cam, opacity, limiter=self._limiter
        )

    def render_sync(self, stored_image: bytes, cam: CamGrid, opacity: float = 0.45) -> bytes:
        if not 0.0 <= opacity <= 1.0:
            raise ValueError("opacity must lie in [0, 1]")
        activation = self._upsampled(_normalised(cam))
        base = np.asarray(self._base(stored_image), dtype=np.float32)
        colours = VIRIDIS[np.rint(activation * 255).astype(np.uint8)].astype(np.float32)
        weight = (opacity * activation)[..., np.newaxis]
        blended = base * (1.0 - weight) + colours * weight
        overlay = Image.fromarray(np.clip(np.rint(blended), 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        overlay.save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()

    def _base(self, stored_image: bytes) -> Image.Image:
        rgb = stored_rgb(stored_image)
        left, top, side = centre_square(*rgb.size)  # the square preprocess() crops
        square = rgb.crop((left, top, left + side, top + side))
        return square.resize((self.size, self.size), Image.Resampling.BILINEAR)

    def _upsampled(self, activation: np.ndarray) -> np.ndarray:
        grid = Image.fromarray(activation.astype(np.float32))
        resized = grid.resize((self.size, self.size), Image.Resampling.BILINEAR)
        return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def stored_rgb(stored_image: bytes) -> Image.Image:
    """The stored image as RGB; a stored file that does not decode is InvalidImage."""
    try:
        with Image.open(io.BytesIO(stored_image)) as image:
            image.load()
            return image.convert("RGB")
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(
            f"The stored image cannot be decoded ({error}).",
            ErrorCode.STORED_IMAGE_CORRUPT,
            reason=str(error),
        ) from None


def _normalised(cam: CamGrid) -> np.ndarray:
    """Non-negative, finite, scaled so the strongest activation is 1 (all zeros stays zero)."""
    try:
        grid = np.asarray(cam, dtype=np.float64)
    except ValueError:
        grid = np.empty(0)  # ragged rows
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError("The class-activation map must be a non-empty grid of equal rows.")
    grid = np.clip(np.nan_to_num(grid, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    peak = float(grid.max())
    return grid / peak if peak > 0 else np.zeros_like(grid)
