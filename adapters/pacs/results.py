"""Analyses as DICOM objects a PACS viewer shows, written with highdicom.

- A Comprehensive SR (TID 1500 measurement report): one measurement group per analysed
  image with the probability of malignancy, the decision threshold, the likelihood band, the
  reviewer's BI-RADS category when reviewed, the breast side and clock position (finding site)
  and the distance from the nipple; the model name and version as the algorithm; the lesion
  outline as a closed polyline on the source image, else the image itself as the group's source.
  Earlier reports of the study become its predecessor documents (nothing is replaced).
- A binary Segmentation per image with an outlined lesion, on the source frame's geometry.

Outlines are in stored-image pixels (`ImageFindings.outline_size`); the stored image is the
source frame's ultrasound region, maybe downscaled, so points map back through that region.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import anyio
import highdicom as hd
import numpy as np
import pydicom
from PIL import Image, ImageDraw
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

# The decoder's own choice of the analysed region, so outlines map back exactly.
from adapters.imaging.dicom_decoder import image_region
from application.ports import ImageFindings, ResultObjects
from domain.lesions import LesionFinding

MANUFACTURER = "Breastscan"
REPORT_SERIES_NUMBER = 9901
SEGMENTATION_SERIES_NUMBER = 9902
_SCHEME = "99BRSCAN"  # private coding scheme for what standard codes do not name

_PROBABILITY = hd.sr.CodedConcept("111047", "DCM", "Probability of cancer")
_THRESHOLD = hd.sr.CodedConcept("122411", "DCM", "Threshold Value")
_DISTANCE = hd.sr.CodedConcept("121242", "DCM", "Distance from nipple")
_ASSESSMENT = hd.sr.CodedConcept("111005", "DCM", "Assessment Category")
_BAND = hd.sr.CodedConcept("likelihood_band", _SCHEME, "Likelihood of malignancy band")
_MASS = hd.sr.CodedConcept("4147007", "SCT", "Mass")
_BREAST = hd.sr.CodedConcept("76752008", "SCT", "Breast")
_SIDES = {"L": codes.SCT.Left, "R": codes.SCT.Right}
_CLOCK = {
    hour: hd.sr.CodedConcept(value, "SCT", f"{hour} o'clock position")
    for hour, value in zip(
        range(1, 13),
        (
            "129772004",
            "129773009",
            "129774003",
            "129775002",
            "129776001",
            "129777005",
            "129778000",
            "129779008",
            "129780006",
            "129781005",
            "129782003",
            "129783008",
        ),
        strict=True,
    )
}
_BIRADS = {  # SNOMED CT assessment categories (CID 6026); meanings at most 64 characters
    "0": ("397138000", "Assessment (Category 0) - Need additional imaging evaluation"),
    "1": ("397140005", "Assessment (Category 1) - Negative"),
    "2": ("397141009", "Assessment (Category 2) - Benign finding"),
    "3": ("397143007", "Assessment (Category 3) - Probably benign finding"),
    "4": ("397144001", "Assessment (Category 4) - Suspicious abnormality"),
    "5": ("397145000", "Assessment (Category 5) - Highly suggestive of malignancy"),
    "6": ("111125", "Known biopsy proven malignancy"),
}
_BAND_WORDS = {
    "very_low": "Very low likelihood of malignancy",
    "low": "Low likelihood of malignancy",
    "intermediate": "Intermediate likelihood of malignancy",
    "high": "High likelihood of malignancy",
    "very_high": "Very high likelihood of malignancy",
}


class HighdicomResultDocumentBuilder:
    """ResultDocumentBuilder with highdicom: a Comprehensive SR and binary SEGs."""

    manufacturer = MANUFACTURER

    def __init__(self, software_version: str = "1", device_uid: str | None = None) -> None:
        self._software_version = software_version
        self._device_uid = device_uid or generate_uid()

    async def build(
        self, findings: Sequence[ImageFindings], previous: Sequence[bytes]
    ) -> ResultObjects:
        return await anyio.to_thread.run_sync(self.build_sync, findings, previous)

    def build_sync(
        self, findings: Sequence[ImageFindings], previous: Sequence[bytes]
    ) -> ResultObjects:
        if not findings:
            raise ValueError("no findings to report")
        sources = [_read(item.source) for item in findings]
        segmentations = [
            self._segmentation(item, item.lesion, source, number)
            for number, (item, source) in enumerate(zip(findings, sources, strict=True), 1)
            if item.lesion is not None and item.lesion.found
        ]
        groups = [
            _group(item, source, number)
            for number, (item, source) in enumerate(zip(findings, sources, strict=True), 1)
        ]
        earlier = [_read(data) for data in previous]
        observer = hd.sr.ObserverContext(
            observer_type=codes.DCM.Device,
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=self._device_uid,
                name=f"{findings[0].model_name} {findings[0].model_version}",
                manufacturer_name=MANUFACTURER,
            ),
        )
        report = hd.sr.MeasurementReport(
            observation_context=hd.sr.ObservationContext(observer_device_context=observer),
            procedure_reported=codes.SCT.DiagnosticUltrasonography,
            imaging_measurements=groups,
            title=codes.DCM.ImagingMeasurementReport,
        )
        sr = hd.sr.ComprehensiveSR(
            evidence=[*_unique(sources), *segmentations],
            content=report,
            series_instance_uid=_series_of(earlier) or generate_uid(),
            series_number=REPORT_SERIES_NUMBER,
            sop_instance_uid=generate_uid(),
            instance_number=len(earlier) + 1,
            manufacturer=MANUFACTURER,
            is_complete=True,
            previous_versions=earlier or None,
        )
        sr.SeriesDescription = "Breastscan AI findings"
        return ResultObjects(
            report=_write(sr),
            report_uid=str(sr.SOPInstanceUID),
            segmentations=tuple(_write(seg) for seg in segmentations),
        )

    def _segmentation(
        self, item: ImageFindings, lesion: LesionFinding, source: Dataset, number: int
    ) -> Dataset:
        rows, columns = int(source.Rows), int(source.Columns)
        frames = int(getattr(source, "NumberOfFrames", 1) or 1)
        mask = np.zeros((frames, rows, columns), dtype=bool)
        outline = _source_outline(lesion, item.outline_size, source)
        picture = Image.new("1", (columns, rows), 0)
        ImageDraw.Draw(picture).polygon([tuple(p) for p in outline.tolist()], fill=1, outline=1)
        mask[item.frame_index] = np.asarray(picture, dtype=bool)
        segment = hd.seg.SegmentDescription(
            segment_number=1,
            segment_label=f"Lesion {number}",
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Mass,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=hd.AlgorithmIdentificationSequence(
                name=item.model_name,
                family=codes.CID7162.ArtificialIntelligence,
                version=item.model_version,
            ),
            anatomic_regions=[_BREAST],
        )
        return hd.seg.Segmentation(
            source_images=[source],
            pixel_array=mask if frames > 1 else mask[0],
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=[segment],
            series_instance_uid=generate_uid(),
            series_number=SEGMENTATION_SERIES_NUMBER,
            sop_instance_uid=generate_uid(),
            instance_number=number,
            manufacturer=MANUFACTURER,
            manufacturer_model_name=item.model_name,
            software_versions=self._software_version,
            device_serial_number=self._device_uid[-16:],
        )


Group = (
    hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations
    | hd.sr.MeasurementsAndQualitativeEvaluations
)


def _group(item: ImageFindings, source: Dataset, number: int) -> Group:
    """One image's measurements and evaluations, on its lesion outline when there is one."""
    algorithm = hd.sr.AlgorithmIdentification(name=item.model_name, version=item.model_version)
    tracking = hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"Image {number}")
    measurements = [
        hd.sr.Measurement(
            _PROBABILITY, item.p_malignant, codes.UCUM.NoUnits, algorithm_id=algorithm
        ),
        hd.sr.Measurement(_THRESHOLD, item.threshold, codes.UCUM.NoUnits, algorithm_id=algorithm),
    ]
    if item.distance_cm is not None:
        measurements.append(hd.sr.Measurement(_DISTANCE, item.distance_cm, codes.UCUM.Centimeter))
    evaluations = []
    if item.band is not None:
        words = _BAND_WORDS.get(item.band, item.band)
        value = hd.sr.CodedConcept(item.band, _SCHEME, words)
        evaluations.append(hd.sr.QualitativeEvaluation(_BAND, value))
    if item.birads is not None:
        code, meaning = _BIRADS[item.birads[:1]]
        scheme = "DCM" if code == "111125" else "SCT"
        category = hd.sr.CodedConcept(code, scheme, meaning)
        evaluations.append(hd.sr.QualitativeEvaluation(_ASSESSMENT, category))
    sites = []
    if item.laterality in _SIDES:
        clock = _CLOCK.get(round(item.clock_position)) if item.clock_position else None
        sites.append(
            hd.sr.FindingSite(
                _BREAST, laterality=_SIDES[item.laterality], topographical_modifier=clock
            )
        )
    frames = [item.frame_index + 1] if int(getattr(source, "NumberOfFrames", 1) or 1) > 1 else None
    common: dict[str, Any] = {
        "tracking_identifier": tracking,
        "finding_type": _MASS,
        "algorithm_id": algorithm,
        "finding_sites": sites or None,
        "measurements": measurements,
        "qualitative_evaluations": evaluations or None,
    }
    if item.lesion is not None and item.lesion.found:
        outline = _source_outline(item.lesion, item.outline_size, source).astype(np.float32)
        region = hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=np.vstack([outline, outline[:1]]),
            source_image=hd.sr.SourceImageForRegion(
                source.SOPClassUID, source.SOPInstanceUID, frames
            ),
        )
        return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            referenced_region=region, **common
        )
    image = hd.sr.SourceImageForMeasurementGroup(source.SOPClassUID, source.SOPInstanceUID, frames)
    return hd.sr.MeasurementsAndQualitativeEvaluations(source_images=[image], **common)


def _source_outline(
    lesion: LesionFinding, outline_size: tuple[int, int], source: Dataset
) -> np.ndarray[Any, Any]:
    """The lesion outline in source-frame pixels (column, row), from stored-image pixels."""
    (left, top, right, bottom), _ = image_region(source, int(source.Columns), int(source.Rows))
    width, height = outline_size
    points = np.asarray(lesion.outline, dtype=np.float64)
    points[:, 0] = left + points[:, 0] * (right - left) / width
    points[:, 1] = top + points[:, 1] * (bottom - top) / height
    return np.clip(points, 0, [int(source.Columns) - 1, int(source.Rows) - 1])


def _unique(datasets: Sequence[Dataset]) -> list[Dataset]:
    seen: dict[str, Dataset] = {}
    for ds in datasets:
        seen.setdefault(str(ds.SOPInstanceUID), ds)
    return list(seen.values())


def _series_of(earlier: Sequence[Dataset]) -> str | None:
    """Later versions of a report go into the series of the first one."""
    return str(earlier[0].SeriesInstanceUID) if earlier else None


def _read(data: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def _write(dataset: Dataset) -> bytes:
    out = io.BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()
