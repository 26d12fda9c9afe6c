"""Behaviour every LesionRenderer must share."""

from __future__ import annotations

import pytest

from application.ports import LesionRenderer
from domain.lesions import BoundingBox, LesionFinding
from tests.contracts.heatmap_renderer_contract import PNG_SIGNATURE, stored_image

FOUND = LesionFinding(
    found=True,
    area_fraction=0.05,
    max_probability=0.9,
    bbox=BoundingBox(120, 60, 60, 80),
    outline=((150, 60), (180, 100), (150, 140), (120, 100)),
)


class LesionRendererContract:
    """Needs a fixture ``lesion_renderer`` giving the LesionRenderer under test."""

    def test_is_a_lesion_renderer(self, lesion_renderer: LesionRenderer) -> None:
        assert isinstance(lesion_renderer, LesionRenderer)

    async def test_returns_png(self, lesion_renderer: LesionRenderer) -> None:
        assert (await lesion_renderer.render(stored_image(), FOUND)).startswith(PNG_SIGNATURE)

    async def test_another_outline_gives_another_picture(
        self, lesion_renderer: LesionRenderer
    ) -> None:
        image = stored_image()
        moved = LesionFinding(
            found=True,
            area_fraction=0.05,
            max_probability=0.9,
            bbox=BoundingBox(20, 20, 40, 40),
            outline=((20, 20), (60, 20), (60, 60), (20, 60)),
        )
        assert await lesion_renderer.render(image, FOUND) != await lesion_renderer.render(
            image, moved
        )

    async def test_refuses_a_finding_without_a_lesion(
        self, lesion_renderer: LesionRenderer
    ) -> None:
        with pytest.raises(ValueError, match="found lesion"):
            await lesion_renderer.render(stored_image(), LesionFinding.none_found(0.1))
