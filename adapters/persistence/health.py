"""Readiness of the database: reachable, and migrated to the revision this code expects."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.migrate import head_revision, read_revision
from application.ports import DatabaseStatus
from domain.errors import DatabaseUnavailable


class SqlAlchemyHealthProbe:
    """Raises DatabaseUnavailable when the database does not answer in time; else reports
    its Alembic revision against this code's head ("behind" covers any other known or unknown
    revision, "missing" a never-migrated database)."""

    def __init__(self, engine: AsyncEngine, timeout_s: float = 3.0) -> None:
        self._engine = engine
        self._timeout_s = timeout_s
        self._head = head_revision()

    async def check(self) -> DatabaseStatus:
        try:
            async with asyncio.timeout(self._timeout_s), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                revision = await connection.run_sync(read_revision)
        except Exception as error:  # whatever stops it answering means "not ready"
            raise DatabaseUnavailable(
                f"The database is unavailable ({type(error).__name__})."
            ) from error
        return DatabaseStatus(backend=self._engine.dialect.name, revision=revision, head=self._head)
