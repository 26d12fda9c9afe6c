from __future__ import annotations

import asyncio
import hashlib
import io
import time

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from adapters.imaging.pillow_decoder import PillowImageDecoder
from adapters.imaging.preprocessing import MODEL_INPUT_SIZE, preprocess
from application.ports import DecodedImage
from domain.errors import ImageTooLarge, InvalidImage, UnsupportedImageFormat
from tests import images
from tests.contracts.image_decoder_contract import ImageDecoderContract

pytestmark = pytest.mark.integration


class TestPillowDecoderWithPng(ImageDecoderContract):
    @pytest.fixture
    def image_decoder(self) -> PillowImageDecoder:
        return PillowImageDecoder()

    @pytest.fixture
    def valid_image(self) -> bytes:
        return images.png(256, 192)


class TestPillowDecoderWithJpeg(ImageDecoderContract):
    @pytest.fixture
    def image_decoder(self) -> PillowImageDecoder:
        return PillowImageDecoder()

    @pytest.fixture
    def valid_image(self) -> bytes:
        return images.jpeg(256, 192)


@pytest.fixture
def decoder() -> PillowImageDecoder:
    return PillowImageDecoder()


def stored(decoded: DecodedImage) -> Image.Image:
    picture = Image.open(io.BytesIO(decoded.stored_image))
    picture.load()
    return picture


def model_input(decoded: DecodedImage) -> np.ndarray:
    return np.frombuffer(decoded.model_input, dtype=np.uint8).reshape(
        MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3
    )


# --- hostile and broken uploads ------------------------------------------------------------


async def test_zero_bytes(decoder: PillowImageDecoder) -> None:
    with pytest.raises(UnsupportedImageFormat, match=r"'empty\.png' is empty"):
        await decoder.decode(b"", "empty.png")


async def test_text_renamed_png(decoder: PillowImageDecoder) -> None:
    with pytest.raises(UnsupportedImageFormat, match="not a PNG or JPEG image"):
        await decoder.decode(images.text_renamed_png(), "scan.png")


