"""Behaviour every UserRepository must share (fake and SQLAlchemy on SQLite/PostgreSQL).

Also home of the small builders the other persistence contracts use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.ports import UnitOfWork, UserRepository
from domain.errors import Conflict, NotFound
from domain.users import Role, User

UowFactory = Callable[[], UnitOfWork]
T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def make_user(
    email: str | None = None,
    *,
    role: Role = Role.CLINICIAN,
    created_at: datetime = T0,
    display_name: str = "",
) -> User:
    return User(
        id=uuid4(),
        email=email or f"user-{uuid4().hex[:10]}@example.org",
        password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        role=role,
        is_active=True,
        created_at=created_at,
        display_name=display_name,
    )


async def store_users(uow_factory: UowFactory, *users: User) -> None:
    async with uow_factory() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


class UserRepositoryContract:
    """Needs a fixture ``uow_factory`` giving a fresh UnitOfWork over empty storage."""

    async def test_is_a_user_repository(self, uow_factory: UowFactory) -> None:
        assert isinstance(uow_factory().users, UserRepository)

    async def test_added_user_reads_back_equal_in_a_later_transaction(
        self, uow_factory: UowFactory
    ) -> None:
        user = make_user(role=Role.ADMIN, display_name="Dr. Ana Müller")
        await store_users(uow_factory, user)
        async with uow_factory() as uow:
            by_id = await uow.users.get(user.id)
            by_email = await uow.users.get_by_email(user.email)
        assert by_id == user
        assert by_email == user
        assert by_id is not None
        assert by_id.created_at.utcoffset() == timedelta(0)

    async def test_unknown_user_is_none(self, uow_factory: UowFactory) -> None:
        await store_users(uow_factory, make_user("known@example.org"))
        async with uow_factory() as uow:
            assert await uow.users.get(uuid4()) is None
            assert await uow.users.get_by_email("unknown@example.org") is None

    async def test_duplicate_email_is_a_conflict_and_keeps_the_first(
        self, uow_factory: UowFactory
    ) -> None:
        first = make_user("same@example.org")
        await store_users(uow_factory, first)
        with pytest.raises(Conflict):
            await store_users(uow_factory, make_user("same@example.org"))
        async with uow_factory() as uow:
            assert await uow.users.get_by_email("same@example.org") == first
            assert await uow.users.count() == 1

    async def test_update_changes_every_mutable_field(self, uow_factory: UowFactory) -> None:
        user = make_user("before@example.org")
        await store_users(uow_factory, user)
        changed = replace(
            user.with_role(Role.ADMIN).deactivated().with_password_hash("$argon2id$new"),
            email="after@example.org",
            display_name="Renamed",
        )
        async with uow_factory() as uow:
            await uow.users.update(changed)
            await uow.commit()
        async with uow_factory() as uow:
            stored = await uow.users.get(user.id)
            assert await uow.users.get_by_email("before@example.org") is None
        assert stored == changed
        assert stored is not None
        assert stored.token_version == 2
        assert stored.created_at == user.created_at

    async def test_update_to_a_taken_email_is_a_conflict(self, uow_factory: UowFactory) -> None:
        ana, bob = make_user("ana@example.org"), make_user("bob@example.org")
        await store_users(uow_factory, ana, bob)
        with pytest.raises(Conflict):
            async with uow_factory() as uow:
                await uow.users.update(replace(bob, email="ana@example.org"))
        async with uow_factory() as uow:
            assert await uow.users.get(bob.id) == bob

    async def test_update_of_an_unknown_user_is_not_found(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.users.update(make_user())

    async def test_list_pages_oldest_first_with_total(self, uow_factory: UowFactory) -> None:
        users = [make_user(created_at=T0 + timedelta(minutes=i)) for i in range(5)]
        await store_users(uow_factory, *reversed(users))
        async with uow_factory() as uow:
            first = await uow.users.list(offset=0, limit=2)
            rest = await uow.users.list(offset=2, limit=10)
            assert await uow.users.count() == 5
        assert [u.id for u in first.items + rest.items] == [u.id for u in users]
        assert (first.total, first.offset, first.limit) == (5, 0, 2)
        assert (rest.total, len(rest.items)) == (5, 3)

    async def test_list_breaks_ties_on_creation_time_by_email(
        self, uow_factory: UowFactory
    ) -> None:
        users = [make_user(f"{name}@example.org") for name in ("cy", "al", "bo")]
        await store_users(uow_factory, *users)
        async with uow_factory() as uow:
            page = await uow.users.list(offset=0, limit=10)
        assert [u.email for u in page.items] == [
            "al@example.org",
            "bo@example.org",
            "cy@example.org",
        ]

    async def test_empty_storage_counts_zero(self, uow_factory: UowFactory) -> None:
        async with uow_factory() as uow:
            assert await uow.users.count() == 0
            page = await uow.users.list(offset=0, limit=10)
        assert (page.items, page.total) == ([], 0)
