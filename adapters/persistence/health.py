"""Readiness of the database: reachable, and migrated to the revision this code expects."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.migrate import head_revision, read_revision

logger = logging.getLogger(__name__)


class SqlAlchemyHealthProbe:
    """Reports {"ok", "database", "migrations", "revision", "head", "backend"}; never raises.

    "ok" is True only when the database answers within the timeout and its Alembic
    revision is this code's head. "database" is "ok" | "unreachable"; "migrations" is
    "head" | "behind" (older or unknown revision) | "missing" (never migrated).
    """

    def __init__(self, engine: AsyncEngine, timeout_s: float = 3.0) -> None:
        self._engine = engine
        self._timeout_s = timeout_s
        self._head = head_revision()

    async def check(self) -> Mapping[str, object]:
        report: dict[str, object] = {
            "ok": False,
            "backend": self._engine.dialect.name,
            "database": "unreachable",
            "migrations": "unknown",
            "revision": None,
            "head": self._head,
        }
        try:
            async with asyncio.timeout(self._timeout_s), self._engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                revision = await connection.run_sync(read_revision)
        except Exception as error:  # any failure to answer means "not ready"
            logger.warning("database health check failed: %s", error)
            report["error"] = type(error).__name__
            return report
        report["database"] = "ok"
        report["revision"] = revision
        if revision is None:
            report["migrations"] = "missing"
        elif revision == self._head:
            report["migrations"] = "head"
            report["ok"] = True
        else:
            report["migrations"] = "behind"
        return report
