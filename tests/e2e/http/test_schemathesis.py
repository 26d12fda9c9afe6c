"""Schemathesis over the OpenAPI document: every operation, as a clinician and as an admin,
on SQLite and on PostgreSQL, against a real `breastscan serve --api-only` process.

All checks run (no 5xx, status codes, content types, headers and bodies as documented,
negative data refused, auth honoured) except two whose findings are by design:
`positive_data_acceptance` (business rules refuse schema-valid data: a weak password, a taken
email, a control character, a date past the calendar, an admin-only call by a clinician) and
`allow_header_conformance` (Litestar's automatic OPTIONS answer lists the methods of one
handler). Sign-out and password change are left out of the run (they would revoke the token
the run uses); tests/e2e/http/test_auth.py covers them. Each run is capped in time
(`--max-time`); the counts of each run are recorded as test properties and printed.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.conftest import PostgresServer
from tests.e2e.http.conftest import JWT_SECRET
from tests.e2e.servers import breastscan_cli, free_port, stop, wait_until_up
from tests.orthanc import Orthanc, orthanc

__all__ = ["orthanc"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "violet lantern under rain"
MAX_EXAMPLES = 6
MAX_TIME_S = 25
EXCLUDED_CHECKS = "positive_data_acceptance,allow_header_conformance"
EXCLUDED_PATHS = ("/auth/logout", "/auth/password")


@dataclass
class LiveApi:
    base: str
    tokens: dict[str, str]  # role -> bearer token


def _token(base: str, email: str) -> str:
    r = httpx.post(f"{base}/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _start(
    env: dict[str, str], tmp_path: Path, port: int
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    """Migrate, create the admin, start the server; the process, base URL and tokens."""
    subprocess.run(
        [*breastscan_cli(), "migrate"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*breastscan_cli(), "users", "create", "admin@example.org", "--admin", "--password-stdin"],
        input=PASSWORD.encode(),
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*breastscan_cli(), "serve", "--api-only"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}/api"
    wait_until_up(f"{base}/health", process, log_path)
    r = httpx.post(
        f"{base}/auth/register",
        json={"email": "clinician@example.org", "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 202, r.text
    tokens = {
        "clinician": _token(base, "clinician@example.org"),
        "admin": _token(base, "admin@example.org"),
    }
    return process, base, tokens


def _env(
    tmp_path: Path, tiny_model: Path, database_url: str, port: int, pacs: Orthanc
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BREASTSCAN_"))}
    return env | {
        "BREASTSCAN_DATA_DIR": str(tmp_path / "data"),
        "BREASTSCAN_DATABASE_URL": database_url,
        "BREASTSCAN_MODEL_PATH": str(tiny_model),
        "BREASTSCAN_JWT_SECRET": JWT_SECRET,
        "BREASTSCAN_ARGON2_MEMORY_KIB": "64",
        "BREASTSCAN_ARGON2_TIME_COST": "1",
        "BREASTSCAN_MAX_UPLOAD_BYTES": str(1024 * 1024),
        "BREASTSCAN_MAX_FILES_PER_REQUEST": "4",
        "BREASTSCAN_PORT": str(port),
        "BREASTSCAN_PACS_DICOMWEB_URL": pacs.dicomweb_url,  # a real, empty PACS
        "BREASTSCAN_LOG_LEVEL": "error",
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture
def on_sqlite(tmp_path: Path, tiny_model: Path, orthanc: Orthanc) -> Iterator[LiveApi]:
    port = free_port()
    env = _env(tmp_path, tiny_model, "", port, orthanc)
    process, base, tokens = _start(env, tmp_path, port)
    try:
        yield LiveApi(base=base, tokens=tokens)
    finally:
        stop(process)


@pytest_asyncio.fixture(loop_scope="session")
async def on_postgres(
    postgres_server: PostgresServer, tmp_path: Path, tiny_model: Path, orthanc: Orthanc
) -> AsyncIterator[LiveApi]:
    url = await postgres_server.create_database("breastscan_schemathesis")
    port = free_port()
    env = _env(tmp_path, tiny_model, url, port, orthanc)
    try:
        process, base, tokens = await asyncio.to_thread(_start, env, tmp_path, port)
        try:
            yield LiveApi(base=base, tokens=tokens)
        finally:
            await asyncio.to_thread(stop, process)
    finally:
        await postgres_server.drop_database(url)


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else -1


@pytest.mark.parametrize("role", ["clinician", "admin"])
async def test_on_sqlite(
    on_sqlite: LiveApi, role: str, record_property: pytest.RecordProperty
) -> None:
    await conforms(on_sqlite, role, record_property)


@pytest.mark.postgres
@pytest.mark.parametrize("role", ["clinician", "admin"])
async def test_on_postgres(
    on_postgres: LiveApi, role: str, record_property: pytest.RecordProperty
) -> None:
    await conforms(on_postgres, role, record_property)


async def conforms(live_api: LiveApi, role: str, record_property: pytest.RecordProperty) -> None:
    """Every operation conforms to the document and none answers 5xx."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{live_api.base}/schema/openapi.json",
        "--url",
        live_api.base,
        "--header",
        f"Authorization: Bearer {live_api.tokens[role]}",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        *[arg for path in EXCLUDED_PATHS for arg in ("--exclude-path", path)],
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_TIME_S),
        "--seed",
        "9",
        "--no-shrink",
        "--request-timeout",
        "20",
    ]
    done = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=MAX_TIME_S + 120,
        cwd=tempfile.mkdtemp(prefix="schemathesis-"),  # its .schemathesis/ cache goes there
    )
    output = done.stdout + done.stderr
    operations = _count(r"Tested: (\d+)", output)
    generated = _count(r"(\d+) generated", output)
    record_property("schemathesis_operations", operations)
    record_property("schemathesis_examples", generated)
    print(f"schemathesis {role}: {operations} operations, {generated} examples")
    assert done.returncode == 0, output[-8000:]
    assert operations >= 20, output[-3000:]
    assert "Server error" not in output, output[-8000:]
