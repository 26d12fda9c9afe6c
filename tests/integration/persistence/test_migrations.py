"""Alembic migrations on SQLite and PostgreSQL: up, down, in step with the tables, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_engine
from adapters.persistence.health import SqlAlchemyHealthProbe
from adapters.persistence.migrate import (
    current_revision,
    downgrade,
    head_revision,
    upgrade_to_head,
)
from adapters.persistence.tables import metadata
from domain.errors import DatabaseUnavailable
from tests.conftest import PostgresServer
from tests.integration.persistence.conftest import BACKENDS

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
APP_TABLES = {"users", "predictions", "audit_log", "login_throttle"}


@pytest_asyncio.fixture
async def fresh_postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    url = await postgres_server.create_database("breastscan_migration")
    yield url
    await postgres_server.drop_database(url)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest) -> str:
    """URL of a database that exists but holds nothing, not even alembic_version."""
    url: str = request.getfixturevalue(
        f"{'sqlite_url' if request.param == 'sqlite' else 'fresh_postgres_url'}"
    )
    return url


@pytest_asyncio.fixture
async def empty_engine(empty_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_url)
    yield engine
    await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


def schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_upgrade_creates_the_schema_and_downgrade_removes_it(
    empty_engine: AsyncEngine,
) -> None:
    assert await current_revision(empty_engine) is None
    await upgrade_to_head(empty_engine)
    assert await current_revision(empty_engine) == head_revision()
    assert await table_names(empty_engine) >= APP_TABLES

    await downgrade(empty_engine, "base")
    assert await current_revision(empty_engine) is None
    assert not (APP_TABLES & await table_names(empty_engine))

    await upgrade_to_head(empty_engine)  # and back up again, cleanly
    await upgrade_to_head(empty_engine)  # idempotent
    assert await current_revision(empty_engine) == head_revision()


async def test_migrated_schema_matches_the_tables_the_code_uses(
    empty_engine: AsyncEngine,
) -> None:
    await upgrade_to_head(empty_engine)
    async with empty_engine.connect() as connection:
        differences = await connection.run_sync(schema_differences)
    assert differences == []


async def test_migration_accepts_a_url_and_creates_the_indexes(empty_url: str) -> None:
    await upgrade_to_head(empty_url)
    engine = create_engine(empty_url)
    try:
        async with engine.connect() as connection:
            indexes = await connection.run_sync(
                lambda c: {
                    table: {tuple(ix["column_names"]) for ix in inspect(c).get_indexes(table)}
                    for table in ("predictions", "audit_log")
                }
            )
    finally:
        await engine.dispose()
    assert ("owner_id", "created_at") in indexes["predictions"]
    assert ("image_sha256",) in indexes["predictions"]
    assert ("at",) in indexes["audit_log"]
    assert ("actor_id", "at") in indexes["audit_log"]


async def test_plain_alembic_command_line_uses_the_environment_url(
    empty_engine: AsyncEngine, empty_url: str
) -> None:
    environment = {**os.environ, "BREASTSCAN_DATABASE_URL": empty_url}
    result = subprocess.run(  # noqa: ASYNC221 - a one-off CLI run in a test
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert await current_revision(empty_engine) == head_revision()


async def test_health_probe_reports_head_missing_and_behind(empty_engine: AsyncEngine) -> None:
    probe = SqlAlchemyHealthProbe(empty_engine)
    missing = await probe.check()
    assert (missing.at_head, missing.revision, missing.migrations) == (False, None, "missing")

    await upgrade_to_head(empty_engine)
    ready = await probe.check()
    assert ready.at_head is True
    assert (ready.migrations, ready.revision, ready.head) == (
        "head",
        head_revision(),
        head_revision(),
    )

    async with empty_engine.begin() as connection:  # as if an older release had migrated it
        await connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    behind = await probe.check()
    assert (behind.at_head, behind.migrations) == (False, "behind")
    assert behind.revision == "0000"


UNREACHABLE_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/breastscan"  # nothing listens


async def test_health_probe_raises_when_the_database_cannot_be_reached() -> None:
    engine = create_engine(UNREACHABLE_POSTGRES)
    try:
        with pytest.raises(DatabaseUnavailable):
            await SqlAlchemyHealthProbe(engine, timeout_s=5).check()
    finally:
        await engine.dispose()
