"""Round trip with a real PACS (a benchmark, not a test): from Orthanc's C-STORE of a study to
Breastscan's listener until the structured report is stored back on Orthanc.

Starts Orthanc (Debian's orthanc + orthanc-dicomweb, config and state in a temp dir), a
migrated SQLite database, the container with the committed model, and the C-STORE listener.
Each round: a new study of IMAGES synthetic ultrasound images is put on Orthanc; the clock
starts when Orthanc is asked to C-STORE it to Breastscan (REST /modalities/{name}/store,
synchronous), the listener analyses and files it, SendResultsToPacs writes SR + SEG and
stores them by STOW-RS, and the clock stops once Orthanc answers a QIDO-RS search with the SR.
Prints each step's median and the total's median and worst.

    python benchmarks/pacs_roundtrip.py [--rounds 5] [--images 2] [--model models/breast-cnn.onnx]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx
import pydicom

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the Orthanc harness and test files live in tests/

from adapters.persistence.migrate import upgrade_to_head  # noqa: E402
from application.commands import ListStudies, RegisterUser, SendResultsToPacs  # noqa: E402
from domain.users import Role  # noqa: E402
from entrypoints.container import build_container, shutdown  # noqa: E402
from entrypoints.dicom_listener import DicomListener  # noqa: E402
from entrypoints.settings import DEFAULT_MODEL_PATH, Settings  # noqa: E402
from tests.e2e.servers import free_port  # noqa: E402
from tests.integration.pacs.dicom_files import ultrasound  # noqa: E402
from tests.orthanc import LISTENER_AET, ORTHANC_AET, Orthanc  # noqa: E402

ACCOUNT = "pacs-bench@clinic.example"


async def main(rounds: int, images: int, model: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        orthanc = Orthanc(free_port(), free_port(), free_port(), root / "orthanc")
        orthanc.start()
        settings = Settings(
            data_dir=root / "data",
            jwt_secret="pacs-bench-secret-" + "x" * 48,
            model_path=model,
            pacs_dicomweb_url=orthanc.dicomweb_url,
            dicom_ae_title=LISTENER_AET,
            dicom_port=orthanc.listener_port,
            dicom_accepted_aets=(ORTHANC_AET,),
            dicom_service_account=ACCOUNT,
        )
        (root / "data").mkdir()
        await upgrade_to_head(settings.resolved_database_url)
        container = build_container(settings)
        account = await container.register_user()(
            RegisterUser(
                email=ACCOUNT,
                password="bench horse battery staple",
                role=Role.CLINICIAN,
                trusted=True,
            )
        )
        listener = DicomListener(
            container.receive_pacs_images(), settings, asyncio.get_running_loop()
        )
        listener.start("127.0.0.1")
        steps: dict[str, list[float]] = {
            "c-store + analysis": [],
            "SR + SEG via STOW-RS": [],
            "total": [],
        }
        try:
            for n in range(rounds + 1):  # round 0 warms the model and the connections up
                first = ultrasound(patient_id=f"MRN-B{n}", accession=f"ACC-B{n}", seed=n)
                uid = str(pydicom.dcmread(io.BytesIO(first)).StudyInstanceUID)
                files = [first] + [
                    ultrasound(patient_id=f"MRN-B{n}", study_uid=uid, seed=100 * n + i)
                    for i in range(1, images)
                ]
                ids = [orthanc.upload(data) for data in files]
                started = time.perf_counter()
                await anyio.to_thread.run_sync(orthanc.send_to_listener, ids)
                received = time.perf_counter()
                page = await container.list_studies()(ListStudies(actor=account, limit=100))
                study = next(s.study for s in page.items if s.study.study_instance_uid == uid)
                receipt = await container.send_results_to_pacs()(
                    SendResultsToPacs(actor=account, study_id=study.id)
                )
                url = f"{orthanc.dicomweb_url}/studies/{uid}/instances"
                async with httpx.AsyncClient(timeout=30) as client:
                    found = (await client.get(url, params={"Modality": "SR"})).json()
                assert any(i["00080018"]["Value"][0] == receipt.report_uid for i in found), (
                    "the SR is not on Orthanc"
                )
                done = time.perf_counter()
                if n == 0:
                    continue
                steps["c-store + analysis"].append(received - started)
                steps["SR + SEG via STOW-RS"].append(done - received)
                steps["total"].append(done - started)
        finally:
            listener.stop()
            await shutdown(container)
            orthanc.stop()
    print(f"PACS round trip, {rounds} rounds of a {images}-image study, model {model.name}:")
    for name, values in steps.items():
        print(f"  {name:24s} median {statistics.median(values) * 1000:7.0f} ms")
    print(f"  {'total, worst':24s}        {max(steps['total']) * 1000:7.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.images, args.model))
