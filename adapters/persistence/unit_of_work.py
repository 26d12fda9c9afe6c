"""Unit of work: one AsyncSession (one transaction) per `async with` block."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.persistence.engine import create_session_factory
from adapters.persistence.errors import is_unavailable, translate_errors, unavailable
from adapters.persistence.repositories import (
    SqlAlchemyAuditLog,
    SqlAlchemyPredictionRepository,
    SqlAlchemyUserRepository,
)
from adapters.persistence.studies import SqlAlchemyStudyRepository


@dataclass(slots=True)
class _Transaction:
    session: AsyncSession
    outer: _Transaction | None


class SqlAlchemyUnitOfWork:
    """Opens a session on enter; `commit()` commits, leaving without commit rolls back.

    The open session is kept in a ContextVar, so one instance may be shared (e.g. a
    singleton use case) by concurrent requests: each task sees only its own transaction.
    Nested blocks in one task get a fresh session each and restore the outer one on exit.
    """

    def __init__(self, engine_or_sessions: AsyncEngine | async_sessionmaker[AsyncSession]) -> None:
        if isinstance(engine_or_sessions, AsyncEngine):
            engine_or_sessions = create_session_factory(engine_or_sessions)
        self._sessions = engine_or_sessions
        self._current: ContextVar[_Transaction | None] = ContextVar(f"uow-{id(self)}", default=None)
        self.users = SqlAlchemyUserRepository(self._session)
        self.predictions = SqlAlchemyPredictionRepository(self._session)
        self.studies = SqlAlchemyStudyRepository(self._session)
        self.audit = SqlAlchemyAuditLog(self._session)

    def _session(self) -> AsyncSession:
        transaction = self._current.get()
        if transaction is None:
            raise RuntimeError("Use the unit of work inside `async with uow:`.")
        return transaction.session

    async def __aenter__(self) -> Self:
        self._current.set(_Transaction(self._sessions(), outer=self._current.get()))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        transaction = self._current.get()
        assert transaction is not None, "unit of work exited without being entered"
        try:
            # close() rolls back whatever was not committed
            await transaction.session.close()
        except Exception as error:
            if exc is None and is_unavailable(error):
                raise unavailable() from error
            if exc is None:
                raise
            # the block's own error matters more than a failed rollback on a dead connection
        finally:
            self._current.set(transaction.outer)

    async def commit(self) -> None:
        with translate_errors():
            await self._session().commit()

    async def rollback(self) -> None:
        with translate_errors():
            await self._session().rollback()
