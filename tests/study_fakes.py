"""DICOM uploads for the study tests without DICOM files: `fake_dicom()` bytes carry the tags
a DICOM header would, and `DicomAwareDecoder` decodes them with their DicomInfo."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from application.ports import DecodedImage, DicomInfo
from tests.fakes import FakeImageDecoder, fake_image

UID_A = "1.2.826.0.1.3680043.10.99.1"
UID_B = "1.2.826.0.1.3680043.10.99.2"
DICOM_MARKER = b"FAKEDICOM "


def fake_dicom(
    seed: str = "d",
    level: int = 128,
    *,
    patient_id: str | None = "MRN-7",
    study_uid: str | None = UID_A,
    laterality: str | None = "L",
    view: str | None = "Breast L radial",
    accession: str | None = "ACC-9",
    study_date: str | None = "2026-03-14",
) -> bytes:
    """Bytes the DICOM-aware fake decoder reads as a DICOM upload with these tags."""
    tags = {
        "patient_id": patient_id,
        "study_uid": study_uid,
        "laterality": laterality,
        "view": view,
        "accession": accession,
        "study_date": study_date,
    }
    return DICOM_MARKER + json.dumps(tags).encode() + b"\n" + fake_image(seed, level)


class DicomAwareDecoder(FakeImageDecoder):
    """The fake decoder, plus `fake_dicom()` uploads decoded with their DicomInfo."""

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        if not data.startswith(DICOM_MARKER):
            return await super().decode(data, filename, frame)
        header, _, inner = data[len(DICOM_MARKER) :].partition(b"\n")
        tags = json.loads(header)
        image = await super().decode(inner, filename, frame)
        info = DicomInfo(
            patient_id=tags["patient_id"],
            accession_number=tags["accession"],
            study_instance_uid=tags["study_uid"],
            series_instance_uid=None,
            sop_instance_uid=None,
            sop_class_uid=None,
            study_date=date.fromisoformat(tags["study_date"]) if tags["study_date"] else None,
            laterality=tags["laterality"],
            view=tags["view"],
            frame_index=0,
            frame_count=1,
            deidentified=b"DICM",
        )
        return replace(image, dicom=info, source_format="DICOM")
