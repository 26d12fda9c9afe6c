"""Engine factory: SQLite (embedded default) and PostgreSQL, each configured for safe use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from adapters.persistence.errors import classify_unavailable

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/breastscan.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 5.0
POSTGRES_COMMAND_TIMEOUT_S = 60.0


def normalise_url(url: str | URL) -> URL:
    """Pick the async driver for plain `postgresql://` / `sqlite://` URLs."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.get_driver_name() != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite" and parsed.get_driver_name() != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(
    url: str | URL = DEFAULT_DATABASE_URL, *, echo: bool = False, **kwargs: Any
) -> AsyncEngine:
    """An AsyncEngine for `url`; nothing connects until first use.

    SQLite: foreign keys enforced, WAL journal (readers never block the writer), a busy
    timeout instead of immediate "database is locked", and the data directory created.
    PostgreSQL (asyncpg): connections pinged before use so a restarted server is survived,
    bounded connect/command timeouts so an unreachable server fails fast.
    """
    engine = _create(normalise_url(url), echo=echo, **kwargs)
    event.listen(engine.sync_engine, "handle_error", classify_unavailable)
    return engine


def _create(parsed: URL, *, echo: bool, **kwargs: Any) -> AsyncEngine:
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, echo=echo, **kwargs)
        _configure_sqlite(engine, wal=path is not None)
        return engine
    if parsed.get_backend_name() == "postgresql":
        connect_args = {
            "timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "command_timeout": POSTGRES_COMMAND_TIMEOUT_S,
            "server_settings": {"application_name": "breastscan"},
            **kwargs.pop("connect_args", {}),
        }
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_recycle", 1800)
        return create_async_engine(parsed, echo=echo, connect_args=connect_args, **kwargs)
    raise ValueError(f"Unsupported database backend {parsed.get_backend_name()!r}")


def _configure_sqlite(engine: AsyncEngine, *, wal: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (entities are plain dataclasses anyway)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
