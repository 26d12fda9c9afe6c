"""A real Orthanc PACS for the tests: Debian's `orthanc` + `orthanc-dicomweb`, started in the
foreground on loopback ports with a config written here; all its state lives in a temp dir.

Use the `orthanc` fixture (session scope; `pytest_plugins = ["tests.orthanc"]` or import it).
Missing Orthanc fails under CI and skips elsewhere (tests/ci.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.ci import unavailable
from tests.e2e.servers import free_port

ORTHANC_BINARY = "Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
ORTHANC_AET = "ORTHANC"
# The DicomModalities entry naming Breastscan's C-STORE listener, as Orthanc knows it.
LISTENER_MODALITY = "breastscan"
LISTENER_AET = "BREASTSCAN"


@dataclass
class Orthanc:
    """A running Orthanc: its REST/DICOMweb base URL, DICOM port and the listener it knows."""

    http_port: int
    dicom_port: int
    listener_port: int  # where Orthanc sends C-STOREs for the LISTENER_MODALITY entry
    directory: Path
    # HTTP Basic accounts (name -> password); none: authentication off
    users: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def auth(self) -> tuple[str, str] | None:
        """The credentials the test helpers use: the first account, if any."""
        return next(iter(self.users.items()), None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def aet(self) -> str:
        return ORTHANC_AET

    def config(self) -> dict[str, object]:
        return {
            "Name": "breastscan-test",
            "StorageDirectory": str(self.directory / "storage"),
            "IndexDirectory": str(self.directory / "index"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": ORTHANC_AET,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": self.users,
            "DicomCheckCalledAet": False,
            "StableAge": 1,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "DicomModalities": {LISTENER_MODALITY: [LISTENER_AET, "127.0.0.1", self.listener_port]},
            "HttpTimeout": 30,
            "DicomScuTimeout": 10,
        }

    def start(self) -> None:
        (self.directory / "storage").mkdir(parents=True, exist_ok=True)
        (self.directory / "index").mkdir(parents=True, exist_ok=True)
        config = self.directory / "orthanc.json"
        config.write_text(json.dumps(self.config(), indent=2))
        with (self.directory / "orthanc.log").open("wb") as log:  # the child keeps its copy
            self.process = subprocess.Popen(
                [ORTHANC_BINARY, str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {self.log_tail()}")
            try:
                if (
                    httpx.get(f"{self.dicomweb_url}/studies", auth=self.auth, timeout=1).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within 30 s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        path = self.directory / "orthanc.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    # --- REST helpers the tests use ------------------------------------------------------

    def upload(self, part10: bytes) -> str:
        """Store one Part 10 file through the REST API; its Orthanc instance id."""
        response = httpx.post(f"{self.url}/instances", content=part10, auth=self.auth, timeout=30)
        response.raise_for_status()
        return str(response.json()["ID"])

    def send_to_listener(self, resources: list[str]) -> dict[str, object]:
        """C-STORE these Orthanc resources to Breastscan's listener (the modality entry)."""
        response = httpx.post(
            f"{self.url}/modalities/{LISTENER_MODALITY}/store",
            json={"Resources": resources, "Synchronous": True},
            auth=self.auth,
            timeout=60,
        )
        response.raise_for_status()
        return dict(response.json())

    def instances_of_study(self, study_uid: str) -> list[bytes]:
        """Every instance Orthanc holds for a StudyInstanceUID, as Part 10 bytes."""
        found = httpx.post(
            f"{self.url}/tools/find",
            json={"Level": "Instance", "Query": {"StudyInstanceUID": study_uid}},
            auth=self.auth,
            timeout=30,
        )
        found.raise_for_status()
        return [
            httpx.get(f"{self.url}/instances/{oid}/file", auth=self.auth, timeout=30).content
            for oid in found.json()
        ]

    def clear(self) -> None:
        """Delete every patient (a clean PACS for the next test)."""
        for patient in httpx.get(f"{self.url}/patients", auth=self.auth, timeout=30).json():
            gone = httpx.delete(f"{self.url}/patients/{patient}", auth=self.auth, timeout=30)
            gone.raise_for_status()


def running(directory: Path, users: dict[str, str] | None = None) -> Iterator[Orthanc]:
    if shutil.which(ORTHANC_BINARY) is None or not DICOMWEB_PLUGIN.exists():
        unavailable("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)")
    server = Orthanc(free_port(), free_port(), free_port(), directory, users or {})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    yield from running(tmp_path_factory.mktemp("orthanc"))


@pytest.fixture(scope="session")
def orthanc_with_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """A second Orthanc that answers only with HTTP Basic credentials (see `auth`)."""
    yield from running(tmp_path_factory.mktemp("orthanc-login"), {"breastscan": "s3cret-pacs"})
