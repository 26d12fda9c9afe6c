"""DicomwebPacsClient and the highdicom result objects against a real Orthanc."""

from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import highdicom as hd
import pydicom
import pytest

from adapters.pacs.dicomweb import DicomwebPacsClient
from adapters.pacs.results import HighdicomResultDocumentBuilder
from application.ports import ImageFindings
from domain.errors import ErrorCode, NotFound, PacsUnavailable
from domain.lesions import BoundingBox, LesionFinding
from tests.contracts.pacs_client_contract import ACCESSION, PATIENT, PacsClientContract, SeededStudy
from tests.e2e.servers import free_port
from tests.integration.pacs.dicom_files import structured_report_like, ultrasound
from tests.orthanc import Orthanc

OUTLINE = ((100, 60), (180, 60), (180, 140), (100, 140))


def findings(source: bytes, *, birads: str | None = None) -> ImageFindings:
    lesion = LesionFinding(
        found=True,
        area_fraction=0.1,
        max_probability=0.9,
        bbox=BoundingBox(100, 60, 81, 81),
        outline=OUTLINE,
    )
    return ImageFindings(
        source=source,
        frame_index=0,
        p_malignant=0.83,
        threshold=0.5,
        band="high",
        model_name="breast-cnn",
        model_version="2.0.0",
        laterality="L",
        clock_position=2.0,
        distance_cm=3.0,
        birads=birads,
        lesion=lesion,
        outline_size=(320, 240),
    )


@pytest.fixture
def study(orthanc: Orthanc) -> tuple[str, list[bytes]]:
    orthanc.clear()
    first = ultrasound(patient_id="MRN-7", accession="ACC-7")
    uid = str(pydicom.dcmread(io.BytesIO(first)).StudyInstanceUID)
    files = [first, ultrasound(patient_id="MRN-7", accession="ACC-7", study_uid=uid, seed=2)]
    for data in [*files, structured_report_like(uid, "MRN-7", "ACC-7")]:
        orthanc.upload(data)
    return uid, files


async def test_finds_a_study_by_patient_or_accession(orthanc: Orthanc, study) -> None:
    uid, _ = study
    client = DicomwebPacsClient(orthanc.dicomweb_url)
    by_patient = await client.find_studies("MRN-7", None)
    by_accession = await client.find_studies(None, "ACC-7")
    assert [s.study_instance_uid for s in by_patient] == [uid]
    assert [s.study_instance_uid for s in by_accession] == [uid]
    assert by_patient[0].patient_id == "MRN-7"
    assert by_patient[0].instance_count == 3
    assert await client.find_studies("nobody", None) == []


async def test_retrieves_every_instance_of_a_study(orthanc: Orthanc, study) -> None:
    uid, files = study
    retrieved = await DicomwebPacsClient(orthanc.dicomweb_url).retrieve_study(uid)
    assert retrieved.missing == ()
    assert len(retrieved.instances) == 3
    uids = {str(pydicom.dcmread(io.BytesIO(f)).SOPInstanceUID) for f in files}
    assert uids <= {i.sop_instance_uid for i in retrieved.instances}
    image = next(i for i in retrieved.instances if i.sop_instance_uid in uids)
    assert pydicom.dcmread(io.BytesIO(image.data)).pixel_array.shape == (240, 320)


async def test_an_unknown_study_is_not_found(orthanc: Orthanc) -> None:
    with pytest.raises(NotFound) as raised:
        await DicomwebPacsClient(orthanc.dicomweb_url).retrieve_study("1.2.3.4.5")
    assert raised.value.code is ErrorCode.PACS_STUDY_NOT_FOUND


async def test_an_unreachable_pacs_is_reported_after_retrying() -> None:
    client = DicomwebPacsClient(
        f"http://127.0.0.1:{free_port()}/dicom-web", attempts=3, backoff_s=0.05, timeout_s=2
    )
    started = time.monotonic()
    with pytest.raises(PacsUnavailable) as raised:
        await client.find_studies("MRN-7", None)
    assert raised.value.code is ErrorCode.PACS_UNAVAILABLE
    assert "3 attempts" in raised.value.message
    assert 0.15 <= time.monotonic() - started < 10  # backoff 0.05 + 0.1 between attempts


