"""DICOM Part 10 files for tests, written with pydicom: each photometric interpretation, JPEG
baseline frames, multi-frame cine loops, an ultrasound region sequence, and broken files."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels.processing import convert_color_space
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    MPEG2MPML,
    UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
)

from tests.images import gradient, image

STUDY_UID = "1.2.826.0.1.3680043.10.1234.1"
SERIES_UID = "1.2.826.0.1.3680043.10.1234.1.2"
SOP_UID = "1.2.826.0.1.3680043.10.1234.1.2.3"
# What a clinic's file says about the patient: the de-identified copy must not keep it.
IDENTIFYING = {
    "PatientName": "DOE^JANE",
    "PatientBirthDate": "19700101",
    "PatientAddress": "1 Rue de la Paix, Paris",
    "ReferringPhysicianName": "HOUSE^GREGORY",
    "InstitutionName": "Clinique du Sein",
    "InstitutionAddress": "2 Avenue Foch, Paris",
    "OperatorsName": "SMITH^ANNA",
    "OtherPatientIDs": "OLD-42",
}
PATIENT_ID = "MRN-0042"
ACCESSION = "ACC-2026-7"


def base(frames: int = 1, sop_class: UID = UltrasoundImageStorage) -> Dataset:
    """A breast ultrasound image's header (no pixels): patient, study and view tags."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = UID(SOP_UID)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, SOP_UID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY_UID, SERIES_UID
    ds.Modality = "US"
    ds.PatientID, ds.AccessionNumber = PATIENT_ID, ACCESSION
    ds.StudyDate, ds.StudyTime = "20260314", "101500"
    ds.ImageLaterality = "L"
    ds.BodyPartExamined = "BREAST"
    ds.SeriesDescription = "Breast L radial"
    for keyword, value in IDENTIFYING.items():
        setattr(ds, keyword, value)
    ds.add_new((0x0009, 0x0010), "LO", "ACME private")  # a private block: must not survive
    ds.add_new((0x0009, 0x1001), "LO", "DOE JANE 1970")
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def gray(width: int = 256, height: int = 192) -> np.ndarray:
    return gradient(width, height)


def rgb(width: int = 256, height: int = 192) -> np.ndarray:
    return np.asarray(image(width, height, "RGB"))


def native(
    pixels: np.ndarray,
    photometric: str = "MONOCHROME2",
    bits_stored: int = 8,
    ds: Dataset | None = None,
) -> bytes:
    """An uncompressed file holding `pixels` ([frames,] rows, columns[, 3]) as given."""
    ds = ds or base(frames=pixels.shape[0] if _frames(pixels, photometric) else 1)
    ds.set_pixel_data(pixels, photometric, bits_stored, generate_instance_uid=False)
    return write(ds)


def _frames(pixels: np.ndarray, photometric: str) -> bool:
    colour = photometric not in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")
    return pixels.ndim == (4 if colour else 3)


def monochrome1(pixels: np.ndarray) -> bytes:
    """The same picture as MONOCHROME2 `pixels`, stored inverted (0 is white)."""
    return native(255 - pixels, "MONOCHROME1")


def ybr_full(pixels: np.ndarray) -> bytes:
    """RGB `pixels` stored uncompressed as YBR_FULL."""
    return native(convert_color_space(pixels, "RGB", "YBR_FULL"), "YBR_FULL")


def windowed(pixels: np.ndarray, center: float, width: float, slope: float = 1.0) -> bytes:
    """16-bit MONOCHROME2 with a rescale and a VOI window (12 bits stored)."""
    ds = base()
    ds.set_pixel_data(pixels.astype(np.uint16), "MONOCHROME2", 12, generate_instance_uid=False)
    ds.WindowCenter, ds.WindowWidth = center, width
    ds.RescaleSlope, ds.RescaleIntercept = slope, 0
    return write(ds)


def jpeg_baseline(frames: Sequence[np.ndarray], quality: int = 95) -> bytes:
    """RGB frames as JPEG baseline (4:2:2, so YBR_FULL_422), encapsulated, as devices send."""
    height, width = frames[0].shape[:2]
    ds = base(frames=len(frames), sop_class=_sop_class(len(frames)))
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.Rows, ds.Columns = height, width
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL_422", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.LossyImageCompression = "01"
    encoded = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, "JPEG", quality=quality, subsampling="4:2:2")
        encoded.append(buffer.getvalue())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    return write(ds)


