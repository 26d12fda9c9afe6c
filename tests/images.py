"""Real image bytes for tests: valid PNG/JPEG in many modes, and the hostile kinds."""

from __future__ import annotations

import functools
import io
import struct
import zlib

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXIF_ORIENTATION = 0x0112


def gradient(width: int, height: int) -> np.ndarray:
    """uint8 [height, width]: bright top-left, dark bottom-right, not symmetric."""
    ys, xs = np.mgrid[0:height, 0:width]
    return ((xs * 200 // max(width - 1, 1) + ys * 55 // max(height - 1, 1)) % 256).astype(np.uint8)


def image(width: int = 256, height: int = 192, mode: str = "L") -> Image.Image:
    gray = Image.fromarray(gradient(width, height))
    if mode == "L":
        return gray
    if mode == "I;16":
        return Image.fromarray(gradient(width, height).astype(np.uint16) * 257)
    if mode == "RGB":
        red = np.asarray(gray)
        return Image.fromarray(np.stack([red, 255 - red, red // 2], axis=2))
    return image(width, height, "RGB").convert(mode)


def encode(picture: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png(width: int = 256, height: int = 192, mode: str = "L") -> bytes:
    return encode(image(width, height, mode), "PNG")


def jpeg(
    width: int = 256, height: int = 192, mode: str = "RGB", orientation: int | None = None
) -> bytes:
    picture = image(width, height, mode)
    if orientation is None:
        return encode(picture, "JPEG", quality=92)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    return encode(picture, "JPEG", quality=92, exif=exif.tobytes())


def truncated_png() -> bytes:
    data = png(512, 512)
    return data[: len(data) // 2]


def text_renamed_png() -> bytes:
    return b"This is a plain text file that someone renamed to scan.png\n" * 20


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.cache
def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A complete, valid 1-bit PNG of width x height pixels that compresses to a few dozen KB."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    rows_per_block = max(1, (1 << 20) // len(row))
    parts = []
    for start in range(0, height, rows_per_block):
        parts.append(compressor.compress(row * min(rows_per_block, height - start)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def jpeg_header_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims width x height pixels."""
    data = bytearray(jpeg(16, 16))
    marker = data.index(b"\xff\xc0")  # baseline start-of-frame
    struct.pack_into(">HH", data, marker + 5, height, width)
    return bytes(data)
