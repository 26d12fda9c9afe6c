"""What the SQLAlchemy adapter guarantees beyond the port contracts, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_engine, normalise_url
from adapters.persistence.repositories import escape_like
from adapters.persistence.tables import audit_log
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import AuditQuery, PredictionQuery
from domain.errors import Conflict, DatabaseUnavailable, ErrorCode
from tests.contracts.audit_log_contract import make_entry
from tests.contracts.prediction_repository_contract import make_prediction, make_review
from tests.contracts.user_repository_contract import make_user, store_users

pytestmark = pytest.mark.integration

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
KOLKATA = timezone(timedelta(hours=5, minutes=30))
LOS_ANGELES_WINTER = timezone(timedelta(hours=-8))


# --- time zones --------------------------------------------------------------------------


async def test_aware_timestamps_in_any_zone_come_back_as_the_same_instant_in_utc(
    uow_factory: UowFactory,
) -> None:
    local = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=LOS_ANGELES_WINTER)
    user = make_user(created_at=datetime(2026, 2, 1, 4, 0, tzinfo=KOLKATA))
    prediction = make_prediction(user, created_at=local, review=make_review(user))
    entry = make_entry(at=local)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.predictions.add(prediction, None)
        await uow.audit.record(entry)
        await uow.commit()
    async with uow_factory() as uow:
        stored_user = await uow.users.get(user.id)
        stored = await uow.predictions.get(prediction.id)
        (stored_entry,) = (await uow.audit.list(AuditQuery())).items
    assert stored_user is not None
    assert stored is not None
    assert stored.created_at == local  # same instant ...
    assert stored.created_at.tzinfo is UTC  # ... expressed in UTC
    assert stored.created_at.isoformat() == "2026-02-01T07:59:59.999999+00:00"
    assert stored_user.created_at == user.created_at
    assert stored_user.created_at.tzinfo is UTC
    assert stored.review is not None
    assert stored.review.reviewed_at.tzinfo is UTC
    assert stored_entry.at == local


async def test_date_filters_compare_instants_not_wall_clock_text(
    uow_factory: UowFactory,
) -> None:
    owner = make_user()
    await store_users(uow_factory, owner)
    # 23:30 in Los Angeles on Jan 31 is 07:30 UTC on Feb 1
    late_evening = make_prediction(
        owner, created_at=datetime(2026, 1, 31, 23, 30, tzinfo=LOS_ANGELES_WINTER)
    )
    async with uow_factory() as uow:
        await uow.predictions.add(late_evening, None)
        await uow.commit()
    february_utc = PredictionQuery(owner_id=owner.id, created_from=datetime(2026, 2, 1, tzinfo=UTC))
    january_la = PredictionQuery(
        owner_id=owner.id,
        created_from=datetime(2026, 1, 31, tzinfo=LOS_ANGELES_WINTER),
        created_to=datetime(2026, 2, 1, tzinfo=LOS_ANGELES_WINTER),
    )
    async with uow_factory() as uow:
        assert [p.id for p in (await uow.predictions.list(february_utc)).items] == [late_evening.id]
        assert [p.id for p in (await uow.predictions.list(january_la)).items] == [late_evening.id]


async def test_naive_datetimes_are_refused(uow_factory: UowFactory) -> None:
    async def add_naive() -> None:
        async with uow_factory() as uow:
            await uow.users.add(make_user(created_at=datetime(2026, 1, 1, 12, 0)))

    with pytest.raises(StatementError, match="naive datetime"):
        await add_naive()


async def test_database_default_timestamps_read_back_as_utc_now(engine: AsyncEngine) -> None:
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    async with engine.begin() as connection:  # no `at`: CURRENT_TIMESTAMP fills it in
        await connection.execute(insert(audit_log).values(id=uuid4(), action="system.start"))
    async with SqlAlchemyUnitOfWork(engine) as uow:
        (entry,) = (await uow.audit.list(AuditQuery())).items
    assert entry.at.tzinfo is UTC
    assert before <= entry.at <= datetime.now(UTC) + timedelta(seconds=1)


# --- integrity and append-only audit -----------------------------------------------------


async def test_a_prediction_for_an_unknown_owner_is_refused(uow_factory: UowFactory) -> None:
    async def add_orphan() -> None:
        async with uow_factory() as uow:
            await uow.predictions.add(make_prediction(make_user()), None)

    with pytest.raises(Conflict):  # foreign keys are enforced, on SQLite too
        await add_orphan()


async def test_duplicate_email_conflict_says_so(uow_factory: UowFactory) -> None:
    await store_users(uow_factory, make_user("dup@example.org"))
    with pytest.raises(Conflict, match="already exists") as raised:
        await store_users(uow_factory, make_user("dup@example.org"))
    assert raised.value.code is ErrorCode.EMAIL_TAKEN


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"]
)
async def test_the_database_refuses_to_change_audit_entries(
    engine: AsyncEngine, uow_factory: UowFactory, statement: str
) -> None:
    entry = make_entry()
    async with uow_factory() as uow:
        await uow.audit.record(entry)
        await uow.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    async with uow_factory() as uow:
        assert (await uow.audit.list(AuditQuery())).items == [entry]


# --- transactions --------------------------------------------------------------------------


async def test_repositories_never_commit_on_their_own(
    engine: AsyncEngine, uow_factory: UowFactory
) -> None:
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.predictions.add(make_prediction(user), None)
        await uow.audit.record(make_entry())
        async with engine.connect() as outsider:  # another connection sees nothing yet
            assert (await outsider.execute(text("SELECT count(*) FROM users"))).scalar() == 0
    async with engine.connect() as outsider:
        assert (await outsider.execute(text("SELECT count(*) FROM users"))).scalar() == 0


async def test_one_instance_shared_by_concurrent_tasks_keeps_their_transactions_apart(
    uow_factory: UowFactory,
) -> None:
    uow = uow_factory()  # e.g. held by a singleton use case
    writer_added, reader_looked = asyncio.Event(), asyncio.Event()
    user = make_user()

    async def writer() -> None:
        async with uow:
            await uow.users.add(user)
            writer_added.set()
            await reader_looked.wait()
            await uow.commit()

    async def reader() -> bool:
        await writer_added.wait()
        async with uow:
            seen = await uow.users.get(user.id) is not None
        reader_looked.set()
        return seen

    _, reader_saw_uncommitted = await asyncio.wait_for(asyncio.gather(writer(), reader()), 30)
    assert reader_saw_uncommitted is False
    async with uow:
        assert await uow.users.get(user.id) == user


async def test_nested_blocks_use_separate_sessions_and_restore_the_outer_one(
    uow_factory: UowFactory,
) -> None:
    uow = uow_factory()
    user = make_user()
    async with uow:
        await uow.users.add(user)
        async with uow:
            assert await uow.users.get(user.id) is None  # not committed yet
        assert await uow.users.get(user.id) == user
        await uow.commit()
    async with uow:
        assert await uow.users.get(user.id) == user


async def test_using_repositories_outside_a_block_is_an_error(uow_factory: UowFactory) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await uow_factory().users.count()


async def test_a_failed_commit_rolls_back_and_reports_conflict(uow_factory: UowFactory) -> None:
    owner = make_user()
    await store_users(uow_factory, owner)
    prediction = make_prediction(owner)

    async def add_twice() -> None:
        async with uow_factory() as uow:
            await uow.predictions.add(prediction, None)
            await uow.predictions.add(prediction, None)
            await uow.commit()

    with pytest.raises(Conflict):
        await add_twice()
    async with uow_factory() as uow:
        assert await uow.predictions.get(prediction.id) is None


# --- engines and connection failures ----------------------------------------------------


async def test_sqlite_engine_enforces_foreign_keys_uses_wal_and_waits_when_busy(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'nested' / 'data' / 'b.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("foreign_keys", "journal_mode", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert engine.dialect.driver == "aiosqlite"
    assert (tmp_path / "nested" / "data" / "b.db").exists()  # data directory created
    assert pragmas == {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 5000}


def test_urls_get_the_async_drivers() -> None:
    assert normalise_url("postgresql://u:p@db:5432/app").drivername == "postgresql+asyncpg"
    assert normalise_url("postgresql+psycopg://db/app").drivername == "postgresql+asyncpg"
    assert normalise_url("sqlite:///./data/x.db").drivername == "sqlite+aiosqlite"
    assert normalise_url("sqlite+aiosqlite:///x.db").drivername == "sqlite+aiosqlite"


def test_like_escaping() -> None:
    assert escape_like("100%_a\\b") == "100\\%\\_a\\\\b"


async def test_an_unreachable_server_is_database_unavailable() -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:1/breastscan")  # nothing listens
    try:
        with pytest.raises(DatabaseUnavailable):
            async with SqlAlchemyUnitOfWork(engine) as uow:
                await uow.users.count()
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_dropped_connection_is_database_unavailable_and_the_next_one_works(
    postgres_engine: AsyncEngine, postgres_url: str
) -> None:
    uow = SqlAlchemyUnitOfWork(postgres_engine)
    await store_users(lambda: uow, make_user("before@example.org"))
    killer = create_engine(postgres_url)

    async def drop_everyone_elses_connection() -> None:
        async with killer.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )

    async def use_connection_that_dies() -> None:
        async with uow:
            assert await uow.users.count() == 1  # the session now holds a connection
            await drop_everyone_elses_connection()
            await uow.users.count()

    try:
        with pytest.raises(DatabaseUnavailable):
            await use_connection_that_dies()
    finally:
        await killer.dispose()
    async with uow:  # the pool pings, replaces the dead connection, and carries on
        assert await uow.users.get_by_email("before@example.org") is not None
