"""From the model's lesion map to a LesionFinding in the stored image's coordinates.

The map is the model's per-pixel lesion probability on its square input, which is the centre
square of the stored image (``centre_square``) resized. The rule (see domain.lesions):
threshold the map, keep the largest 8-connected region, call it "no lesion" below
MIN_LESION_AREA_FRACTION, trace the region's outer boundary along pixel edges, simplify it
(Ramer-Douglas-Peucker) to at most MAX_OUTLINE_POINTS vertices, and scale box and outline
from the model grid back to the stored image. numpy only, the per-pixel work vectorised:
about 1-2 ms per map.
"""

from __future__ import annotations

import math

import numpy as np

from adapters.imaging.preprocessing import centre_square
from domain.lesions import (
    DEFAULT_LESION_THRESHOLD,
    MAX_OUTLINE_POINTS,
    MIN_LESION_AREA_FRACTION,
    BoundingBox,
    LesionFinding,
    Point,
)

_EPS = 1e-9
Vertex = tuple[float, float]


def find_lesion(
    lesion_map: np.ndarray,
    stored_width: int,
    stored_height: int,
    threshold: float = DEFAULT_LESION_THRESHOLD,
    pixel_spacing_mm: tuple[float, float] | None = None,
) -> LesionFinding:
    """The largest region of `lesion_map` >= `threshold`, mapped onto the stored image.

    `pixel_spacing_mm` is (row, column) spacing of the stored image's pixels in millimetres,
    as DICOM's PixelSpacing; without it the finding has no area in mm².
    """
    grid = np.asarray(lesion_map, dtype=np.float64)
    if grid.ndim != 2 or grid.shape[0] != grid.shape[1] or grid.size == 0:
        raise ValueError(f"The lesion map must be a non-empty square grid, got {grid.shape}.")
    if stored_width < 1 or stored_height < 1:
        raise ValueError("The stored image must have pixels.")
    grid = np.clip(np.nan_to_num(grid, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    max_probability = float(grid.max())
    region = largest_region(grid >= threshold)
    n = grid.shape[0]
    area_fraction = float(region.sum()) / grid.size
    if area_fraction < MIN_LESION_AREA_FRACTION:
        return LesionFinding.none_found(max_probability)

    left, top, side = centre_square(stored_width, stored_height)
    scale = side / n
    rows, cols = np.nonzero(region)
    x0 = left + math.floor(int(cols.min()) * scale + _EPS)
    y0 = top + math.floor(int(rows.min()) * scale + _EPS)
    x1 = min(left + side, left + math.ceil((int(cols.max()) + 1) * scale - _EPS))
    y1 = min(top + side, top + math.ceil((int(rows.max()) + 1) * scale - _EPS))
    bbox = BoundingBox(x0, y0, max(1, x1 - x0), max(1, y1 - y0))

    outline = _to_stored(
        simplify(trace_outline(region), MAX_OUTLINE_POINTS),
        left,
        top,
        scale,
        (stored_width, stored_height),
    )
    if len(outline) < 3:  # a region only a few stored pixels wide: its box is its outline
        right, bottom = bbox.x + bbox.width, bbox.y + bbox.height
        outline = ((bbox.x, bbox.y), (right, bbox.y), (right, bottom), (bbox.x, bottom))
    area_mm2 = None
    if pixel_spacing_mm is not None:
        row_mm, col_mm = pixel_spacing_mm
        area_mm2 = area_fraction * side * side * row_mm * col_mm
    return LesionFinding(
        found=True,
        area_fraction=area_fraction,
        max_probability=max_probability,
        area_mm2=area_mm2,
        bbox=bbox,
        outline=outline,
    )


# --- connected regions -----------------------------------------------------------------


def _runs(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """Horizontal runs of True as (row, start, end) with `end` exclusive, in raster order."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)  # both in raster order, one end per start
    ends = np.nonzero(step == -1)[1]
    return list(zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True))


def _labels(mask: np.ndarray, diagonal: bool) -> tuple[list[tuple[int, int, int]], list[int]]:
    """Runs of `mask` and the region label of each (union-find over touching runs)."""
    runs = _runs(mask)
    parent = list(range(len(runs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reach = 1 if diagonal else 0  # 8-connected runs may touch at a corner
    by_row: dict[int, list[int]] = {}
    for i, (r, start, end) in enumerate(runs):
        for j in by_row.get(r - 1, []):
            _, other_start, other_end = runs[j]
            if start < other_end + reach and other_start < end + reach:
                parent[root(i)] = root(j)
        by_row.setdefault(r, []).append(i)
    return runs, [root(i) for i in range(len(runs))]


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected region of a boolean mask (the first in raster order on ties)."""
    runs, labels = _labels(mask, diagonal=True)
    out = np.zeros(mask.shape, dtype=bool)
    if not runs:
        return out
    sizes: dict[int, int] = {}
    for (_, start, end), label in zip(runs, labels, strict=True):
        sizes[label] = sizes.get(label, 0) + end - start
    best = max(sizes, key=lambda label: (sizes[label], -label))
    for (r, start, end), label in zip(runs, labels, strict=True):
        if label == best:
            out[r, start:end] = True
    return out


def _filled(region: np.ndarray) -> np.ndarray:
    """The region with its holes filled, padded by one pixel of background on every side."""
    padded = np.pad(region, 1)
    runs, labels = _labels(~padded, diagonal=False)  # the background is 4-connected
    outside = labels[0]  # the first run is the whole padding row at the top
    filled = padded.copy()
    for (r, start, end), label in zip(runs, labels, strict=True):
        if label != outside:
            filled[r, start:end] = True
    return filled


# --- outline -----------------------------------------------------------------------------


def trace_outline(region: np.ndarray) -> list[Vertex]:
    """Outer boundary of a non-empty region along pixel edges, clockwise on screen, as grid
    corner points (x = column, y = row; pixel (r, c) spans [c, c+1] x [r, r+1])."""
    filled = _filled(region)
    inside = filled[1:-1, 1:-1]
    rows, cols = np.nonzero(inside)
    if rows.size == 0:
        return []
    nxt: dict[tuple[int, int], list[tuple[int, int]]] = {}
    # Each boundary edge of a pixel, as (from, to) corners going clockwise on screen: the
    # pixel's top edge when the pixel above is background, then right, bottom and left.
    sides = (
        (~filled[:-2, 1:-1], (0, 0), (1, 0)),
        (~filled[1:-1, 2:], (1, 0), (1, 1)),
        (~filled[2:, 1:-1], (1, 1), (0, 1)),
        (~filled[1:-1, :-2], (0, 1), (0, 0)),
    )
    for open_side, (ax, ay), (bx, by) in sides:
        er, ec = np.nonzero(inside & open_side)
        for r, c in zip(er.tolist(), ec.tolist(), strict=True):
            nxt.setdefault((c + ax, r + ay), []).append((c + bx, r + by))

    start = (int(cols[0]), int(rows[0]))  # top-left corner of the first pixel: a top edge
    path, here, heading = [start], start, (1, 0)
    for _ in range(4 * inside.size + 4):
        options = nxt[here]
        if len(options) == 1:
            there = options.pop()
        else:
            # Two regions touching at a corner: turn left (on screen) to stay on the outer
            # boundary of the 8-connected region instead of closing a loop around one part.
            there = min(options, key=lambda p: _turn(heading, here, p))
            options.remove(there)
        heading = (there[0] - here[0], there[1] - here[1])
        here = there
        if here == start:
            break
        path.append(here)
    return [(float(x), float(y)) for x, y in _corners(path)]


def _turn(heading: tuple[int, int], here: tuple[int, int], there: tuple[int, int]) -> int:
    """Negative for a left turn on screen (y down), positive for a right one."""
    return heading[0] * (there[1] - here[1]) - heading[1] * (there[0] - here[0])


def _corners(path: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop vertices in the middle of straight stretches."""
    n = len(path)
    keep = []
    for i, (x, y) in enumerate(path):
        px, py = path[i - 1]
        nx, ny = path[(i + 1) % n]
        if (x - px) * (ny - y) - (y - py) * (nx - x) != 0:
            keep.append((x, y))
    return keep


def _rdp(points: list[Vertex], epsilon: float) -> list[Vertex]:
    """Ramer-Douglas-Peucker on an open polyline; keeps both ends (iterative: no recursion
    limit on long, jagged outlines)."""
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    spans = [(0, len(points) - 1)]
    while spans:
        first, last = spans.pop()
        if last - first < 2:
            continue
        distances = _distances(xy[first + 1 : last], points[first], points[last])
        offset = int(np.argmax(distances))
        if distances[offset] > epsilon:
            index = first + 1 + offset
            keep[index] = True
            spans += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def _distances(xy: np.ndarray, a: Vertex, b: Vertex) -> np.ndarray:
    """Distance of each point (row x, y of `xy`) from the line through a and b (from a alone
    when a and b coincide)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length == 0.0:
        return np.hypot(xy[:, 0] - a[0], xy[:, 1] - a[1])
    return np.abs(dx * (a[1] - xy[:, 1]) - dy * (a[0] - xy[:, 0])) / length


def simplify(polygon: list[Vertex], max_points: int, epsilon: float = 1.0) -> list[Vertex]:
    """A closed polygon simplified with tolerance `epsilon` (grid pixels), doubled until it
    has at most `max_points` vertices."""
    if len(polygon) <= 3:
        return polygon
    first = polygon[0]
    far = max(range(len(polygon)), key=lambda i: math.dist(first, polygon[i]))
    while True:
        simplified = (
            _rdp(polygon[: far + 1], epsilon)[:-1] + _rdp([*polygon[far:], first], epsilon)[:-1]
        )
        if len(simplified) <= max_points:
            return simplified
        epsilon *= 2


def _to_stored(
    polygon: list[Vertex], left: int, top: int, scale: float, size: tuple[int, int]
) -> tuple[Point, ...]:
    """Grid corners to integer stored-image coordinates, without repeated points."""
    width, height = size
    points: list[Point] = []
    for gx, gy in polygon:
        point = (
            min(width, max(0, round(left + gx * scale))),
            min(height, max(0, round(top + gy * scale))),
        )
        if not points or points[-1] != point:
            points.append(point)
    while len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return tuple(points)
