"""The DICOM decoder and the format-sniffing decoder on files pydicom writes here."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.uid import UID, JPEG2000Lossless, RLELossless

from adapters.imaging.any_decoder import FormatSniffingDecoder
from adapters.imaging.dicom_decoder import PydicomImageDecoder, tag_date, tag_text
from adapters.imaging.pillow_decoder import PillowImageDecoder
from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from application.ports import DecodedImage, DicomInfo
from domain.errors import ErrorCode, ImageTooLarge, InvalidImage, UnsupportedImageFormat
from tests import dicom_samples as samples
from tests import images
from tests.contracts.image_decoder_contract import ImageDecoderContract

pytestmark = pytest.mark.integration


class TestPydicomDecoder(ImageDecoderContract):
    @pytest.fixture
    def image_decoder(self) -> PydicomImageDecoder:
        return PydicomImageDecoder()

    @pytest.fixture
    def valid_image(self) -> bytes:
        return samples.native(samples.gray(256, 192))


def sniffing() -> FormatSniffingDecoder:
    return FormatSniffingDecoder(PillowImageDecoder(), PydicomImageDecoder())


class TestFormatSniffingDecoderWithDicom(ImageDecoderContract):
    @pytest.fixture
    def image_decoder(self) -> FormatSniffingDecoder:
        return sniffing()

    @pytest.fixture
    def valid_image(self) -> bytes:
        return samples.jpeg_baseline([samples.rgb(256, 192)])


class TestFormatSniffingDecoderWithPng(ImageDecoderContract):
    @pytest.fixture
    def image_decoder(self) -> FormatSniffingDecoder:
        return sniffing()

    @pytest.fixture
    def valid_image(self) -> bytes:
        return images.png(256, 192)


@pytest.fixture
def decoder() -> PydicomImageDecoder:
    return PydicomImageDecoder()


def pixels_of(decoded: DecodedImage) -> np.ndarray:
    with Image.open(io.BytesIO(decoded.stored_image), formats=["PNG"]) as picture:
        return np.asarray(picture.convert("RGB")).astype(np.int16)


def model_input(decoded: DecodedImage) -> np.ndarray:
    shape = (MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3)
    return np.frombuffer(decoded.model_input, dtype=np.uint8).reshape(shape).astype(np.int16)


def info(decoded: DecodedImage) -> DicomInfo:
    assert decoded.dicom is not None
    return decoded.dicom


# --- pixels: equal pixels give the PNG path's model input -------------------------------------


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_equal_pixels_give_the_same_model_input_and_stored_image_as_a_png(
    decoder: PydicomImageDecoder, mode: str
) -> None:
    picture = images.image(320, 240, mode)
    photometric = "MONOCHROME2" if mode == "L" else "RGB"
    dicom = decoder.decode_sync(samples.native(np.asarray(picture), photometric), "a.dcm")
    png = PillowImageDecoder().decode_sync(images.encode(picture), "a.png")
    assert dicom.model_input == png.model_input
    assert dicom.stored_image == png.stored_image
    assert (dicom.width, dicom.height, dicom.source_format) == (320, 240, "DICOM")
    assert dicom.pixel_spacing_mm is None
    assert png.dicom is None


def test_monochrome1_is_inverted_to_the_monochrome2_picture(decoder: PydicomImageDecoder) -> None:
    gray = samples.gray()
    straight = decoder.decode_sync(samples.native(gray), "m2.dcm")
    inverted = decoder.decode_sync(samples.monochrome1(gray), "m1.dcm")
    assert inverted.model_input == straight.model_input


def test_ybr_full_is_converted_back_to_rgb(decoder: PydicomImageDecoder) -> None:
    rgb = samples.rgb()
    decoded = decoder.decode_sync(samples.ybr_full(rgb), "ybr.dcm")
    assert np.abs(pixels_of(decoded) - rgb.astype(np.int16)).max() <= 2


def test_jpeg_baseline_ybr_422_frames_decode_to_their_picture(
    decoder: PydicomImageDecoder,
) -> None:
    rgb = samples.rgb(256, 192)
    data = samples.jpeg_baseline([rgb])
    assert pydicom.dcmread(io.BytesIO(data)).file_meta.TransferSyntaxUID.is_compressed
    decoded = decoder.decode_sync(data, "jpeg.dcm")
    difference = np.abs(pixels_of(decoded) - rgb.astype(np.int16))
    assert difference.mean() < 3  # lossy JPEG with 4:2:2 chroma, converted from YCbCr
    assert decoded.stored_size == (256, 192)


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, RLELossless], ids=["j2k", "rle"])
def test_lossless_compressions_give_the_uncompressed_result(
    decoder: PydicomImageDecoder, syntax: UID
) -> None:
    gray = samples.gray()
    decoded = decoder.decode_sync(samples.compressed(gray, syntax), "c.dcm")
    assert decoded.model_input == decoder.decode_sync(samples.native(gray), "n.dcm").model_input


def test_palette_colour_goes_through_its_lookup_tables(decoder: PydicomImageDecoder) -> None:
    indices = samples.gray() // 2
    decoded = decoder.decode_sync(samples.palette(indices), "p.dcm")
    expected = np.stack([indices, 255 - indices, indices], axis=2).astype(np.int16)
    assert np.array_equal(pixels_of(decoded), expected)


def test_a_window_maps_the_stored_values_linearly(decoder: PydicomImageDecoder) -> None:
    values = np.tile(np.array([0, 1000, 2047, 2048, 3000, 4095], dtype=np.uint16), (64, 11))
    decoded = decoder.decode_sync(samples.windowed(values, center=2048, width=2048), "w.dcm")
    row = pixels_of(decoded)[0, :6, 0]
    # PS3.3 C.11.2.1.2.1: below c - w/2 (1024) black, above c + w/2 - 1 (3071) white.
    expected = [0, 0, 127, 128, round(((3000 - 2047.5) / 2047 + 0.5) * 255), 255]
    assert np.abs(row - np.array(expected)).max() <= 1


# --- frames ----------------------------------------------------------------------------------


def test_a_cine_loop_analyses_the_first_frame_and_says_so(decoder: PydicomImageDecoder) -> None:
    decoded = decoder.decode_sync(samples.multi_frame(count=5), "cine.dcm")
    assert (info(decoded).frame_index, info(decoded).frame_count) == (0, 5)
    assert int(pixels_of(decoded).max()) == 10


def test_a_chosen_frame_is_analysed(decoder: PydicomImageDecoder) -> None:
    decoded = decoder.decode_sync(samples.multi_frame(count=5), "cine.dcm", frame=3)
    assert info(decoded).frame_index == 3
    assert int(pixels_of(decoded).min()) == int(pixels_of(decoded).max()) == 130


def test_a_frame_past_the_last_is_refused(decoder: PydicomImageDecoder) -> None:
    with pytest.raises(InvalidImage) as refused:
        decoder.decode_sync(samples.multi_frame(count=5), "cine.dcm", frame=5)
    assert refused.value.code is ErrorCode.DICOM_FRAME_MISSING
    assert refused.value.params == {"filename": "cine.dcm", "frame": 5, "count": 5}


def test_jpeg_frames_of_a_cine_loop_are_decoded_one_at_a_time(
    decoder: PydicomImageDecoder,
) -> None:
    frames = [np.full((96, 128, 3), level, dtype=np.uint8) for level in (30, 200)]
    decoded = decoder.decode_sync(samples.jpeg_baseline(frames), "cine.dcm", frame=1)
    assert abs(float(pixels_of(decoded).mean()) - 200) < 2
    assert (info(decoded).frame_index, info(decoded).frame_count) == (1, 2)


# --- the ultrasound region -------------------------------------------------------------------


def test_the_tissue_region_is_cropped_and_gives_the_pixel_size(
    decoder: PydicomImageDecoder,
) -> None:
    frame = images.gradient(400, 300)
    frame[:40, :] = 255  # the header bar with burned-in text, outside the region
    data = samples.with_region(frame, (50, 40, 349, 259), delta_cm=(0.01, 0.02))
    decoded = decoder.decode_sync(data, "us.dcm")
    assert (decoded.width, decoded.height) == (300, 220)
    assert decoded.pixel_spacing_mm == pytest.approx((0.2, 0.1))  # (row, column) mm
    assert np.array_equal(pixels_of(decoded)[..., 0], frame[40:260, 50:350])


def test_the_pixel_size_follows_a_downscaled_stored_copy() -> None:
    frame = images.gradient(400, 300)
    data = samples.with_region(frame, (0, 0, 399, 299), delta_cm=(0.01, 0.01))
    decoded = PydicomImageDecoder(max_stored_side=200).decode_sync(data, "us.dcm")
    assert decoded.stored_size == (200, 150)
    assert decoded.pixel_spacing_mm == pytest.approx((0.2, 0.2))


def test_pixel_spacing_is_used_without_a_region(decoder: PydicomImageDecoder) -> None:
    ds = samples.base()
    ds.PixelSpacing = [0.07, 0.05]
    decoded = decoder.decode_sync(samples.native(samples.gray(), ds=ds), "mg.dcm")
    assert decoded.pixel_spacing_mm == pytest.approx((0.07, 0.05))


# --- what the file says, and the de-identified copy --------------------------------------------


def test_the_tags_fill_the_dicom_info(decoder: PydicomImageDecoder) -> None:
    found = info(decoder.decode_sync(samples.native(samples.gray()), "a.dcm"))
    assert (found.patient_id, found.accession_number) == (samples.PATIENT_ID, samples.ACCESSION)
    assert found.study_instance_uid == samples.STUDY_UID
    assert found.series_instance_uid == samples.SERIES_UID
    assert found.sop_instance_uid == samples.SOP_UID
    assert found.sop_class_uid == "1.2.840.10008.5.1.4.1.1.6.1"
    assert found.study_date == date(2026, 3, 14)
    assert (found.laterality, found.view) == ("L", "Breast L radial")
    assert "deidentified" not in repr(found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20260314", date(2026, 3, 14)),
        ("2026.03.14", date(2026, 3, 14)),  # the ACR-NEMA form older devices still write
        ("20261399", None),
        ("2026", None),
        ("", None),
        (None, None),
    ],
)
def test_a_study_date_is_read_or_left_out(text: str | None, expected: date | None) -> None:
    assert tag_date(text) == expected


def test_tag_text_strips_and_bounds_what_a_tag_says() -> None:
    ds = pydicom.Dataset()
    ds.PatientID, ds.AccessionNumber, ds.StudyDescription = "  MRN-7 ", "", "x" * 300
    assert tag_text(ds, "PatientID") == "MRN-7"
    assert tag_text(ds, "AccessionNumber") is None
    assert tag_text(ds, "StudyDate") is None
    assert tag_text(ds, "StudyDescription") == "x" * 200


def test_the_view_code_wins_over_the_series_description(decoder: PydicomImageDecoder) -> None:
    ds = samples.base()
    view = pydicom.Dataset()
    view.CodeValue, view.CodingSchemeDesignator, view.CodeMeaning = "R-10206", "SRT", "radial"
    ds.ViewCodeSequence = pydicom.Sequence([view])
    ds.ImageLaterality = "B"  # both breasts: no single side
    ds.Laterality = "R"
    found = info(decoder.decode_sync(samples.native(samples.gray(), ds=ds), "a.dcm"))
    assert (found.view, found.laterality) == ("radial", "R")


def test_the_copy_follows_the_basic_profile_and_retains_the_uids(
    decoder: PydicomImageDecoder,
) -> None:
    source = samples.native(samples.gray())
    copy = info(decoder.decode_sync(source, "a.dcm")).deidentified
    for value in (*samples.IDENTIFYING.values(), samples.PATIENT_ID, samples.ACCESSION):
        assert value.encode() not in copy, value
    assert b"DOE JANE 1970" not in copy  # the private tag
    ds = pydicom.dcmread(io.BytesIO(copy))
    assert ds.PatientIdentityRemoved == "YES"
    codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113110"]
    assert not ds.get("PatientID")
    assert not ds.get("PatientName")
    assert "PatientAddress" not in ds
    assert "OtherPatientIDs" not in ds
    assert not any(element.tag.is_private for element in ds.iterall())
    assert (ds.StudyInstanceUID, ds.SeriesInstanceUID) == (samples.STUDY_UID, samples.SERIES_UID)
    assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID == samples.SOP_UID
    assert ds.PixelData == pydicom.dcmread(io.BytesIO(source)).PixelData
    assert ds.ImageLaterality == "L"


# --- refusals ---------------------------------------------------------------------------------

REFUSALS: list[tuple[str, Callable[[], bytes], type[InvalidImage], ErrorCode]] = [
    ("no_pixels", samples.no_pixel_data, InvalidImage, ErrorCode.DICOM_NO_PIXEL_DATA),
    ("truncated", samples.truncated, InvalidImage, ErrorCode.DICOM_CORRUPT),
    ("header_only", samples.header_only, InvalidImage, ErrorCode.DICOM_CORRUPT),
    (
        "mpeg",
        samples.unsupported_syntax,
        UnsupportedImageFormat,
        ErrorCode.DICOM_SYNTAX_UNSUPPORTED,
    ),
    (
        "cmyk",
        samples.unsupported_photometric,
        UnsupportedImageFormat,
        ErrorCode.DICOM_PHOTOMETRIC_UNSUPPORTED,
    ),
    ("frames", samples.huge_frame_count, ImageTooLarge, ErrorCode.DICOM_TOO_MANY_FRAMES),
    ("big_frame", samples.huge_frame, ImageTooLarge, ErrorCode.IMAGE_TOO_MANY_PIXELS),
]


@pytest.mark.parametrize(("name", "make", "kind", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_bad_dicom_is_refused_with_its_own_code(
    name: str, make: Callable[[], bytes], kind: type[InvalidImage], code: ErrorCode
) -> None:
    with pytest.raises(kind) as refused:
        await sniffing().decode(make(), f"{name}.dcm")
    assert refused.value.code is code
    assert refused.value.params["filename"] == f"{name}.dcm"


def test_a_huge_frame_is_refused_before_its_pixels_are_read(decoder: PydicomImageDecoder) -> None:
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge):
        decoder.decode_sync(samples.huge_frame(60_000), "big.dcm")
    assert time.perf_counter() - started < 1.0


# --- dispatch ---------------------------------------------------------------------------------


async def test_the_magic_bytes_decide_not_the_name() -> None:
    decoder = sniffing()
    dicom = await decoder.decode(samples.native(samples.gray()), "scan.png")
    png = await decoder.decode(images.png(), "scan.dcm")
    assert (dicom.source_format, png.source_format) == ("DICOM", "PNG")
    assert dicom.dicom is not None


async def test_the_chosen_frame_reaches_the_decoder_that_reads_the_file() -> None:
    decoder = sniffing()
    cine = await decoder.decode(samples.multi_frame(count=5), "cine.dcm", frame=3)
    assert (info(cine).frame_index, info(cine).frame_count) == (3, 5)
    with pytest.raises(InvalidImage) as refused:
        await decoder.decode(images.png(), "still.png", frame=3)
    assert refused.value.code is ErrorCode.IMAGE_SINGLE_FRAME
    assert refused.value.params == {"filename": "still.png", "frame": 3}


async def test_a_refused_format_names_dicom_among_the_accepted() -> None:
    with pytest.raises(UnsupportedImageFormat) as refused:
        await sniffing().decode(b"%PDF-1.7 not a scan" * 20, "report.pdf")
    assert refused.value.params["formats"] == ("PNG", "JPEG", "DICOM")
    assert "PNG or JPEG or DICOM" in refused.value.message


# --- damaged files: a refusal, never another exception ---------------------------------------


def damaged_files() -> list[bytes]:
    """Cuts every 97 bytes and 300 random byte overwrites of a JPEG cine loop and of a file
    with an ultrasound region."""
    rng = np.random.default_rng(11)
    frames = [samples.rgb(64, 48), samples.rgb(64, 48)[::-1].copy()]
    ds_bytes = samples.jpeg_baseline(frames)
    region = samples.with_region(samples.gray(64, 48), (4, 4, 59, 43), (0.01, 0.01))
    damaged = [data[:cut] for data in (ds_bytes, region) for cut in range(132, len(data), 97)]
    for _ in range(300):
        data = bytearray(ds_bytes if rng.random() < 0.5 else region)
        for at in rng.integers(132, len(data), size=int(rng.integers(1, 8))):
            data[at] = int(rng.integers(0, 256))
        damaged.append(bytes(data))
    return damaged


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom's notes on what it skipped
def test_damaged_files_are_decoded_or_refused_never_crash(decoder: PydicomImageDecoder) -> None:
    outcomes = {"decoded": 0, "refused": 0}
    for data in damaged_files():
        try:
            decoder.decode_sync(data, "damaged.dcm")
            outcomes["decoded"] += 1
        except InvalidImage as refused:
            outcomes["refused"] += 1
            reason = str(refused.params.get("reason", ""))
            assert "'" not in reason, reason  # no element value quoted back
            assert '"' not in reason, reason
    assert outcomes["refused"] > 0
    assert outcomes["decoded"] > 0
