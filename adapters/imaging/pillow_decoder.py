"""Upload decoding with Pillow: strict formats and limits, orientation, a clean copy to store."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from collections.abc import Collection

import anyio
import anyio.to_thread
import numpy as np
from PIL import Image, ImageOps

from adapters.imaging.limits import MIB, check_bytes, check_pixels, check_still_frame
from adapters.imaging.preprocessing import MODEL_INPUT_SIZE, preprocess
from application.ports import DecodedImage
from domain.errors import ErrorCode, ImageTooLarge, InvalidImage, UnsupportedImageFormat

MAGIC_NUMBERS: dict[str, tuple[bytes, ...]] = {
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPEG": (b"\xff\xd8\xff",),
    "BMP": (b"BM",),
    "TIFF": (b"II*\x00", b"MM\x00*"),
}
DEFAULT_FORMATS = ("PNG", "JPEG")
# What Pillow raises for damaged files besides its own errors (OSError, SyntaxError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


class PillowImageDecoder:
    """ImageDecoder port: accepts PNG/JPEG (optionally BMP/TIFF) within byte and pixel limits.

    The format is decided by magic bytes, never by the file name or declared type; the pixel
    count is checked from the header before any pixel is decoded, so decompression bombs cost
    nothing. The stored copy has EXIF orientation applied, no metadata, its longest side capped
    at ``max_stored_side``, and is exactly what the model input is computed from, so a stored
    analysis can be reproduced from the stored image: a minimal PNG, or the upload's own JPEG
    stream (less its metadata segments) when it needs no rotation or scaling. Decoding runs in
    worker threads, at most ``max_concurrency`` at once.
    """

    def __init__(
        self,
        max_bytes: int = 10 * MIB,
        max_pixels: int = 4096 * 4096,
        formats: Collection[str] = DEFAULT_FORMATS,
        max_stored_side: int = 1024,
        max_concurrency: int = 2,
        png_compress_level: int = 1,
    ) -> None:
        unknown = set(formats) - set(MAGIC_NUMBERS)
        if unknown or not formats:
            raise ValueError(
                f"Supported formats are {sorted(MAGIC_NUMBERS)}; got {sorted(formats)}"
            )
        if max_stored_side < MODEL_INPUT_SIZE:
            raise ValueError(f"max_stored_side must be at least {MODEL_INPUT_SIZE}")
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.formats = tuple(formats)
        self.max_stored_side = max_stored_side
        self._png_compress_level = png_compress_level
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        return await anyio.to_thread.run_sync(
            self.decode_sync, data, filename, frame, limiter=self._limiter
        )

    def decode_sync(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        """The whole decode in the calling thread (for the CLI, benchmarks and tests); a still
        image has frame 0 only."""
        shown = _shown_name(filename)
        name = f"'{shown}'" if shown else "The upload"
        check_bytes(data, self.max_bytes, name, shown)
        if not data:
            raise UnsupportedImageFormat(f"{name} is empty.", ErrorCode.IMAGE_EMPTY, filename=shown)
        source_format = self._sniff(data, name, shown)
        check_still_frame(frame, name, shown)
        try:
            image = Image.open(io.BytesIO(data), formats=[source_format])
            width, height = image.size
            check_pixels(width, height, self.max_pixels, name, shown)
            if source_format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the image is far larger
                # than what is kept: much faster, and both sides stay >= max_stored_side.
                image.draft(None, (self.max_stored_side, self.max_stored_side))
            image.load()
            oriented = _apply_orientation(image)
        except Image.DecompressionBombError:
            raise ImageTooLarge(
                f"{name} has too many pixels to be decoded safely.",
                ErrorCode.IMAGE_BOMB,
                filename=shown,
            ) from None
        except _DECODE_ERRORS as error:
            reason = _reason(error)
            raise InvalidImage(
                f"{name} is damaged or truncated and cannot be decoded ({reason}).",
                ErrorCode.IMAGE_CORRUPT,
                filename=shown,
                reason=reason,
            ) from None
        if oriented.size[0] != oriented.size[1] and oriented.size != image.size:
            width, height = height, width
        stored = _for_storage(_normalise_mode(oriented), self.max_stored_side)
        model_input = np.ascontiguousarray(preprocess(stored), dtype=np.uint8).tobytes()
        # A JPEG that needs no rotation, scaling or colour conversion is kept as it came, less
        # its metadata segments: it decodes to the same pixels, and the PNG encode (the costliest
        # step after inference) is skipped. Anything else is stored as a minimal PNG.
        unchanged = oriented is image and stored.size == (width, height)
        as_is = source_format == "JPEG" and unchanged and image.mode in ("L", "RGB")
        stored_image = (as_is and strip_jpeg_metadata(data)) or _encode_png(
            stored, self._png_compress_level
        )
        return DecodedImage(
            model_input=model_input,
            stored_image=stored_image,
            sha256=hashlib.sha256(stored_image).hexdigest(),
            width=width,
            height=height,
            source_format=source_format,
            stored_width=stored.width,
            stored_height=stored.height,
        )

    def _sniff(self, data: bytes, name: str, shown: str) -> str:
        for source_format in self.formats:
            if data.startswith(MAGIC_NUMBERS[source_format]):
                return source_format
        raise UnsupportedImageFormat(
            f"{name} is not a {' or '.join(self.formats)} image.",
            ErrorCode.IMAGE_FORMAT_NOT_ACCEPTED,
            filename=shown,
            formats=self.formats,
        )


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        if image.getexif().get(_EXIF_ORIENTATION, 1) in (0, 1):
            return image
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:  # unreadable EXIF: keep the pixels as stored
        return image


_EXIF_ORIENTATION = 0x0112
# Segments a decoder needs: frame/scan headers, tables, restart interval, JFIF and Adobe (its
# colour-transform flag changes the pixels). Everything else (EXIF, XMP, ICC, comments, maker
# notes, trailing bytes) is dropped.
_JPEG_KEPT = frozenset({0xC4, 0xCC, 0xDB, 0xDD, 0xE0, 0xEE} | set(range(0xC0, 0xD0)) - {0xC8})


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG stream without metadata segments or trailing bytes (entropy data untouched);
    None when its segments cannot be walked (the caller then re-encodes)."""
    out = [data[:2]]  # SOI
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if marker == 0xDA:  # SOS: the scan's entropy-coded data runs to the next real marker
            end = _scan_end(data, end)
        if marker in _JPEG_KEPT or marker == 0xDA:
            out.append(data[position:end])
        position = end
    out.append(b"\xff\xd9")
    return b"".join(out)


