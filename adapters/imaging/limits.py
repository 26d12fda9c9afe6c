"""The limits every upload decoder checks before decoding a pixel: bytes, then pixel count."""

from __future__ import annotations

from domain.errors import ErrorCode, ImageTooLarge, InvalidImage

MIB = 1024 * 1024


def check_bytes(data: bytes, max_bytes: int, name: str, shown: str) -> None:
    """Refuse an upload longer than `max_bytes`; `name` is how messages say it, `shown` its
    file name as the error's parameter."""
    if len(data) > max_bytes:
        size_mb, limit_mb = round(len(data) / MIB, 1), round(max_bytes / MIB)
        raise ImageTooLarge(
            f"{name} is {size_mb:.1f} MB; the limit is {limit_mb} MB.",
            ErrorCode.IMAGE_TOO_MANY_BYTES,
            filename=shown,
            size_mb=size_mb,
            limit_mb=limit_mb,
        )


def check_pixels(width: int, height: int, max_pixels: int, name: str, shown: str) -> None:
    """Refuse an image without pixels, or with more than `max_pixels` (read from its header)."""
    if width < 1 or height < 1:
        raise InvalidImage(f"{name} has no pixels.", ErrorCode.IMAGE_NO_PIXELS, filename=shown)
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{name} is {width}x{height} pixels; the limit is {max_pixels:,} pixels.",
            ErrorCode.IMAGE_TOO_MANY_PIXELS,
            filename=shown,
            width=width,
            height=height,
            limit=max_pixels,
        )


def check_still_frame(frame: int | None, name: str, shown: str) -> None:
    """A still image has frame 0 only: any other chosen frame is refused."""
    if frame is not None and frame != 0:
        raise InvalidImage(
            f"{name} is a still image: it has no frame {frame}.",
            ErrorCode.IMAGE_SINGLE_FRAME,
            filename=shown,
            frame=frame,
        )
