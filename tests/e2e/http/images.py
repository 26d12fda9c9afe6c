"""Images whose tiny-model verdict is known: P(malignant) is the mean brightness."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

# A white block on black in a landscape image: the centre square is x 50..250, and the block
# covers x 100..150, y 0..50 of it, i.e. model pixels 32..64 by 0..32 (1/16 of the square).
# The tiny model's lesion map is the brightness, so the block is the lesion.
BLOCK = (100, 0, 150, 50)


def flat(level: int, size: tuple[int, int] = (160, 120), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, level).save(buffer, format=fmt)
    return buffer.getvalue()


def bright(fmt: str = "PNG") -> bytes:
    """P(malignant) about 0.9: malignant at the tiny model's 0.5 threshold."""
    return flat(230, fmt=fmt)


def dark(fmt: str = "PNG") -> bytes:
    """P(malignant) about 0.08: benign."""
    return flat(20, fmt=fmt)


def block_png(size: tuple[int, int] = (300, 200), box: tuple[int, int, int, int] = BLOCK) -> bytes:
    """Black, with a white `box` (left, top, right, bottom; right and bottom exclusive)."""
    picture = Image.new("L", size, 0)
    ImageDraw.Draw(picture).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