class Answering(BaseHTTPRequestHandler):
    """Answers every GET with one status and counts the requests."""

    status = 503
    seen = 0

    def do_GET(self) -> None:
        type(self).seen += 1
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.mark.parametrize(("status", "tries"), [(503, 3), (502, 3), (400, 1)])
async def test_server_errors_are_retried_and_client_errors_are_not(status: int, tries: int) -> None:
    handler = type("Handler", (Answering,), {"status": status, "seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
        client = DicomwebPacsClient(url, attempts=3, backoff_s=0.01)
        with pytest.raises(PacsUnavailable) as raised:
            await client.find_studies("MRN-7", None)
    finally:
        server.shutdown()
        server.server_close()
    assert handler.seen == tries
    assert f"HTTP {status}" in raised.value.message


async def test_credentials_are_sent_and_a_refusal_is_said_plainly(
    orthanc_with_login: Orthanc,
) -> None:
    assert orthanc_with_login.auth is not None
    name, password = orthanc_with_login.auth
    url = orthanc_with_login.dicomweb_url
    signed_in = DicomwebPacsClient(url, username=name, password=password)
    assert await signed_in.find_studies("MRN-NOBODY", None) == []
    for client in (
        DicomwebPacsClient(url, username=name, password="wrong", backoff_s=0.01),
        DicomwebPacsClient(url, backoff_s=0.01),
    ):
        with pytest.raises(PacsUnavailable) as raised:
            await client.find_studies("MRN-NOBODY", None)
        assert "refused Breastscan's credentials (HTTP 401)" in raised.value.message


async def test_sr_and_seg_are_stored_read_back_and_versioned(orthanc: Orthanc, study) -> None:
    uid, files = study
    client = DicomwebPacsClient(orthanc.dicomweb_url)
    builder = HighdicomResultDocumentBuilder()
    first = await builder.build([findings(files[0])], [])
    await client.store([first.report, *first.segmentations])

    stored = orthanc.instances_of_study(uid)
    modalities = sorted(str(pydicom.dcmread(io.BytesIO(d)).Modality) for d in stored)
    assert modalities == ["SEG", "SR", "SR", "US", "US"]
    report = next(
        d for d in stored if pydicom.dcmread(io.BytesIO(d)).SOPInstanceUID == first.report_uid
    )
    sr = hd.sr.srread(io.BytesIO(report))
    source_uid = str(pydicom.dcmread(io.BytesIO(files[0])).SOPInstanceUID)
    assert sr.PatientID == "MRN-7"
    assert sr.StudyInstanceUID == uid
    groups = sr.content.get_planar_roi_measurement_groups()
    assert len(groups) == 1
    group = groups[0]
    probability = group.get_measurements(
        name=pydicom.sr.coding.Code("111047", "DCM", "Probability of cancer")
    )[0]
    assert probability.value == pytest.approx(0.83)
    image = group.roi.ContentSequence[0].ReferencedSOPSequence[0]
    assert image.ReferencedSOPInstanceUID == source_uid
    assert group.finding_sites[0].laterality.value == "7771000"  # left
    assert group.finding_sites[0].topographical_modifier.value == "129773009"  # 2 o'clock
    (band,) = group.get_qualitative_evaluations()
    assert band.value.value == "high"
    seg = hd.seg.segread(
        io.BytesIO(next(d for d in stored if pydicom.dcmread(io.BytesIO(d)).Modality == "SEG"))
    )
    assert seg.get_source_image_uids()[0][2] == source_uid
    assert seg.get_segment_description(1).segmented_property_type.value == "4147007"

    earlier = await client.find_results(uid, builder.manufacturer)
    assert [str(pydicom.dcmread(io.BytesIO(d)).SOPInstanceUID) for d in earlier] == [
        first.report_uid
    ]
    second = await builder.build([findings(files[0], birads="4B")], earlier)
    reviewed = hd.sr.srread(io.BytesIO(second.report)).content
    evaluations = reviewed.get_planar_roi_measurement_groups()[0].get_qualitative_evaluations()
    assert [e.value.value for e in evaluations] == ["high", "397144001"]  # BI-RADS 4
    await client.store([second.report, *second.segmentations])
    again = pydicom.dcmread(
        io.BytesIO(
            next(
                d
                for d in orthanc.instances_of_study(uid)
                if pydicom.dcmread(io.BytesIO(d)).SOPInstanceUID == second.report_uid
            )
        )
    )
    predecessor = again.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
    assert predecessor.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == first.report_uid
    assert len(await client.find_results(uid, builder.manufacturer)) == 2


class TestDicomwebPacsClientContract(PacsClientContract):
    @pytest.fixture
    def pacs(self, orthanc: Orthanc) -> DicomwebPacsClient:
        return DicomwebPacsClient(orthanc.dicomweb_url)

    @pytest.fixture
    def seeded(self, orthanc: Orthanc, pacs: DicomwebPacsClient) -> SeededStudy:
        orthanc.clear()
        first = ultrasound(patient_id=PATIENT, accession=ACCESSION)
        uid = str(pydicom.dcmread(io.BytesIO(first)).StudyInstanceUID)
        second = ultrasound(patient_id=PATIENT, accession=ACCESSION, study_uid=uid, seed=9)
        other = structured_report_like(uid, PATIENT, ACCESSION)
        for data in (first, second, other):
            orthanc.upload(data)
        builder = HighdicomResultDocumentBuilder()

        async def report() -> bytes:
            previous = await pacs.find_results(uid, builder.manufacturer)
            return (await builder.build([findings(first)], previous)).report

        return SeededStudy(
            uid,
            (sop_uid(first), sop_uid(second)),
            (sop_uid(other),),
            report,
            builder.manufacturer,
            identify=sop_uid,
        )


def sop_uid(data: bytes) -> str:
    return str(pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID)
