"""The C-STORE listener against a real Orthanc: Orthanc sends a study to Breastscan and the
analyses appear in the service account's study (non-images acknowledged and skipped), and
the findings go back to Orthanc as SR + SEG referencing the images it sent; associations from
a calling AE title not on the list are rejected."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import highdicom as hd
import httpx
import pydicom
import pytest_asyncio
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from adapters.persistence.migrate import upgrade_to_head
from application.commands import GetStudy, ListStudies, RegisterUser, SendResultsToPacs
from domain.users import Role, User
from entrypoints.container import Container, build_container, shutdown
from entrypoints.dicom_listener import DicomListener
from entrypoints.settings import Settings
from tests.e2e.http.tiny_model import build_tiny_model
from tests.e2e.servers import breastscan_cli, free_port, stop
from tests.integration.pacs.dicom_files import structured_report_like, ultrasound
from tests.orthanc import LISTENER_AET, ORTHANC_AET, Orthanc

SERVICE_ACCOUNT = "pacs-listener@clinic.example"


@dataclasses.dataclass
class Listening:
    container: Container
    account: User
    settings: Settings


@pytest_asyncio.fixture(loop_scope="session")
async def listening(orthanc: Orthanc, tmp_path: Path) -> AsyncIterator[Listening]:
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret="listener-test-secret-" + "x" * 48,
        argon2_memory_kib=64,
        argon2_time_cost=1,
        model_path=build_tiny_model(tmp_path / "tiny.onnx"),
        dicom_ae_title=LISTENER_AET,
        dicom_port=orthanc.listener_port,
        dicom_accepted_aets=(ORTHANC_AET,),
        dicom_service_account=SERVICE_ACCOUNT,
        pacs_dicomweb_url=orthanc.dicomweb_url,
    )
    await upgrade_to_head(settings.resolved_database_url)
    container = build_container(settings)
    account = await container.register_user()(
        RegisterUser(
            email=SERVICE_ACCOUNT,
            password="listener horse battery staple",
            role=Role.CLINICIAN,
            trusted=True,
        )
    )
    listener = DicomListener(container.receive_pacs_images(), settings, asyncio.get_running_loop())
    listener.start("127.0.0.1")
    try:
        yield Listening(container, account, settings)
    finally:
        listener.stop()
        await shutdown(container)


async def test_orthanc_echoes_the_listener(orthanc: Orthanc, listening: Listening) -> None:
    url = f"{orthanc.url}/modalities/breastscan/echo"
    answer = await anyio.to_thread.run_sync(lambda: httpx.post(url, json={}, timeout=30))
    assert answer.status_code == 200


async def test_images_orthanc_sends_are_analysed_into_a_study(
    orthanc: Orthanc, listening: Listening
) -> None:
    orthanc.clear()
    first = ultrasound(patient_id="MRN-LISTEN", accession="ACC-L1", laterality="R")
    uid = str(pydicom.dcmread(io.BytesIO(first)).StudyInstanceUID)
    second = ultrasound(patient_id="MRN-LISTEN", accession="ACC-L1", study_uid=uid, seed=5)
    ids = [
        orthanc.upload(d)
        for d in (first, second, structured_report_like(uid, "MRN-LISTEN", "ACC-L1"))
    ]

    sent = await anyio.to_thread.run_sync(orthanc.send_to_listener, ids)
    assert sent["FailedInstancesCount"] == 0  # the non-image was acknowledged too
    assert sent["InstancesCount"] == 3

    page = await listening.container.list_studies()(ListStudies(actor=listening.account))
    assert len(page.items) == 1
    study = page.items[0].study
    assert study.study_instance_uid == uid
    assert study.patient_ref == "MRN-LISTEN"
    detail = await listening.container.get_study()(
        GetStudy(actor=listening.account, study_id=study.id)
    )
    images = detail.current.images
    assert len(images) == 2
    assert {p.owner_id for p in images} == {listening.account.id}
    resent = await anyio.to_thread.run_sync(orthanc.send_to_listener, ids)
    assert resent["FailedInstancesCount"] == 0
    again = await listening.container.get_study()(
        GetStudy(actor=listening.account, study_id=study.id)
    )
    assert len(again.current.images) == 2  # the same instances are not analysed twice

    # and back: the findings stored on Orthanc, referencing the images it sent
    receipt = await listening.container.send_results_to_pacs()(
        SendResultsToPacs(actor=listening.account, study_id=study.id)
    )
    stored = {
        str(ds.SOPInstanceUID): ds
        for ds in (pydicom.dcmread(io.BytesIO(d)) for d in orthanc.instances_of_study(uid))
    }
    report = hd.sr.ComprehensiveSR.from_dataset(stored[receipt.report_uid])
    sources = {
        group.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        for group in report.content.get_planar_roi_measurement_groups()
    }
    sent = {str(pydicom.dcmread(io.BytesIO(d)).SOPInstanceUID) for d in (first, second)}
    assert sources == sent
    segmentations = [ds for ds in stored.values() if ds.Modality == "SEG"]
    assert len(segmentations) == receipt.segmentations == 2


def test_a_calling_ae_title_not_on_the_list_is_rejected(
    orthanc: Orthanc, listening: Listening
) -> None:
    intruder = AE(ae_title="INTRUDER")
    intruder.add_requested_context(Verification)
    association = intruder.associate("127.0.0.1", orthanc.listener_port, ae_title=LISTENER_AET)
    try:
        assert association.is_rejected
    finally:
        association.release()
    friend = AE(ae_title=ORTHANC_AET)
    friend.add_requested_context(Verification)
    accepted = friend.associate("127.0.0.1", orthanc.listener_port, ae_title=LISTENER_AET)
    try:
        assert accepted.is_established
        assert accepted.send_c_echo().Status == 0x0000
    finally:
        accepted.release()


def test_a_stopped_listener_is_a_clear_failure_for_orthanc(orthanc: Orthanc) -> None:
    """Nothing listens (the fixture is not used): Orthanc reports the failed echo."""
    answer = httpx.post(f"{orthanc.url}/modalities/breastscan/echo", json={}, timeout=30)
    assert answer.status_code >= 400


def test_the_cli_listener_answers_and_needs_a_service_account(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BREASTSCAN_"))}
    env |= {
        "BREASTSCAN_DATA_DIR": str(tmp_path / "data"),
        "BREASTSCAN_JWT_SECRET": "cli-listener-secret-" + "x" * 48,
        "BREASTSCAN_MODEL_PATH": str(build_tiny_model(tmp_path / "tiny.onnx")),
        "BREASTSCAN_DICOM_PORT": str(port),
        "BREASTSCAN_DICOM_ACCEPTED_AETS": ORTHANC_AET,
    }
    refused = subprocess.run(
        [*breastscan_cli(), "dicom-listen"], env=env, capture_output=True, timeout=60
    )
    assert refused.returncode == 3
    assert b"BREASTSCAN_DICOM_SERVICE_ACCOUNT" in refused.stderr

    env["BREASTSCAN_DICOM_SERVICE_ACCOUNT"] = SERVICE_ACCOUNT
    log = tmp_path / "listener.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*breastscan_cli(), "dicom-listen", "--host", "127.0.0.1"],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        caller = AE(ae_title=ORTHANC_AET)
        caller.add_requested_context(Verification)
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            association = caller.associate("127.0.0.1", port, ae_title=LISTENER_AET)
            if association.is_established:
                break
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        try:
            assert association.send_c_echo().Status == 0x0000
        finally:
            association.release()
    finally:
        stop(process)
