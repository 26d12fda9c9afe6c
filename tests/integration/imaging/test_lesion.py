"""From lesion map to LesionFinding (synthetic masks with known answers) and the outline overlay."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from adapters.imaging.lesion import find_lesion, largest_region, simplify, trace_outline
from adapters.imaging.lesion_overlay import OUTLINE_COLOUR, PillowLesionRenderer
from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from domain.errors import InvalidImage
from domain.lesions import MAX_OUTLINE_POINTS, MIN_LESION_AREA_FRACTION, LesionFinding
from tests import images
from tests.contracts.lesion_renderer_contract import LesionRendererContract

pytestmark = pytest.mark.integration

N = MODEL_INPUT_SIZE
ROWS, COLS = np.mgrid[0:N, 0:N]


def disc(cx: float, cy: float, radius: float) -> np.ndarray:
    return ((COLS - cx) ** 2 + (ROWS - cy) ** 2 <= radius**2).astype(np.float32)


def polygon_area(points: tuple[tuple[int, int], ...]) -> float:
    xs, ys = zip(*points, strict=True)
    return abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2


# --- the finding -------------------------------------------------------------------------


def test_a_disc_gives_its_area_box_and_a_round_outline() -> None:
    lesion = find_lesion(disc(64, 64, 20) * 0.9, 128, 128)
    pixels = int(disc(64, 64, 20).sum())
    assert lesion.found
    assert lesion.area_fraction == pixels / N**2
    assert lesion.area_fraction == pytest.approx(math.pi * 20**2 / N**2, rel=0.02)
    assert lesion.max_probability == pytest.approx(0.9)
    assert lesion.area_mm2 is None  # no pixel size known
    assert lesion.bbox is not None
    assert (lesion.bbox.x, lesion.bbox.y, lesion.bbox.width, lesion.bbox.height) == (44, 44, 41, 41)
    assert 8 <= len(lesion.outline) <= MAX_OUTLINE_POINTS
    assert polygon_area(lesion.outline) == pytest.approx(pixels, rel=0.05)
    for x, y in lesion.outline:  # every vertex lies on the disc's rim
        assert math.hypot(x - 64.5, y - 64.5) == pytest.approx(20.5, abs=1.5)


def test_the_disc_scales_onto_a_larger_stored_image_with_its_area_in_mm2() -> None:
    lesion = find_lesion(disc(64, 64, 20), 512, 512, pixel_spacing_mm=(0.1, 0.05))
    assert lesion.bbox is not None
    assert (lesion.bbox.x, lesion.bbox.y, lesion.bbox.width, lesion.bbox.height) == (
        176,
        176,
        164,
        164,
    )
    assert lesion.area_mm2 == pytest.approx(lesion.area_fraction * 512 * 512 * 0.1 * 0.05)
    assert all(0 <= v <= 512 for point in lesion.outline for v in point)


def test_of_two_blobs_the_largest_is_kept() -> None:
    small, large = disc(20, 20, 8), disc(90, 80, 15)
    lesion = find_lesion(np.maximum(small, large), 128, 128)
    assert lesion.area_fraction == large.sum() / N**2
    assert lesion.bbox is not None
    assert (lesion.bbox.x, lesion.bbox.y) == (75, 65)
    assert all(x >= 75 and y >= 65 for x, y in lesion.outline)


def test_blobs_touching_at_a_corner_are_one_region() -> None:
    mask = np.zeros((N, N), bool)
    mask[10:20, 10:20] = True
    mask[20:30, 20:30] = True  # meets the first square at the corner (20, 20) only
    region = largest_region(mask)
    assert region.sum() == 200
    outline = trace_outline(region)
    assert (10.0, 10.0) in outline
    assert (30.0, 30.0) in outline


def test_holes_are_ignored_by_the_outline_not_by_the_area() -> None:
    ring = disc(64, 64, 30) - disc(64, 64, 10)
    lesion = find_lesion(ring, 128, 128)
    assert lesion.area_fraction == ring.sum() / N**2
    assert polygon_area(lesion.outline) == pytest.approx(disc(64, 64, 30).sum(), rel=0.05)


@pytest.mark.parametrize(
    "lesion_map",
    [np.zeros((N, N)), np.full((N, N), 0.49), np.full((N, N), np.nan)],
    ids=["empty", "below-threshold", "nan"],
)
def test_nothing_above_the_threshold_is_no_lesion(lesion_map: np.ndarray) -> None:
    lesion = find_lesion(lesion_map, 300, 200)
    assert lesion == LesionFinding.none_found(float(np.nan_to_num(lesion_map).max()))


def test_a_speck_below_the_minimum_area_is_no_lesion() -> None:
    limit = math.ceil(MIN_LESION_AREA_FRACTION * N * N)  # 33 pixels
    speck = np.zeros((N, N))
    speck[0, : limit - 1] = 1.0
    assert not find_lesion(speck, 128, 128).found
    speck[0, :limit] = 1.0
    assert find_lesion(speck, 128, 128).found


def test_the_threshold_decides_which_pixels_count() -> None:
    ramp = np.tile(np.linspace(0.0, 1.0, N), (N, 1))  # brighter to the right
    strict, lenient = find_lesion(ramp, 128, 128, 0.75), find_lesion(ramp, 128, 128, 0.25)
    assert strict.bbox is not None
    assert lenient.bbox is not None
    assert strict.area_fraction < lenient.area_fraction
    assert strict.bbox.x > lenient.bbox.x


def test_crop_geometry_maps_back_to_a_landscape_stored_image() -> None:
    block = np.zeros((N, N))
    block[0:32, 32:64] = 1.0  # top row band, second quarter of the width
    # 300 x 200: the centre square is x 50..250, 200/128 = 1.5625 stored pixels per model pixel
    lesion = find_lesion(block, 300, 200)
    assert lesion.bbox is not None
    assert (lesion.bbox.x, lesion.bbox.y, lesion.bbox.width, lesion.bbox.height) == (
        100,
        0,
        50,
        50,
    )
    assert lesion.outline == ((100, 0), (150, 0), (150, 50), (100, 50))
    assert lesion.area_fraction == 1 / 16


def test_crop_geometry_maps_back_to_a_portrait_stored_image() -> None:
    lesion = find_lesion(np.ones((N, N)), 256, 400)  # the whole square: y 72..328
    assert lesion.bbox is not None
    assert (lesion.bbox.x, lesion.bbox.y, lesion.bbox.width, lesion.bbox.height) == (
        0,
        72,
        256,
        256,
    )
    assert lesion.area_fraction == 1.0
    assert lesion.outline == ((0, 72), (256, 72), (256, 328), (0, 328))


def test_a_tiny_stored_image_still_gets_a_valid_outline() -> None:
    lesion = find_lesion(disc(64, 64, 20), 3, 3)
    assert lesion.found
    assert lesion.bbox is not None
    assert lesion.bbox.x + lesion.bbox.width <= 3
    assert len(lesion.outline) >= 3


def test_a_ragged_map_is_simplified_to_the_point_bound() -> None:
    noisy = np.random.default_rng(7).random((N, N))
    lesion = find_lesion(noisy, 512, 512)
    assert lesion.found
    assert 3 <= len(lesion.outline) <= MAX_OUTLINE_POINTS


def test_simplify_keeps_a_square_and_bounds_a_circle() -> None:
    square = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    assert simplify(square, 64) == square
    circle = [(math.cos(t) * 50, math.sin(t) * 50) for t in np.linspace(0, 2 * math.pi, 400)[:-1]]
    assert len(simplify(circle, 12, epsilon=0.01)) <= 12


@pytest.mark.parametrize("shape", [(N,), (N, N // 2), (0, 0)])
def test_a_map_that_is_not_a_square_grid_is_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="square grid"):
        find_lesion(np.zeros(shape), 128, 128)


# --- the overlay -------------------------------------------------------------------------


class TestPillowLesionRendererContract(LesionRendererContract):
    @pytest.fixture
    def lesion_renderer(self) -> PillowLesionRenderer:
        return PillowLesionRenderer()


async def test_outline_is_drawn_on_the_whole_stored_image() -> None:
    stored = images.png(300, 200)
    lesion = find_lesion(disc(64, 64, 20), 300, 200)
    overlay = await PillowLesionRenderer().render(stored, lesion)
    with Image.open(io.BytesIO(overlay)) as picture:
        assert picture.size == (300, 200)  # the stored image, not the model's crop
        drawn = np.asarray(picture.convert("RGB"), dtype=int)
    amber = np.all(drawn == OUTLINE_COLOUR, axis=2)
    assert amber.any()
    assert lesion.bbox is not None
    ys, xs = np.nonzero(amber)
    box = lesion.bbox
    assert box.x - 3 <= xs.min()
    assert xs.max() <= box.x + box.width + 3
    assert box.y - 3 <= ys.min()
    assert ys.max() <= box.y + box.height + 3
    inside = drawn[box.y + box.height // 2, box.x + box.width // 2]
    original = np.asarray(images.image(300, 200).convert("RGB"), dtype=int)
    assert (inside == original[box.y + box.height // 2, box.x + box.width // 2]).all()


async def test_an_undecodable_stored_image_is_invalid() -> None:
    lesion = find_lesion(disc(64, 64, 20), 300, 200)
    with pytest.raises(InvalidImage):
        await PillowLesionRenderer().render(b"not a png", lesion)
