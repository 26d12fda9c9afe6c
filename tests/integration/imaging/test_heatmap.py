from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from adapters.imaging.heatmap import VIRIDIS, PillowHeatmapRenderer
from domain.errors import InvalidImage
from tests import images
from tests.contracts.heatmap_renderer_contract import HeatmapRendererContract

pytestmark = pytest.mark.integration

HOT_TOP_LEFT = ((1.0, 0.0, 0.0, 0.0),) + ((0.0, 0.0, 0.0, 0.0),) * 3


class TestPillowHeatmapRendererContract(HeatmapRendererContract):
    @pytest.fixture
    def heatmap_renderer(self) -> PillowHeatmapRenderer:
        return PillowHeatmapRenderer()


@pytest.fixture
def renderer() -> PillowHeatmapRenderer:
    return PillowHeatmapRenderer()


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.mode == "RGB"
        return np.asarray(picture, dtype=int)


def centre_square(width: int, height: int, size: int = 512) -> np.ndarray:
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = images.image(width, height).convert("RGB").crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR), dtype=int)


async def test_zero_opacity_shows_the_centre_square_the_model_saw(
    renderer: PillowHeatmapRenderer,
) -> None:
    overlay = pixels(await renderer.render(images.png(300, 200), HOT_TOP_LEFT, opacity=0.0))
    assert overlay.shape == (512, 512, 3)
    assert np.array_equal(overlay, centre_square(300, 200))


async def test_tall_images_are_cropped_in_the_middle(renderer: PillowHeatmapRenderer) -> None:
    overlay = pixels(await renderer.render(images.png(150, 400), HOT_TOP_LEFT, opacity=0.0))
    assert np.array_equal(overlay, centre_square(150, 400))


async def test_colour_goes_where_the_model_looked(renderer: PillowHeatmapRenderer) -> None:
    base = centre_square(300, 200)
    overlay = pixels(await renderer.render(images.png(300, 200), HOT_TOP_LEFT, opacity=1.0))
    changed = np.abs(overlay - base).sum(axis=2) > 0
    assert changed[:64, :64].all()  # the hot cell is fully coloured
    assert not changed[256:, :].any()  # the cold half is untouched
    assert not changed[:, 256:].any()
    assert tuple(overlay[10, 10]) == tuple(VIRIDIS[255])  # peak: the brightest colour


async def test_map_is_normalised_by_its_peak(renderer: PillowHeatmapRenderer) -> None:
    small = await renderer.render(images.png(), ((0.001, 0.0), (0.0, 0.0)))
    large = await renderer.render(images.png(), ((50.0, 0.0), (0.0, 0.0)))
    assert small == large


async def test_negative_and_non_finite_values_are_ignored(
    renderer: PillowHeatmapRenderer,
) -> None:
    clean = await renderer.render(images.png(), ((1.0, 0.0), (0.0, 0.0)))
    dirty = await renderer.render(images.png(), ((1.0, -3.0), (float("nan"), float("-inf"))))
    assert clean == dirty


async def test_a_silent_map_leaves_the_image_alone(renderer: PillowHeatmapRenderer) -> None:
    overlay = pixels(await renderer.render(images.png(300, 200), ((0.0, 0.0), (0.0, 0.0)), 1.0))
    assert np.array_equal(overlay, centre_square(300, 200))


async def test_upsampling_is_smooth(renderer: PillowHeatmapRenderer) -> None:
    ramp = tuple(tuple(float(c) for c in range(8)) for _ in range(8))
    flat = Image.new("L", (256, 256), 0)
    overlay = pixels(await renderer.render(images.encode(flat), ramp, opacity=1.0))
    row = overlay[256].sum(axis=1)
    assert np.all(np.diff(row[32:-32]) >= -3)  # brightness rises steadily left to right
    assert len(np.unique(row)) > 64  # many levels, not eight blocks


def test_colormap_runs_dark_to_bright() -> None:
    assert VIRIDIS.shape == (256, 3)
    luminance = VIRIDIS.astype(float) @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(luminance) > -0.5)  # never darker, up to 8-bit rounding
    assert luminance[-1] - luminance[0] > 150


async def test_ragged_map_is_refused(renderer: PillowHeatmapRenderer) -> None:
    with pytest.raises(ValueError, match="equal rows"):
        await renderer.render(images.png(), ((1.0, 0.0), (0.0,)))


async def test_undecodable_stored_image(renderer: PillowHeatmapRenderer) -> None:
    with pytest.raises(InvalidImage):
        await renderer.render(b"not a png", HOT_TOP_LEFT)


async def test_output_size_is_configurable() -> None:
    overlay = pixels(await PillowHeatmapRenderer(size=256).render(images.png(), HOT_TOP_LEFT))
    assert overlay.shape == (256, 256, 3)
