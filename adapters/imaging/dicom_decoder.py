"""DICOM upload decoding with pydicom: one frame, its ultrasound region, a de-identified copy."""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import re
import struct
import zlib
from datetime import date
from typing import Any

import anyio
import anyio.to_thread
import numpy as np
import pydicom
from dicomanonymizer.simpledicomanonymizer import anonymize_dataset, empty, initialize_actions, keep
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, convert_color_space
from pydicom.pixels.utils import pixel_array
from pydicom.sequence import Sequence
from pydicom.uid import UID, JPEGBaseline8Bit
from pydicom.valuerep import DA

from adapters.imaging.limits import MIB, check_bytes, check_pixels
from adapters.imaging.pillow_decoder import _encode_png, _for_storage, _reason, _shown_name
from adapters.imaging.preprocessing import MODEL_INPUT_SIZE, preprocess
from application.ports import DecodedImage, DicomInfo
from domain.errors import ErrorCode, ImageTooLarge, InvalidImage, UnsupportedImageFormat

DICOM_MAGIC = b"DICM"
DICOM_MAGIC_OFFSET = 128
PHOTOMETRICS = frozenset(
    {"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT"}
    | {"PALETTE COLOR"}
)
CM_UNITS = 3  # PhysicalUnitsX/YDirection code for centimetres (PS3.3 C.8.5.5.1.15)
TISSUE_2D = 1  # RegionSpatialFormat of a 2D tissue image (PS3.3 C.8.5.5.1.1)
# What pydicom raises for damaged files besides InvalidDicomError.
_PARSE_ERRORS = (
    InvalidDicomError,
    BytesLengthException,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    struct.error,
    zlib.error,
    RuntimeError,
)
# A value pydicom quotes in its messages (bytes or text of an element): never shown back.
_QUOTED = re.compile(r"""b?'[^']*'?|b?"[^"]*"?""")
# PS3.16 CID 7050 codes of what was done to the copy (PS3.15 E.1-1 and E.3.1).
_DEIDENTIFICATION_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113110", "Retain UIDs Option"),
)


def is_dicom(data: bytes) -> bool:
    """A DICOM Part 10 file: the magic `DICM` after the 128-byte preamble."""
    return data[DICOM_MAGIC_OFFSET : DICOM_MAGIC_OFFSET + 4] == DICOM_MAGIC


