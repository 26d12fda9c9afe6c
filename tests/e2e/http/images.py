"""Images whose tiny-model verdict is known: P(malignant) is the mean brightness."""

from __future__ import annotations

import io

from PIL import Image


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
