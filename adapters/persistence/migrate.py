"""Run Alembic migrations programmatically, from inside a running event loop."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_engine

# migrations/ sits beside adapters/ both in a checkout and in an installed wheel
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    """Alembic configuration that needs no alembic.ini (works from an installed package)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logger"] = False
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"Expected one migration head, found {heads}")
    return heads[0]


def read_revision(connection: Connection) -> str | None:
    # Read the version table directly: Alembic's MigrationContext logs its set-up at INFO,
    # which would add two lines to the logs on every readiness probe.
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(revision) if revision is not None else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(read_revision)


async def _run(engine_or_url: AsyncEngine | str | URL, upgrade: bool, revision: str) -> None:
    engine = (
        engine_or_url if isinstance(engine_or_url, AsyncEngine) else create_engine(engine_or_url)
    )
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        if upgrade:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        if engine is not engine_or_url:
            await engine.dispose()


async def upgrade_to_head(engine_or_url: AsyncEngine | str | URL) -> None:
    """Migrate the database to the latest revision (idempotent)."""
    await _run(engine_or_url, upgrade=True, revision="head")


async def upgrade(engine_or_url: AsyncEngine | str | URL, revision: str) -> None:
    await _run(engine_or_url, upgrade=True, revision=revision)


async def downgrade(engine_or_url: AsyncEngine | str | URL, revision: str) -> None:
    """Migrate down to `revision` ("base" removes every table)."""
    await _run(engine_or_url, upgrade=False, revision=revision)