class PydicomImageDecoder:
    """ImageDecoder port for DICOM Part 10 files (ultrasound first, any 2D image modality).

    One frame is analysed (the first unless told), cropped to the ultrasound region that holds
    the image (SequenceOfUltrasoundRegions), whose physical deltas give the pixel spacing;
    rescale and the first VOI window are applied to monochrome data, MONOCHROME1 is inverted,
    colour spaces become RGB. The frame then goes through the same storage and preprocessing
    steps as a PNG upload. The de-identified copy follows the PS3.15 basic profile with the
    Retain UIDs option (the tag table of the `dicom-anonymizer` package). Decoding runs in
    worker threads, at most ``max_concurrency`` at once.
    """

    def __init__(
        self,
        max_bytes: int = 10 * MIB,
        max_pixels: int = 4096 * 4096,
        max_frames: int = 2000,
        max_stored_side: int = 1024,
        max_concurrency: int = 2,
        png_compress_level: int = 1,
    ) -> None:
        if max_stored_side < MODEL_INPUT_SIZE:
            raise ValueError(f"max_stored_side must be at least {MODEL_INPUT_SIZE}")
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.max_frames = max_frames
        self.max_stored_side = max_stored_side
        self._png_compress_level = png_compress_level
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        return await anyio.to_thread.run_sync(
            self.decode_sync, data, filename, frame, limiter=self._limiter
        )

    def decode_sync(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        """The whole decode in the calling thread; `frame` is 0-based (None: the first)."""
        shown = _shown_name(filename)
        name = f"'{shown}'" if shown else "The upload"
        check_bytes(data, self.max_bytes, name, shown)
        if not is_dicom(data):
            raise UnsupportedImageFormat(
                f"{name} is not a DICOM image.",
                ErrorCode.IMAGE_FORMAT_NOT_ACCEPTED,
                filename=shown,
                formats=("DICOM",),
            )
        try:
            return self._decode(pydicom.dcmread(io.BytesIO(data)), frame, name, shown)
        except _PARSE_ERRORS as error:
            reason = _QUOTED.sub("...", _reason(error))  # values quoted by pydicom stay out
            raise InvalidImage(
                f"{name} is not a readable DICOM file ({reason}).",
                ErrorCode.DICOM_CORRUPT,
                filename=shown,
                reason=reason,
            ) from None

    def _decode(self, dataset: Dataset, frame: int | None, name: str, shown: str) -> DecodedImage:
        frame_count = self._check(dataset, name, shown)
        index = self._frame_index(frame, frame_count, name, shown)
        pixels = _display_pixels(dataset, index)
        (left, top, right, bottom), spacing = image_region(dataset, *pixels.shape[1::-1])
        analysed = Image.fromarray(np.ascontiguousarray(pixels[top:bottom, left:right]))
        stored = _for_storage(analysed, self.max_stored_side)
        if spacing is not None:  # per stored pixel: the storage copy may be downscaled
            spacing = (
                spacing[0] * analysed.height / stored.height,
                spacing[1] * analysed.width / stored.width,
            )
        model_input = np.ascontiguousarray(preprocess(stored), dtype=np.uint8).tobytes()
        stored_image = _encode_png(stored, self._png_compress_level)
        return DecodedImage(
            model_input=model_input,
            stored_image=stored_image,
            sha256=hashlib.sha256(stored_image).hexdigest(),
            width=analysed.width,
            height=analysed.height,
            source_format="DICOM",
            stored_width=stored.width,
            stored_height=stored.height,
            pixel_spacing_mm=spacing,
            dicom=_info(dataset, index, frame_count),
        )

    def _check(self, dataset: Dataset, name: str, shown: str) -> int:
        """The frame count, once the file is known to hold pixels this decoder can read."""
        if "TransferSyntaxUID" not in dataset.file_meta:  # cut inside its meta header
            raise InvalidImage(
                f"{name} is not a readable DICOM file (no transfer syntax).",
                ErrorCode.DICOM_CORRUPT,
                filename=shown,
                reason="no transfer syntax",
            )
        if "PixelData" not in dataset:
            raise InvalidImage(
                f"{name} is a DICOM file without an image.",
                ErrorCode.DICOM_NO_PIXEL_DATA,
                filename=shown,
            )
        syntax = UID(dataset.file_meta.TransferSyntaxUID)
        if not _can_decode(syntax):
            label = syntax.name if syntax.is_valid else "none"
            raise UnsupportedImageFormat(
                f"{name} uses a DICOM compression this server cannot read ({label}).",
                ErrorCode.DICOM_SYNTAX_UNSUPPORTED,
                filename=shown,
                syntax=label,
            )
        photometric = str(dataset.get("PhotometricInterpretation", "")).strip()
        if photometric not in PHOTOMETRICS:
            raise UnsupportedImageFormat(
                f"{name} has a colour model this server cannot read ({photometric or 'none'}).",
                ErrorCode.DICOM_PHOTOMETRIC_UNSUPPORTED,
                filename=shown,
                photometric=photometric or "none",
            )
        width, height = int(dataset.get("Columns", 0)), int(dataset.get("Rows", 0))
        check_pixels(width, height, self.max_pixels, name, shown)
        frame_count = int(dataset.get("NumberOfFrames", 1) or 1)
        if frame_count > self.max_frames:
            raise ImageTooLarge(
                f"{name} has {frame_count:,} frames; the limit is {self.max_frames:,}.",
                ErrorCode.DICOM_TOO_MANY_FRAMES,
                filename=shown,
                count=frame_count,
                limit=self.max_frames,
            )
        return frame_count

    @staticmethod
    def _frame_index(frame: int | None, frame_count: int, name: str, shown: str) -> int:
        if frame is None:
            return 0
        if not 0 <= frame < frame_count:
            raise InvalidImage(
                f"{name} has {frame_count} frames; frame {frame} does not exist.",
                ErrorCode.DICOM_FRAME_MISSING,
                filename=shown,
                frame=frame,
                count=frame_count,
            )
        return frame


def _can_decode(syntax: UID) -> bool:
    if not syntax.is_valid or not syntax.is_transfer_syntax:
        return False
    if not syntax.is_compressed:
        return True
    try:
        return bool(get_decoder(syntax).is_available)
    except NotImplementedError:  # a syntax pydicom has no decoder for (MPEG, ...)
        return False


def _display_pixels(dataset: Dataset, index: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Frame `index` as 8-bit grayscale (rows x columns) or RGB (rows x columns x 3)."""
    photometric = str(dataset.PhotometricInterpretation).strip()
    ybr = photometric in ("YBR_FULL", "YBR_FULL_422")
    # JPEG baseline through Pillow (libjpeg-turbo) and full-range YCbCr through Pillow's
    # converter: a third of the time of pylibjpeg and pydicom's numpy conversion.
    plugin = "pillow" if dataset.file_meta.TransferSyntaxUID == JPEGBaseline8Bit else ""
    raw = pixel_array(dataset, index=index, decoding_plugin=plugin, as_rgb=not ybr)
    if ybr and raw.ndim == 3 and raw.dtype == np.uint8:
        raw = np.asarray(Image.fromarray(raw, "YCbCr").convert("RGB"))
    elif ybr:
        raw = convert_color_space(raw, "YBR_FULL", "RGB")
    if photometric == "PALETTE COLOR":
        return _to_uint8(apply_color_lut(raw, dataset))
    if raw.ndim == 3:  # RGB (and YBR, converted)
        return _to_uint8(raw)
    values = apply_modality_lut(raw, dataset).astype(np.float64)
    center, width = _window(dataset)
    if width is not None and center is not None and width >= 1:
        # Linear VOI function, PS3.3 C.11.2.1.2.1, to [0, 1].
        scaled = np.clip((values - (center - 0.5)) / (width - 1) + 0.5, 0.0, 1.0)
    elif raw.dtype == np.uint8:
        scaled = np.clip(values, 0, 255) / 255.0
    else:  # no window: the frame's own range
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    if photometric == "MONOCHROME1":
        scaled = 1.0 - scaled
    return np.asarray(np.round(scaled * 255.0), dtype=np.uint8)


def _to_uint8(pixels: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.uint8]]:
    if pixels.dtype == np.uint8:
        return pixels
    top = float(pixels.max(initial=0))
    scale = 255.0 / (65535.0 if top > 255 else 255.0)
    return np.asarray(np.round(pixels.astype(np.float64) * scale), dtype=np.uint8)


def _window(dataset: Dataset) -> tuple[float | None, float | None]:
    """The first VOI window (WindowCenter, WindowWidth), or (None, None)."""
    center, width = dataset.get("WindowCenter"), dataset.get("WindowWidth")
    if center is None or width is None:
        return None, None
    first = [value[0] if isinstance(value, MultiValue) else value for value in (center, width)]
    return float(first[0]), float(first[1])


def image_region(
    dataset: Dataset, width: int, height: int
) -> tuple[tuple[int, int, int, int], tuple[float, float] | None]:
    """(left, top, right, bottom) of the image data and its (row, column) spacing in mm.

    The largest 2D ultrasound region whose physical deltas are centimetres wins; without
    one, the whole frame and PixelSpacing (mm) when the file has it."""
    regions: list[tuple[int, tuple[int, int, int, int], tuple[float, float]]] = []
    for item in dataset.get("SequenceOfUltrasoundRegions", Sequence()):
        box = _clamp(item, width, height)
        if box is None or int(item.get("RegionSpatialFormat", 0)) != TISSUE_2D:
            continue
        units = (
            int(item.get("PhysicalUnitsYDirection", 0)),
            int(item.get("PhysicalUnitsXDirection", 0)),
        )
        deltas = (
            abs(float(item.get("PhysicalDeltaY", 0))),
            abs(float(item.get("PhysicalDeltaX", 0))),
        )
        if units == (CM_UNITS, CM_UNITS) and min(deltas) > 0:
            area = (box[2] - box[0]) * (box[3] - box[1])
            regions.append((area, box, (deltas[0] * 10.0, deltas[1] * 10.0)))
    if regions:
        _, box, spacing = max(regions, key=lambda region: region[0])
        return box, spacing
    spacing = dataset.get("PixelSpacing")
    mm = (
        (float(spacing[0]), float(spacing[1]))
        if spacing is not None and len(spacing) == 2
        else None
    )
    return (0, 0, width, height), mm if mm is not None and min(mm) > 0 else None


def _clamp(region: Dataset, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The region's box within the frame (right and bottom exclusive), or None if empty."""
    try:
        x0, y0 = int(region.RegionLocationMinX0), int(region.RegionLocationMinY0)
        x1, y1 = int(region.RegionLocationMaxX1), int(region.RegionLocationMaxY1)
    except (AttributeError, TypeError, ValueError):
        return None
    left, top = max(0, x0), max(0, y0)
    right, bottom = min(width, x1 + 1), min(height, y1 + 1)
    return (left, top, right, bottom) if right > left and bottom > top else None


def _info(dataset: Dataset, index: int, frame_count: int) -> DicomInfo:
    return DicomInfo(
        patient_id=tag_text(dataset, "PatientID"),
        accession_number=tag_text(dataset, "AccessionNumber"),
        study_instance_uid=tag_text(dataset, "StudyInstanceUID"),
        series_instance_uid=tag_text(dataset, "SeriesInstanceUID"),
        sop_instance_uid=tag_text(dataset, "SOPInstanceUID"),
        sop_class_uid=tag_text(dataset, "SOPClassUID"),
        study_date=tag_date(tag_text(dataset, "StudyDate")),
        laterality=_laterality(dataset),
        view=_view(dataset),
        frame_index=index,
        frame_count=frame_count,
        deidentified=deidentify(dataset),
    )


def tag_text(dataset: Dataset, keyword: str) -> str | None:
    """The element's value as stripped text (at most 200 characters); None when empty."""
    value = dataset.get(keyword)
    text = "" if value is None else str(value).strip()
    return text[:200] or None


def tag_date(text: str | None) -> date | None:
    """A DA value (YYYYMMDD, or the old YYYY.MM.DD) as a date; None when absent or invalid."""
    try:
        return date.fromordinal(DA(text).toordinal()) if text else None
    except (TypeError, ValueError):
        return None


def _laterality(dataset: Dataset) -> str | None:
    for keyword in ("ImageLaterality", "Laterality"):
        value = (tag_text(dataset, keyword) or "").upper()
        if value in ("L", "R"):
            return value
    return None


def _view(dataset: Dataset) -> str | None:
    for item in dataset.get("ViewCodeSequence", Sequence()):
        meaning = tag_text(item, "CodeMeaning")
        if meaning:
            return meaning
    return tag_text(dataset, "ViewPosition") or tag_text(dataset, "SeriesDescription")


def deidentify(dataset: Dataset) -> bytes:
    """A Part 10 copy under the PS3.15 basic profile with the Retain UIDs option.

    The profile's tag actions (PS3.15 table E.1-1, the 2026c edition as tabulated by the
    `dicom-anonymizer` package) with its UID actions turned into keep, PatientID emptied
    (the caller keeps it for the patient reference), private tags removed, and the
    de-identification recorded (PatientIdentityRemoved, DeidentificationMethod(CodeSequence)).
    """
    copied = copy.deepcopy(dataset)
    anonymize_dataset(copied, _retain_uids(), delete_private_tags=True, base_rules_gen=_profile)
    copied.PatientIdentityRemoved = "YES"
    copied.DeidentificationMethod = "; ".join(meaning for _, meaning in _DEIDENTIFICATION_CODES)
    codes = []
    for value, meaning in _DEIDENTIFICATION_CODES:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
        codes.append(code)
    copied.DeidentificationMethodCodeSequence = Sequence(codes)
    out = io.BytesIO()
    copied.save_as(out, enforce_file_format=True)
    return out.getvalue()


def _profile() -> dict[Any, Any]:
    return initialize_actions("dicomfields_2026c")  # type: ignore[no-any-return]


@functools.cache
def _retain_uids() -> dict[Any, Any]:
    """Retain UIDs option: every UID the profile would replace is kept; PatientID emptied."""
    rules: dict[Any, Any] = {
        tag: keep for tag, action in _profile().items() if _is_uid_action(action)
    }
    rules[(0x0010, 0x0020)] = empty
    return rules


def _is_uid_action(action: Any) -> bool:
    return "UID" in getattr(action, "__name__", "")