def compressed(pixels: np.ndarray, syntax: UID) -> bytes:
    """Grayscale `pixels` compressed by pydicom's own encoders (RLE, JPEG 2000 lossless)."""
    ds = base()
    ds.set_pixel_data(pixels, "MONOCHROME2", 8, generate_instance_uid=False)
    ds.compress(syntax)
    return write(ds)


def palette(indices: np.ndarray) -> bytes:
    """PALETTE COLOR: 8-bit indices into 16-bit LUTs; index i is (i, 255 - i, i) in 8 bits."""
    ds = base()
    ds.set_pixel_data(indices, "PALETTE COLOR", 8, generate_instance_uid=False)
    ramp = np.arange(256, dtype=np.uint16) * 257
    for colour, lut in (("Red", ramp), ("Green", ramp[::-1]), ("Blue", ramp)):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", lut.astype("<u2").tobytes())
    return write(ds)


def multi_frame(count: int = 5, width: int = 128, height: int = 96) -> bytes:
    """A grayscale cine loop whose frame i is uniformly 40 * i + 10."""
    frames = np.stack([np.full((height, width), 40 * i + 10, dtype=np.uint8) for i in range(count)])
    ds = base(frames=count, sop_class=UltrasoundMultiFrameImageStorage)
    return native(frames, ds=ds)


def with_region(
    pixels: np.ndarray, box: tuple[int, int, int, int], delta_cm: tuple[float, float]
) -> bytes:
    """`pixels` with one 2D tissue region (x0, y0, x1, y1 inclusive) of (x, y) cm per pixel,
    and a small non-tissue region (a spectral strip) beside it that must not be chosen."""
    ds = base()
    ds.SequenceOfUltrasoundRegions = DicomSequence(
        [_region(box, delta_cm, spatial_format=1), _region((0, 0, 9, 9), (0.5, 0.5), 3)]
    )
    return native(pixels, ds=ds)


def _region(
    box: tuple[int, int, int, int], delta_cm: tuple[float, float], spatial_format: int
) -> Dataset:
    item = Dataset()
    item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = spatial_format, 1, 0
    (
        item.RegionLocationMinX0,
        item.RegionLocationMinY0,
        item.RegionLocationMaxX1,
        item.RegionLocationMaxY1,
    ) = box
    item.PhysicalUnitsXDirection = item.PhysicalUnitsYDirection = 3  # cm
    item.PhysicalDeltaX, item.PhysicalDeltaY = delta_cm
    return item


def _sop_class(frames: int) -> UID:
    return UltrasoundMultiFrameImageStorage if frames > 1 else UltrasoundImageStorage


def write(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# --- broken and refused files ---------------------------------------------------------------


def no_pixel_data() -> bytes:
    """A well-formed DICOM file without an image (e.g. a structured report)."""
    ds = base()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = UID("1.2.840.10008.5.1.4.1.1.88.11")
    ds.Modality = "SR"
    return write(ds)


def truncated() -> bytes:
    data = native(gray(256, 192))
    return data[: len(data) * 2 // 3]


def header_only() -> bytes:
    """The preamble, the magic and half an element: a file cut inside its meta header."""
    return native(gray(16, 16))[:150]


def unsupported_syntax() -> bytes:
    """An MPEG-2 video: a transfer syntax no pixel decoder here reads."""
    ds = base()
    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 192, 256, 3
    ds.PhotometricInterpretation = "YBR_PARTIAL_420"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + b"\x00" * 60])
    ds["PixelData"].VR = "OB"
    return write(ds)


def unsupported_photometric() -> bytes:
    """Four samples a pixel in the retired CMYK colour model."""
    ds = base()
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 8, 8, 4
    ds.PhotometricInterpretation, ds.PlanarConfiguration = "CMYK", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes(8 * 8 * 4)
    return write(ds)


def huge_frame_count(frames: int = 1_000_000) -> bytes:
    """A header that claims a million frames over one frame's pixels."""
    ds = base()
    ds.set_pixel_data(gray(16, 16), "MONOCHROME2", 8, generate_instance_uid=False)
    ds.NumberOfFrames = frames
    return write(ds)


def huge_frame(side: int = 5000) -> bytes:
    """One frame of side x side pixels, over the decoder's default pixel limit (pixels not
    all there: the size check comes first)."""
    ds = base()
    ds.set_pixel_data(gray(16, 16), "MONOCHROME2", 8, generate_instance_uid=False)
    ds.Rows = ds.Columns = side
    return write(ds)
