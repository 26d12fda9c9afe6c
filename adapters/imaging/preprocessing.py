"""The one image preprocessing step shared by training (ml/) and serving (adapters)."""

from __future__ import annotations

import numpy as np
from PIL import Image

MODEL_INPUT_SIZE = 128


def centre_square(width: int, height: int) -> tuple[int, int, int]:
    """(left, top, side) of the centre square crop the model sees, in image pixels."""
    side = min(width, height)
    return (width - side) // 2, (height - side) // 2, side


def preprocess(image: Image.Image) -> np.ndarray:
    """Grayscale, centre square crop, Pillow BILINEAR resize, 3 channels: uint8 [128,128,3]."""
    gray = image.convert("L")
    left, top, side = centre_square(*gray.size)
    square = gray.crop((left, top, left + side, top + side))
    if square.size != (MODEL_INPUT_SIZE, MODEL_INPUT_SIZE):
        square = square.resize((MODEL_INPUT_SIZE, MODEL_INPUT_SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(square, dtype=np.uint8)
    return np.repeat(pixels[:, :, np.newaxis], 3, axis=2)
