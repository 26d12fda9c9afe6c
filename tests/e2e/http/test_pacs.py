"""PACS through the HTTP API against a real Orthanc: search (QIDO-RS), import (WADO-RS) into a
study, send the findings back (STOW-RS) as SR + SEG, resend after a review, and the errors."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from uuid import UUID

import highdicom as hd
import pydicom
import pytest
import pytest_asyncio
from pydicom.sr.coding import Code

from application.commands import ResolveCurrentUser, ReviewPrediction
from domain.outcomes import BiRads
from domain.predictions import Verdict
from tests.e2e.http.conftest import Api, ApiFactory
from tests.e2e.servers import free_port
from tests.integration.pacs.dicom_files import structured_report_like, ultrasound
from tests.orthanc import Orthanc, orthanc

__all__ = ["orthanc"]

PROBABILITY = Code("111047", "DCM", "Probability of cancer")


@pytest_asyncio.fixture(loop_scope="session")
async def pacs_api(make_api: ApiFactory, orthanc: Orthanc) -> AsyncIterator[Api]:
    async with make_api(pacs_dicomweb_url=orthanc.dicomweb_url, pacs_attempts=1) as started:
        yield started


def seed(orthanc: Orthanc, patient: str, accession: str) -> tuple[str, list[str]]:
    """Two US images and a non-image object of one study on the PACS: (study UID, SOP UIDs)."""
    first = ultrasound(patient_id=patient, accession=accession, laterality="R")
    uid = str(pydicom.dcmread(io.BytesIO(first)).StudyInstanceUID)
    second = ultrasound(
        patient_id=patient, accession=accession, study_uid=uid, laterality="R", seed=3
    )
    for data in (first, second, structured_report_like(uid, patient, accession)):
        orthanc.upload(data)
    sops = [str(pydicom.dcmread(io.BytesIO(d)).SOPInstanceUID) for d in (first, second)]
    return uid, sops


def on_pacs(orthanc: Orthanc, study_uid: str, sop_uid: str) -> pydicom.Dataset:
    for data in orthanc.instances_of_study(study_uid):
        ds = pydicom.dcmread(io.BytesIO(data))
        if ds.SOPInstanceUID == sop_uid:
            return ds
    raise AssertionError(f"{sop_uid} is not on the PACS")


async def test_search_import_send_and_resend(pacs_api: Api, orthanc: Orthanc) -> None:
    uid, sops = seed(orthanc, "MRN-HTTP-1", "ACC-H1")
    alice = await pacs_api.account()
    client = pacs_api.client

    found = await client.post(
        "/api/pacs/search", json={"accession_number": "ACC-H1"}, headers=alice.headers
    )
    assert found.status_code == 200, found.text
    assert [s["study_instance_uid"] for s in found.json()] == [uid]
    assert found.json()[0]["patient_ref"] == "MRN-HTTP-1"

    imported = await client.post(
        "/api/pacs/import", json={"study_instance_uid": uid}, headers=alice.headers
    )
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert len(body["predictions"]) == 2
    assert [s["reason"] for s in body["skipped"]] == ["not_an_image"]
    assert body["missing"] == []
    (study_id,) = body["study_ids"]
    twice = await client.post(
        "/api/pacs/import", json={"study_instance_uid": uid}, headers=alice.headers
    )
    assert twice.status_code == 201, twice.text
    assert twice.json()["predictions"] == []
    assert sorted(s["reason"] for s in twice.json()["skipped"]) == [
        "already_analysed",
        "already_analysed",
        "not_an_image",
    ]

    sent = await client.post(f"/api/studies/{study_id}/send-to-pacs", headers=alice.headers)
    assert sent.status_code == 201, sent.text
    receipt = sent.json()
    assert receipt["images"] == 2
    assert receipt["segmentations"] == 2
    assert receipt["previous_reports"] == 0
    report = hd.sr.ComprehensiveSR.from_dataset(on_pacs(orthanc, uid, receipt["report_uid"]))
    assert report.PatientID == "MRN-HTTP-1"
    groups = report.content.get_planar_roi_measurement_groups()
    by_source = {
        g.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID: g
        for g in groups
    }
    assert set(by_source) == set(sops)
    for prediction in body["predictions"]:
        sop = prediction["filename"].removesuffix(".dcm")
        measured = by_source[sop].get_measurements(name=PROBABILITY)[0].value
        assert float(measured) == pytest.approx(prediction["probability"], abs=1e-6)
        assert by_source[sop].finding_sites[0].laterality.value == "24028007"  # right

    first = body["predictions"][0]
    user = await pacs_api.container.resolve_current_user()(ResolveCurrentUser(token=alice.token))
    await pacs_api.container.review_prediction()(
        ReviewPrediction(
            actor=user,
            prediction_id=UUID(first["id"]),
            verdict=Verdict.AGREE,
            birads=BiRads.HIGHLY_SUGGESTIVE,
        )
    )
    again = await client.post(f"/api/studies/{study_id}/send-to-pacs", headers=alice.headers)
    assert again.status_code == 201, again.text
    assert again.json()["previous_reports"] == 1
    newer = on_pacs(orthanc, uid, again.json()["report_uid"])
    predecessor = newer.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0]
    assert predecessor.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == receipt["report_uid"]
    on_pacs(orthanc, uid, receipt["report_uid"])  # the first report is still there
    reviewed = hd.sr.ComprehensiveSR.from_dataset(newer).content
    sop = first["filename"].removesuffix(".dcm")
    group = next(
        g
        for g in reviewed.get_planar_roi_measurement_groups()
        if g.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == sop
    )
    assert "397145000" in [e.value.value for e in group.get_qualitative_evaluations()]


async def test_pacs_errors_are_clear(pacs_api: Api, make_api: ApiFactory) -> None:
    alice = await pacs_api.account()
    client = pacs_api.client
    empty = await client.post("/api/pacs/search", json={}, headers=alice.headers)
    assert (empty.status_code, empty.json()["code"]) == (422, "pacs_query_empty")
    unknown = await client.post(
        "/api/pacs/import", json={"study_instance_uid": "1.2.3.4.999"}, headers=alice.headers
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "pacs_study_not_found")
    bad_uid = await client.post(
        "/api/pacs/import", json={"study_instance_uid": "not a uid"}, headers=alice.headers
    )
    assert (bad_uid.status_code, bad_uid.json()["code"]) == (422, "study_uid_invalid")
    anonymous = await client.post("/api/pacs/search", json={"patient_ref": "x"})
    assert anonymous.status_code == 401

    dead = f"http://127.0.0.1:{free_port()}/dicom-web"
    async with make_api(pacs_dicomweb_url=dead, pacs_attempts=2) as offline:
        bob = await offline.account()
        down = await offline.client.post(
            "/api/pacs/search", json={"patient_ref": "MRN-1"}, headers=bob.headers
        )
    assert (down.status_code, down.json()["code"]) == (503, "pacs_unavailable")
    assert "2 attempts" in down.json()["detail"]


async def test_a_study_is_bounded_by_the_pacs_limit_not_the_upload_limit(
    make_api: ApiFactory, orthanc: Orthanc
) -> None:
    """Two images import with one file per upload allowed; with one per study, none is stored."""
    settings = {"pacs_dicomweb_url": orthanc.dicomweb_url, "pacs_attempts": 1}
    async with make_api(**settings, max_files_per_request=1, pacs_max_study_images=2) as api:
        uid, _ = seed(orthanc, "MRN-HTTP-LIMIT", "ACC-HL")
        alice = await api.account()
        imported = await api.client.post(
            "/api/pacs/import", json={"study_instance_uid": uid}, headers=alice.headers
        )
        assert imported.status_code == 201, imported.text
        assert len(imported.json()["predictions"]) == 2
    async with make_api(**settings, pacs_max_study_images=1) as api:
        uid, _ = seed(orthanc, "MRN-HTTP-LIMIT-2", "ACC-HL2")
        bob = await api.account()
        refused = await api.client.post(
            "/api/pacs/import", json={"study_instance_uid": uid}, headers=bob.headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "too_many_images"
        listed = await api.client.get("/api/predictions", headers=bob.headers)
        assert listed.json()["total"] == 0
