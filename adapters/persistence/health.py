"""Readiness of the database: reachable, and migrated to the revision this code expects."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.migrate import head_revision, read_revision
from domain.errors import DatabaseUnavailable


class SqlAlchemyHealthProbe:
    """Raises DatabaseUnavailable when the database does not answer in time; else reports.

    The report: {"ok": bool, "database": "ok", "migrations": "head" | "behind" | "missing",
    "at_head": bool, "revision": str | None, "head": str, "backend": "sqlite" | "postgresql"}.
    "ok" (== "at_head") is True only when the Alembic revision is this code's head;
    "behind" covers any other known or unknown revision, "missing" a never-migrated database.
    """

    def __init__(self, engine: AsyncEngine, timeout_s: float = 3.0) -> None:
        self._engine = engine
        self._timeout_s = timeout_s
        self._head = head_revision()

    async def check(self) -> Mapping[str, object]:
        try:
            async with asyncio.timeout(self._timeout_s), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                revision = await connection.run_sync(read_revision)
        except Exception as error:  # whatever stops it answering means "not ready"
            raise DatabaseUnavailable(
                f"The database is unavailable ({type(error).__name__})."
            ) from error
        at_head = revision == self._head
        return {
            "ok": at_head,
            "database": "ok",
            "migrations": "head" if at_head else ("missing" if revision is None else "behind"),
            "at_head": at_head,
            "revision": revision,
            "head": self._head,
            "backend": self._engine.dialect.name,
        }
