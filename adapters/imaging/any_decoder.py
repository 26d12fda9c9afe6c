"""One ImageDecoder for every accepted upload: DICOM by its magic bytes, the rest by Pillow."""

from __future__ import annotations

from adapters.imaging.dicom_decoder import is_dicom
from application.ports import DecodedImage, ImageDecoder
from domain.errors import ErrorCode, UnsupportedImageFormat


class FormatSniffingDecoder:
    """ImageDecoder port: a DICOM Part 10 file (`DICM` at byte 128, whatever its name) goes
    to the DICOM decoder, anything else to the picture decoder; a refusal of the format
    names DICOM among the accepted ones."""

    def __init__(self, pictures: ImageDecoder, dicom: ImageDecoder) -> None:
        self._pictures = pictures
        self._dicom = dicom

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        if is_dicom(data):
            return await self._dicom.decode(data, filename, frame)
        try:
            return await self._pictures.decode(data, filename, frame)
        except UnsupportedImageFormat as error:
            formats = error.params.get("formats")
            if error.code != ErrorCode.IMAGE_FORMAT_NOT_ACCEPTED or not isinstance(formats, tuple):
                raise
            accepted = (*formats, "DICOM")
            params = {**error.params, "formats": accepted}
            message = error.message.replace(" or ".join(formats), " or ".join(accepted))
            raise UnsupportedImageFormat(message, error.code, **params) from None