def _scan_end(data: bytes, position: int) -> int:
    """Offset of the first marker after entropy-coded data (0xFF00 stuffing and RSTn skipped)."""
    while (position := data.find(b"\xff", position)) != -1 and position + 1 < len(data):
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position
    return len(data)


def _normalise_mode(image: Image.Image) -> Image.Image:
    """8-bit grayscale ("L") or RGB; transparency is composited over black."""
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I") or mode == "F":
        return _to_8_bit(image)
    if mode == "P":
        has_alpha = "transparency" in image.info
        return _normalise_mode(image.convert("RGBA" if has_alpha else "RGB"))
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = image.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        flattened = Image.alpha_composite(black, rgba).convert("RGB")
        return flattened.convert("L") if mode in ("LA", "La") else flattened
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...


def _to_8_bit(image: Image.Image) -> Image.Image:
    """16-bit (and 32-bit integer / float) grayscale to 8 bits over the full 16-bit range."""
    pixels = np.asarray(image)
    if pixels.dtype.kind == "f":
        pixels = np.nan_to_num(pixels.astype(np.float64))
        low, high = float(pixels.min()), float(pixels.max())
        scaled = (pixels - low) * (255.0 / (high - low)) if high > low else pixels * 0
        return Image.fromarray(scaled.round().astype(np.uint8))
    wide = pixels.astype(np.int64)
    if wide.max(initial=0) <= 255 and image.mode == "I":
        return Image.fromarray(np.clip(wide, 0, 255).astype(np.uint8))
    return Image.fromarray((np.clip(wide, 0, 65535) >> 8).astype(np.uint8))


def _for_storage(image: Image.Image, max_side: int) -> Image.Image:
    width, height = image.size
    if max(width, height) > max_side:
        scale = max_side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if image.mode == "RGB":
        pixels = np.asarray(image).astype(np.int16)
        spread = np.maximum(
            np.abs(pixels[..., 0] - pixels[..., 1]), np.abs(pixels[..., 1] - pixels[..., 2])
        )
        if int(spread.max(initial=0)) <= 2:  # grayscale saved as colour (often JPEG noise)
            image = image.convert("L")
    return image


def _encode_png(image: Image.Image, compress_level: int) -> bytes:
    """A minimal PNG (IHDR, IDAT, IEND: no metadata can survive) of an L or RGB image.

    Written directly rather than through Pillow's encoder, which tries every filter on every
    row: the "Sub" filter (one numpy subtraction) and zlib's run-length strategy make ultrasound
    images as small as Pillow's adaptive filtering does, in half the time (benchmarks/bench.py).
    """
    if image.mode not in _PNG_COLOUR_TYPES:
        image = image.convert("RGB")
    pixels = np.asarray(image, dtype=np.uint8)
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    rows = pixels.reshape(height, width * channels)
    filtered = np.empty((height, width * channels + 1), dtype=np.uint8)
    filtered[:, 0] = 1  # filter type Sub: each byte minus the same channel one pixel left
    filtered[:, 1 : 1 + channels] = rows[:, :channels]
    np.subtract(rows[:, channels:], rows[:, :-channels], out=filtered[:, 1 + channels :])
    compressor = zlib.compressobj(compress_level, zlib.DEFLATED, 15, 8, zlib.Z_RLE)
    data = compressor.compress(filtered.data) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[image.mode], 0, 0, 0)
    return b"".join(
        (_PNG_SIGNATURE, _png_chunk(b"IHDR", header), _png_chunk(b"IDAT", data), _PNG_END)
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR_TYPES = {"L": 0, "RGB": 2}
_PNG_END = _png_chunk(b"IEND", b"")


def _shown_name(filename: str) -> str:
    """The file name as it may be shown back: last path part, printable, bounded ("" if none)."""
    base = os.path.basename(filename.replace("\\", "/")) if filename else ""
    return "".join(ch for ch in base if ch.isprintable())[:100]


def _reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[:120]
