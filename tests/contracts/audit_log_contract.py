"""Behaviour every AuditLog must share (fake and SQLAlchemy on both databases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone
from uuid import uuid4

from application.ports import AuditEntry, AuditLog, AuditQuery
from tests.contracts.user_repository_contract import T0, UowFactory


def make_entry(minutes: int = 0, **changes: object) -> AuditEntry:
    entry = AuditEntry(
        id=uuid4(),
        at=T0 + timedelta(minutes=minutes),
        actor_id=uuid4(),
        action="prediction.created",
        target_type="prediction",
        target_id=str(uuid4()),
        detail="scan.png: malignant (p=0.81)",
        client="192.0.2.10",
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


async def record(uow_factory: UowFactory, *entries: AuditEntry) -> None:
    async with uow_factory() as uow:
        for entry in entries:
            await uow.audit.record(entry)
        await uow.commit()


class AuditLogContract:
    """Needs a fixture ``uow_factory`` giving a fresh UnitOfWork over empty storage."""

    async def test_is_an_audit_log(self, uow_factory: UowFactory) -> None:
        assert isinstance(uow_factory().audit, AuditLog)

    async def test_recorded_entries_read_back_equal(self, uow_factory: UowFactory) -> None:
        full = make_entry()
        bare = AuditEntry(id=uuid4(), at=T0 + timedelta(seconds=1), actor_id=None, action="x")
        await record(uow_factory, full, bare)
        async with uow_factory() as uow:
            page = await uow.audit.list(AuditQuery())
        assert page.items == [bare, full]
        assert page.total == 2

    async def test_list_is_newest_first_and_pages_with_total(self, uow_factory: UowFactory) -> None:
        entries = [make_entry(minutes=i) for i in range(5)]
        await record(uow_factory, *entries[2:], *entries[:2])
        async with uow_factory() as uow:
            first = await uow.audit.list(AuditQuery(limit=3))
            second = await uow.audit.list(AuditQuery(offset=3, limit=3))
        assert first.items + second.items == list(reversed(entries))
        assert (first.total, second.total, second.offset, second.limit) == (5, 5, 3, 3)

    async def test_paging_through_equal_timestamps_loses_nothing(
        self, uow_factory: UowFactory
    ) -> None:
        entries = [make_entry() for _ in range(5)]
        await record(uow_factory, *entries)
        async with uow_factory() as uow:
            first = await uow.audit.list(AuditQuery(limit=2))
            rest = await uow.audit.list(AuditQuery(offset=2, limit=10))
        assert sorted(e.id.hex for e in first.items + rest.items) == sorted(
            e.id.hex for e in entries
        )

    async def test_filters_by_actor_action_and_time(self, uow_factory: UowFactory) -> None:
        actor = uuid4()
        login = make_entry(0, actor_id=actor, action="login.success")
        created = make_entry(10, actor_id=actor)
        later = make_entry(20, actor_id=actor)
        someone_else = make_entry(10)
        await record(uow_factory, login, created, later, someone_else)
        async with uow_factory() as uow:
            by_actor = await uow.audit.list(AuditQuery(actor_id=actor))
            by_action = await uow.audit.list(AuditQuery(action="login.success"))
            window = await uow.audit.list(
                AuditQuery(
                    at_from=created.at.astimezone(timezone(timedelta(hours=9))),
                    at_to=later.at,
                )
            )
            combined = await uow.audit.list(
                AuditQuery(actor_id=actor, action="prediction.created", at_from=created.at)
            )
        assert by_actor.items == [later, created, login]
        assert by_action.items == [login]
        assert {e.id for e in window.items} == {created.id, someone_else.id}
        assert combined.items == [later, created]
        assert combined.total == 2
