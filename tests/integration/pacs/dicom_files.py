"""Synthetic ultrasound DICOM files (Part 10 bytes) for the PACS tests: a bright round
"lesion" on a dark speckled background, with the patient, study and laterality tags a scanner
sets."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    UltrasoundImageStorage,
    generate_uid,
)

US_BREAST = "BREAST"


def ultrasound(
    *,
    patient_id: str = "MRN-0001",
    accession: str = "ACC-1",
    study_uid: str | None = None,
    series_uid: str | None = None,
    laterality: str = "L",
    rows: int = 240,
    columns: int = 320,
    seed: int = 0,
    study_date: date = date(2026, 11, 30),
) -> bytes:
    """One single-frame US Image Storage instance, MONOCHROME2, 8 bits."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:rows, 0:columns]
    pixels = rng.integers(30, 90, size=(rows, columns))
    lesion = (ys - rows * 0.5) ** 2 + (xs - columns * 0.55) ** 2 < (min(rows, columns) * 0.2) ** 2
    pixels[lesion] = 230  # bright: what the tiny test model (tests/e2e/http/tiny_model.py) outlines
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = UltrasoundImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.PatientID = patient_id
    ds.PatientName = "Test^Patient"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.AccessionNumber = accession
    ds.StudyDate = ds.SeriesDate = study_date.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = "101500"
    ds.StudyID = "1"
    ds.ReferringPhysicianName = ""
    ds.Modality = "US"
    ds.Manufacturer = "Test Scanner"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.BodyPartExamined = US_BREAST
    ds.ImageLaterality = laterality
    ds.Laterality = laterality
    ds.PatientOrientation = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.astype(np.uint8).tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def structured_report_like(
    study_uid: str,
    patient_id: str = "MRN-0001",
    accession: str = "ACC-1",
    study_date: date = date(2026, 11, 30),
) -> bytes:
    """A non-image object (an SR header only) in the same study, with the study's tags: to be
    skipped by the analysis."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = patient_id
    ds.PatientName = "Test^Patient"
    ds.AccessionNumber = accession
    ds.StudyDate = study_date.strftime("%Y%m%d")
    ds.StudyTime = "101500"
    ds.Modality = "SR"
    ds.SeriesNumber = 99
    ds.InstanceNumber = 1
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()
