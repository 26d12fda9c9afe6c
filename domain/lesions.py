"""Lesion findings: where the model's lesion map says the lesion is, and how large it is.

The model (from 2.0) returns a per-pixel lesion probability on its 128 x 128 input, which is
the centre square of the stored image (side = the stored image's shorter side), resized.
A finding keeps the largest connected region at or above the model's lesion threshold:

- ``area_fraction``: that region's share of the analysed square (pixels / 128²), which is
  also its share of the stored image's centre square; 0 when nothing is found;
- ``area_mm2``: the same area in square millimetres, only when the pixel size is known
  (e.g. from DICOM); None otherwise, and when nothing is found;
- ``bbox`` and ``outline``: in the STORED image's pixel coordinates (x to the right, y down,
  origin at the top-left corner of the top-left pixel); the outline is the region's outer
  boundary (holes ignored), simplified to at most ``MAX_OUTLINE_POINTS`` vertices;
- ``max_probability``: the highest lesion probability anywhere on the map.

"No lesion found" when the largest region covers less than ``MIN_LESION_AREA_FRACTION``
(0.2 %, about 33 of the 16 384 model pixels): smaller specks are noise, not a lesion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.errors import InvalidInput

MIN_LESION_AREA_FRACTION = 0.002
MAX_OUTLINE_POINTS = 64
DEFAULT_LESION_THRESHOLD = 0.5

Point = tuple[int, int]


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """Axis-aligned box in stored-image pixels: left, top, width, height."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.x < 0 or self.y < 0 or self.width < 1 or self.height < 1:
            raise InvalidInput("A bounding box needs a non-negative origin and a positive size.")


def _unit(value: float, what: str) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidInput(f"{what} must lie in [0, 1].")


@dataclass(frozen=True, slots=True)
class LesionFinding:
    """The lesion the model outlined on one image, or the statement that it found none."""

    found: bool
    area_fraction: float
    max_probability: float
    area_mm2: float | None = None
    bbox: BoundingBox | None = None
    outline: tuple[Point, ...] = ()

    def __post_init__(self) -> None:
        _unit(self.area_fraction, "The lesion area fraction")
        _unit(self.max_probability, "The lesion probability")
        if self.area_mm2 is not None and not (
            math.isfinite(self.area_mm2) and self.area_mm2 >= 0.0
        ):
            raise InvalidInput("The lesion area in mm² must be a non-negative number.")
        if self.found:
            if self.bbox is None or not 3 <= len(self.outline) <= MAX_OUTLINE_POINTS:
                raise InvalidInput(
                    f"A found lesion needs a bounding box and 3 to {MAX_OUTLINE_POINTS} "
                    "outline points."
                )
        elif self.bbox is not None or self.outline or self.area_fraction or self.area_mm2:
            raise InvalidInput("A lesion that was not found has no area, box or outline.")

    @classmethod
    def none_found(cls, max_probability: float) -> LesionFinding:
        return cls(found=False, area_fraction=0.0, max_probability=max_probability)