@pytest.mark.parametrize(
    "data",
    [
        images.encode(images.image(), "GIF"),
        images.encode(images.image(), "BMP"),
        images.encode(images.image(), "WEBP"),
        b"%PDF-1.7\n" + b"x" * 100,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
    ids=["gif", "bmp-not-enabled", "webp", "pdf", "svg"],
)
async def test_other_formats_are_refused(decoder: PillowImageDecoder, data: bytes) -> None:
    with pytest.raises(UnsupportedImageFormat):
        await decoder.decode(data, "scan.png")


async def test_png_magic_with_garbage_after_it(decoder: PillowImageDecoder) -> None:
    with pytest.raises(InvalidImage, match="damaged or truncated") as raised:
        await decoder.decode(images.PNG_SIGNATURE + b"garbage" * 50, "x.png")
    assert type(raised.value) is InvalidImage


async def test_truncated_png(decoder: PillowImageDecoder) -> None:
    with pytest.raises(InvalidImage, match=r"'cut\.png' is damaged or truncated"):
        await decoder.decode(images.truncated_png(), "cut.png")


async def test_truncated_jpeg(decoder: PillowImageDecoder) -> None:
    data = images.jpeg(512, 512)
    with pytest.raises(InvalidImage, match="damaged or truncated"):
        await decoder.decode(data[: len(data) // 2], "cut.jpg")


async def test_corrupt_png_checksum(decoder: PillowImageDecoder) -> None:
    data = bytearray(images.png(64, 64))
    data[40] ^= 0xFF  # inside the IDAT payload: CRC mismatch / zlib error
    with pytest.raises(InvalidImage):
        await decoder.decode(bytes(data), "corrupt.png")


async def test_oversize_bytes_are_refused_before_decoding(decoder: PillowImageDecoder) -> None:
    small = PillowImageDecoder(max_bytes=1000)
    with pytest.raises(ImageTooLarge, match="the limit is"):
        await small.decode(images.png(256, 256) + b"\x00" * 1000, "big.png")
    with pytest.raises(ImageTooLarge):  # size wins over format: no need to look inside
        await small.decode(b"x" * 1001, "big.png")


async def test_20000_square_png_bomb_is_refused_fast(decoder: PillowImageDecoder) -> None:
    bomb = images.png_bomb(20_000, 20_000)
    assert len(bomb) < 100_000  # 400 megapixels in under 100 KB
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="too many pixels"):
        await decoder.decode(bomb, "bomb.png")
    assert time.perf_counter() - started < 0.5


async def test_bomb_below_pillows_own_limit_is_refused_by_ours(
    decoder: PillowImageDecoder,
) -> None:
    bomb = images.png_bomb(5000, 5000)  # 25 Mpx: over 4096x4096, under Pillow's 89 Mpx
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="5000x5000 pixels; the limit is 16,777,216"):
        await decoder.decode(bomb, "bomb.png")
    assert time.perf_counter() - started < 0.5


async def test_jpeg_claiming_huge_dimensions_is_refused(decoder: PillowImageDecoder) -> None:
    with pytest.raises(ImageTooLarge):
        await decoder.decode(images.jpeg_header_claiming(8000, 8000), "huge.jpg")


async def test_exactly_at_the_pixel_limit_is_accepted() -> None:
    decoder = PillowImageDecoder(max_pixels=300 * 200)
    decoded = await decoder.decode(images.png(300, 200), "edge.png")
    assert (decoded.width, decoded.height) == (300, 200)
    with pytest.raises(ImageTooLarge):
        await decoder.decode(images.png(301, 200), "over.png")


# --- accepted inputs -------------------------------------------------------------------------


async def test_png_model_input_is_the_shared_preprocessing(decoder: PillowImageDecoder) -> None:
    decoded = await decoder.decode(images.png(256, 192), "scan.png")
    expected = preprocess(images.image(256, 192))
    assert np.array_equal(model_input(decoded), expected)
    assert decoded.source_format == "PNG"


async def test_stored_image_is_lossless_metadata_free_grayscale(
    decoder: PillowImageDecoder,
) -> None:
    picture = images.image(300, 200)
    data = images.encode(picture, "PNG", dpi=(300, 300), pnginfo=_text_chunk("Patient", "Doe"))
    decoded = await decoder.decode(data, "scan.png")
    kept = stored(decoded)
    assert kept.mode == "L"
    assert np.array_equal(np.asarray(kept), np.asarray(picture))
    assert b"Patient" not in decoded.stored_image
    assert kept.info == {}
    assert b"pHYs" not in decoded.stored_image
    assert b"tEXt" not in decoded.stored_image


async def test_jpeg_exif_and_icc_metadata_are_stripped(decoder: PillowImageDecoder) -> None:
    exif = Image.Exif()
    exif[0x010F] = "ScannerMaker"  # Make
    exif[0x013B] = "Dr. Somebody"  # Artist
    data = images.encode(images.image(256, 192, "RGB"), "JPEG", exif=exif.tobytes())
    decoded = await decoder.decode(data, "scan.jpg")
    assert b"Somebody" not in decoded.stored_image
    for chunk in (b"eXIf", b"iCCP", b"tEXt", b"zTXt", b"iTXt"):
        assert chunk not in decoded.stored_image


@pytest.mark.parametrize(
    ("orientation", "expected_size"),
    [(1, (256, 192)), (3, (256, 192)), (6, (192, 256)), (8, (192, 256))],
)
async def test_exif_orientation_is_applied(
    decoder: PillowImageDecoder, orientation: int, expected_size: tuple[int, int]
) -> None:
    decoded = await decoder.decode(images.jpeg(256, 192, "L", orientation), "phone.jpg")
    kept = stored(decoded)
    assert kept.size == expected_size
    assert (decoded.width, decoded.height) == expected_size
    upright = images.image(256, 192)
    expected = {
        1: upright,
        3: upright.transpose(Image.Transpose.ROTATE_180),
        6: upright.transpose(Image.Transpose.ROTATE_270),
        8: upright.transpose(Image.Transpose.ROTATE_90),
    }[orientation]
    difference = np.abs(np.asarray(kept, dtype=int) - np.asarray(expected, dtype=int))
    assert difference.mean() < 3  # JPEG noise only: the pixels are where they belong


async def test_sixteen_bit_grayscale_is_scaled_to_eight_bits(
    decoder: PillowImageDecoder,
) -> None:
    decoded = await decoder.decode(images.png(256, 192, "I;16"), "deep.png")
    kept = stored(decoded)
    assert kept.mode == "L"
    assert np.array_equal(np.asarray(kept), images.gradient(256, 192))


async def test_palette_png(decoder: PillowImageDecoder) -> None:
    palette = images.image(256, 192, "RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    decoded = await decoder.decode(images.encode(palette, "PNG"), "palette.png")
    kept = stored(decoded)
    assert kept.mode == "RGB"
    assert np.array_equal(np.asarray(kept), np.asarray(palette.convert("RGB")))


async def test_transparent_rgba_is_flattened_over_black(decoder: PillowImageDecoder) -> None:
    rgba = Image.new("RGBA", (200, 100), (255, 255, 255, 255))
    rgba.paste((255, 255, 255, 0), (0, 0, 100, 100))  # left half fully transparent
    decoded = await decoder.decode(images.encode(rgba, "PNG"), "alpha.png")
    kept = np.asarray(stored(decoded).convert("L"))
    assert kept[:, :100].max() == 0
    assert kept[:, 100:].min() == 255


async def test_grayscale_with_alpha(decoder: PillowImageDecoder) -> None:
    la = Image.merge("LA", (images.image(64, 64), Image.new("L", (64, 64), 255)))
    kept = stored(await decoder.decode(images.encode(la, "PNG"), "la.png"))
    assert kept.mode == "L"
    assert np.array_equal(np.asarray(kept), images.gradient(64, 64))


async def test_cmyk_jpeg(decoder: PillowImageDecoder) -> None:
    cmyk = images.image(256, 192, "CMYK")
    decoded = await decoder.decode(images.encode(cmyk, "JPEG", quality=95), "print.jpg")
    kept = stored(decoded)
    assert kept.mode == "RGB"
    reference = np.asarray(cmyk.convert("RGB"), dtype=int)
    assert np.abs(np.asarray(kept, dtype=int) - reference).mean() < 4


async def test_one_bit_png(decoder: PillowImageDecoder) -> None:
    picture = images.image(64, 48).convert("1")
    kept = stored(await decoder.decode(images.encode(picture, "PNG"), "bw.png"))
    assert kept.mode == "L"
    assert set(np.unique(np.asarray(kept))) <= {0, 255}


async def test_colour_is_kept_and_gray_saved_as_colour_stored_as_gray(
    decoder: PillowImageDecoder,
) -> None:
    colour = stored(await decoder.decode(images.png(128, 128, "RGB"), "doppler.png"))
    assert colour.mode == "RGB"
    gray_png = images.encode(images.image(128, 128).convert("RGB"), "PNG")
    assert stored(await decoder.decode(gray_png, "gray.png")).mode == "L"


async def test_upright_jpeg_is_stored_as_it_came_less_its_metadata(
    decoder: PillowImageDecoder,
) -> None:
    exif = Image.Exif()
    exif[0x013B] = "Dr. Somebody"  # Artist
    exif[0x0112] = 1  # upright
    original = images.image(256, 192, "RGB")
    icc = b"\x00" * 128 + b"acspICC-profile-bytes"
    data = images.encode(original, "JPEG", exif=exif.tobytes(), icc_profile=icc)
    data = data[:2] + b"\xff\xfe\x00\x0dPatient Doe" + data[2:] + b"trailing maker data"
    decoded = await decoder.decode(data, "scan.jpg")
    kept = decoded.stored_image
    assert kept.startswith(b"\xff\xd8\xff")
    assert kept.endswith(b"\xff\xd9")
    for leaked in (b"Somebody", b"Exif", b"ICC_PROFILE", b"Patient", b"trailing"):
        assert leaked not in kept
    with Image.open(io.BytesIO(data)) as source, Image.open(io.BytesIO(kept)) as copy:
        assert np.array_equal(np.asarray(source), np.asarray(copy))  # same entropy data
    again = await decoder.decode(kept, "stored.jpg")
    assert again.stored_image == kept
    assert again.model_input == decoded.model_input


async def test_progressive_jpeg_with_restart_markers_is_kept_intact(
    decoder: PillowImageDecoder,
) -> None:
    original = images.image(300, 200, "RGB")
    data = images.encode(original, "JPEG", progressive=True, restart_marker_rows=1)
    kept = (await decoder.decode(data, "p.jpg")).stored_image
    with Image.open(io.BytesIO(data)) as source, Image.open(io.BytesIO(kept)) as copy:
        assert np.array_equal(np.asarray(source), np.asarray(copy))


@pytest.mark.parametrize("orientation", [3, 6])
async def test_rotated_jpeg_is_stored_as_png(decoder: PillowImageDecoder, orientation: int) -> None:
    decoded = await decoder.decode(images.jpeg(256, 192, "L", orientation), "phone.jpg")
    assert decoded.stored_image.startswith(images.PNG_SIGNATURE)


async def test_large_images_are_stored_at_most_1024_pixels(decoder: PillowImageDecoder) -> None:
    decoded = await decoder.decode(images.png(3000, 1500), "big.png")
    assert (decoded.width, decoded.height) == (3000, 1500)
    assert stored(decoded).size == (1024, 512)


async def test_large_jpeg_uses_draft_mode_and_stays_close(decoder: PillowImageDecoder) -> None:
    data = images.jpeg(2600, 2080, "L")  # both sides over 2x1024: libjpeg decodes at 1/2
    decoded = await decoder.decode(data, "big.jpg")
    assert (decoded.width, decoded.height) == (2600, 2080)
    assert stored(decoded).size == (1024, 819)
    full = Image.open(io.BytesIO(data))
    full.load()
    reference = preprocess(full)
    assert np.abs(model_input(decoded).astype(int) - reference.astype(int)).mean() < 2


async def test_model_input_is_reproducible_from_the_stored_image(
    decoder: PillowImageDecoder,
) -> None:
    decoded = await decoder.decode(images.jpeg(2000, 1600, "RGB", orientation=6), "x.jpg")
    again = await decoder.decode(decoded.stored_image, "stored.png")
    assert again.model_input == decoded.model_input
    assert again.sha256 == hashlib.sha256(decoded.stored_image).hexdigest() == decoded.sha256


async def test_optional_bmp_and_tiff() -> None:
    decoder = PillowImageDecoder(formats=("PNG", "JPEG", "BMP", "TIFF"))
    for fmt in ("BMP", "TIFF"):
        decoded = await decoder.decode(images.encode(images.image(), fmt), f"scan.{fmt}")
        assert decoded.source_format == fmt
        assert np.array_equal(np.asarray(stored(decoded)), images.gradient(256, 192))


def test_unknown_formats_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="Supported formats"):
        PillowImageDecoder(formats=("PNG", "GIF"))


async def test_decoding_runs_off_the_event_loop(decoder: PillowImageDecoder) -> None:
    data = images.png(2048, 2048)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    results = await asyncio.gather(*(decoder.decode(data, f"{i}.png") for i in range(4)))
    elapsed = time.perf_counter() - started
    ticking.cancel()
    assert len({r.sha256 for r in results}) == 1
    assert ticks >= elapsed / 0.005 / 10


def _text_chunk(key: str, value: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info
