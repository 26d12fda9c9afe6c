"""Shared fixtures: one PostgreSQL server per test session, and SQLite database files.

PostgreSQL, in order of preference:
1. the server named by BREASTSCAN_TEST_POSTGRES_URL (any database on it; we only create ours;
   when it does not answer, nothing else is tried);
2. a server on 127.0.0.1:5432 with trust auth for user postgres (the development default);
3. an embedded PostgreSQL started from the `pgserver` wheel in a temporary directory
   (forced with BREASTSCAN_TEST_POSTGRES_EMBEDDED=1).
When none can be had, PostgreSQL tests fail under CI (env CI truthy) and are skipped elsewhere.
Each session works in a freshly created, uniquely named database, dropped at the end.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from tests.ci import in_ci, truthy, unavailable

logger = logging.getLogger(__name__)

POSTGRES_URL_ENV = "BREASTSCAN_TEST_POSTGRES_URL"
POSTGRES_EMBEDDED_ENV = "BREASTSCAN_TEST_POSTGRES_EMBEDDED"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _as_asyncpg_dsn(url: str) -> str:
    """asyncpg speaks plain `postgresql://` DSNs (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _answers(dsn: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()
    return None


@dataclass
class PostgresServer:
    """A PostgreSQL server this test session may create and drop databases on."""

    admin_dsn: str  # asyncpg DSN of a maintenance database (`postgres`)
    origin: str  # "env" | "local" | "embedded", for the test report
    created: list[str] = field(default_factory=list)

    def url(self, database: str) -> str:
        """SQLAlchemy URL (asyncpg driver) of one database on this server."""
        return (
            make_url(self.admin_dsn)
            .set(drivername="postgresql+asyncpg", database=database)
            .render_as_string(hide_password=False)
        )

    async def create_database(self, prefix: str = "breastscan_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        self.created.append(name)
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        name = make_url(url).database
        connection = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
        if name in self.created:
            self.created.remove(name)


def _start_embedded() -> tuple[str | None, str]:
    """Start pgserver's embedded PostgreSQL; (admin DSN or None, reason)."""
    try:
        import pgserver
    except ImportError as error:
        return None, f"pgserver not installed ({error})"
    try:
        data_dir = Path(tempfile.mkdtemp(prefix="breastscan-pg-"))
        with warnings.catch_warnings():  # platformdirs: XDG_RUNTIME_DIR unset in containers
            warnings.simplefilter("ignore")
            server = pgserver.get_server(data_dir, cleanup_mode="delete")
        return server.get_uri("postgres"), "embedded"
    except Exception as error:  # initdb/pg_ctl failures: report, do not crash the session
        return None, f"embedded PostgreSQL failed to start ({type(error).__name__}: {error})"


async def _find_server() -> tuple[PostgresServer | None, str]:
    reasons: list[str] = []
    configured = os.environ.get(POSTGRES_URL_ENV)
    if configured:
        dsn = _as_asyncpg_dsn(configured)
        problem = await _answers(dsn)
        if problem is None:
            # keep the server, use its maintenance database for CREATE/DROP DATABASE
            admin = make_url(dsn).set(database="postgres").render_as_string(hide_password=False)
            return PostgresServer(admin, "env"), ""
        # an explicit choice is not silently replaced by another server
        return None, f"{POSTGRES_URL_ENV} does not answer ({problem})"
    if not truthy(os.environ.get(POSTGRES_EMBEDDED_ENV)):
        problem = await _answers(LOCAL_POSTGRES)
        if problem is None:
            return PostgresServer(LOCAL_POSTGRES, "local"), ""
        reasons.append(f"no server on 127.0.0.1:5432 ({problem})")
    dsn, why = _start_embedded()
    if dsn is not None:
        problem = await _answers(dsn)
        if problem is None:
            return PostgresServer(dsn, "embedded"), ""
        why = f"embedded PostgreSQL does not answer ({problem})"
    reasons.append(why)
    return None, "; ".join(reasons)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_server() -> AsyncIterator[PostgresServer]:
    """A PostgreSQL server for the session, or a skip (a failure under CI)."""
    server, reason = await _find_server()
    if server is None:
        unavailable(f"PostgreSQL unavailable: {reason}")
    logger.info("PostgreSQL for tests: %s (%s)", server.origin, server.admin_dsn)
    yield server
    for name in list(server.created):  # databases a test forgot to drop
        await server.drop_database(server.url(name))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """SQLAlchemy URL of a fresh, empty database created for this test session."""
    url = await postgres_server.create_database()
    yield url
    await postgres_server.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLAlchemy URL of a new SQLite file (not yet created) in the test's tmp dir."""
    return f"sqlite+aiosqlite:///{tmp_path / 'breastscan.db'}"


# --- CI: every layer must have run, and nothing may be skipped -----------------------------

LAYERS = {
    "unit": "tests/unit",
    "contracts on real adapters": "tests/integration",
    "HTTP end to end": "tests/e2e/http",
    "UI end to end": "tests/e2e/web",
    "ML pipeline": "tests/ml",
    "deployment and operations": "tests/ops",
}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI, a skipped test or a layer that ran no test fails the run (never a quiet skip)."""
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if not in_ci() or reporter is None or exitstatus != 0:
        return
    if config.option.markexpr or config.option.keyword:
        return  # a deliberate subset
    passed = [report.nodeid for report in reporter.stats.get("passed", [])]
    skipped = reporter.stats.get("skipped", [])
    problems = [f"{len(skipped)} test(s) skipped" for _ in skipped[:1]]
    if config.args in ([], ["tests"], [str(config.rootpath / "tests")]):
        problems += [
            f"no {name} test ran ({path})"
            for name, path in LAYERS.items()
            if not any(nodeid.startswith(path + "/") for nodeid in passed)
        ]
    if problems:
        reporter.ensure_newline()
        reporter.write_line("CI=true: " + "; ".join(problems), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
