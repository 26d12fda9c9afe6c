"""SQLAlchemy adapters over SQLite and PostgreSQL, both migrated by Alembic (upgrade_to_head).

`engine` is parametrised over the two backends; every test gets empty tables:
SQLite a fresh copy of a once-migrated database file, PostgreSQL a TRUNCATE of the session's
once-migrated database.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_engine
from adapters.persistence.migrate import upgrade_to_head
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    await upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest_asyncio.fixture
async def sqlite_engine(
    migrated_sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    path = tmp_path / "breastscan.db"
    shutil.copyfile(migrated_sqlite_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def migrated_postgres_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def postgres_engine(migrated_postgres_engine: AsyncEngine) -> AsyncEngine:
    async with migrated_postgres_engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE audit_log, predictions, users, login_throttle CASCADE")
        )
    return migrated_postgres_engine


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> AsyncEngine:
    """A migrated, empty database on each backend (PostgreSQL only when one can be had)."""
    engine: AsyncEngine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> Callable[[], SqlAlchemyUnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)
