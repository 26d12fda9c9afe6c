"""Behaviour every ImageDecoder must share."""

from __future__ import annotations

import hashlib

import pytest

from application.ports import DecodedImage, ImageDecoder
from domain.errors import ImageTooLarge, InvalidImage, UnsupportedImageFormat

MODEL_INPUT_BYTES = 128 * 128 * 3
# What the service can store and serve: PNG, or a JPEG kept as it came (metadata stripped).
STORED_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


class ImageDecoderContract:
    """Needs fixtures ``image_decoder`` (the decoder under test, limits at their defaults:
    10 MiB and 4096x4096 pixels) and ``valid_image``: bytes of a 256x192 image it accepts.
    """

    def test_is_an_image_decoder(self, image_decoder: ImageDecoder) -> None:
        assert isinstance(image_decoder, ImageDecoder)

    async def test_decodes_a_valid_image(
        self, image_decoder: ImageDecoder, valid_image: bytes
    ) -> None:
        decoded = await image_decoder.decode(valid_image, "scan.png")
        assert isinstance(decoded, DecodedImage)
        assert (decoded.width, decoded.height) == (256, 192)
        assert len(decoded.model_input) == MODEL_INPUT_BYTES
        assert decoded.stored_image.startswith(STORED_SIGNATURES)
        assert decoded.sha256 == hashlib.sha256(decoded.stored_image).hexdigest()
        assert decoded.source_format in ("PNG", "JPEG", "BMP", "TIFF", "DICOM")

    async def test_same_bytes_give_the_same_content_address(
        self, image_decoder: ImageDecoder, valid_image: bytes
    ) -> None:
        first = await image_decoder.decode(valid_image, "a.png")
        second = await image_decoder.decode(valid_image, "b.jpg")
        assert first.sha256 == second.sha256
        assert first.model_input == second.model_input

    async def test_the_file_name_does_not_decide_the_format(
        self, image_decoder: ImageDecoder, valid_image: bytes
    ) -> None:
        for name in ("scan.txt", "scan", "", "../../etc/passwd"):
            decoded = await image_decoder.decode(valid_image, name)
            assert len(decoded.model_input) == MODEL_INPUT_BYTES

    async def test_refuses_zero_bytes(self, image_decoder: ImageDecoder) -> None:
        with pytest.raises(InvalidImage):
            await image_decoder.decode(b"", "empty.png")

    async def test_refuses_text_renamed_png(self, image_decoder: ImageDecoder) -> None:
        with pytest.raises(UnsupportedImageFormat):
            await image_decoder.decode(b"just some notes, not a scan\n" * 40, "scan.png")

    async def test_refuses_oversize_uploads(
        self, image_decoder: ImageDecoder, valid_image: bytes
    ) -> None:
        oversize = valid_image + b"\x00" * (10 * 1024 * 1024)
        with pytest.raises(ImageTooLarge):
            await image_decoder.decode(oversize, "huge.png")

    async def test_refuses_a_truncated_image(
        self, image_decoder: ImageDecoder, valid_image: bytes
    ) -> None:
        with pytest.raises(InvalidImage):
            await image_decoder.decode(valid_image[: len(valid_image) // 2], "cut.png")

    async def test_frame_zero_is_the_default_and_a_missing_frame_is_refused(
        self, image_decoder: ImageDecoder, valid_image: bytes
    ) -> None:
        first = await image_decoder.decode(valid_image, "scan.png", frame=0)
        assert first == await image_decoder.decode(valid_image, "scan.png")
        with pytest.raises(InvalidImage) as refused:
            await image_decoder.decode(valid_image, "scan.png", frame=1)
        assert refused.value.params["frame"] == 1
