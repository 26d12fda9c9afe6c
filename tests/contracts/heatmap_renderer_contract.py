"""Behaviour every HeatmapRenderer must share."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from application.ports import HeatmapRenderer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def stored_image(width: int = 300, height: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


CAM = ((0.0, 0.1, 0.2), (0.3, 2.0, 0.4), (0.0, 0.0, 0.5))


class HeatmapRendererContract:
    """Needs a fixture ``heatmap_renderer`` giving the HeatmapRenderer under test."""

    def test_is_a_heatmap_renderer(self, heatmap_renderer: HeatmapRenderer) -> None:
        assert isinstance(heatmap_renderer, HeatmapRenderer)

    async def test_returns_png(self, heatmap_renderer: HeatmapRenderer) -> None:
        overlay = await heatmap_renderer.render(stored_image(), CAM)
        assert overlay.startswith(PNG_SIGNATURE)

    async def test_accepts_any_grid_size_and_a_silent_map(
        self, heatmap_renderer: HeatmapRenderer
    ) -> None:
        for cam in (((0.0,),), ((0.0, 0.0), (0.0, 0.0)), tuple((1.0,) * 8 for _ in range(8))):
            assert (await heatmap_renderer.render(stored_image(), cam)).startswith(PNG_SIGNATURE)

    async def test_opacity_changes_the_picture(self, heatmap_renderer: HeatmapRenderer) -> None:
        image = stored_image()
        faint = await heatmap_renderer.render(image, CAM, opacity=0.1)
        strong = await heatmap_renderer.render(image, CAM, opacity=0.9)
        assert faint != strong

    async def test_refuses_an_empty_map(self, heatmap_renderer: HeatmapRenderer) -> None:
        with pytest.raises(ValueError, match="empty"):
            await heatmap_renderer.render(stored_image(), ())
        with pytest.raises(ValueError, match="empty"):
            await heatmap_renderer.render(stored_image(), ((),))

    @pytest.mark.parametrize("opacity", [-0.1, 1.5])
    async def test_refuses_opacity_outside_zero_to_one(
        self, heatmap_renderer: HeatmapRenderer, opacity: float
    ) -> None:
        with pytest.raises(ValueError, match="opacity"):
            await heatmap_renderer.render(stored_image(), CAM, opacity=opacity)
