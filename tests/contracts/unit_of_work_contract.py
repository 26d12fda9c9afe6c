"""Behaviour every UnitOfWork must share: explicit commit, rollback otherwise."""

from __future__ import annotations

import pytest

from application.ports import AuditQuery, UnitOfWork
from domain.errors import Conflict
from tests.contracts.audit_log_contract import make_entry
from tests.contracts.prediction_repository_contract import make_prediction
from tests.contracts.user_repository_contract import UowFactory, make_user, store_users


class Boom(Exception):
    pass


class UnitOfWorkContract:
    """Needs a fixture ``uow_factory`` giving a fresh UnitOfWork over empty storage."""

    async def test_is_a_unit_of_work(self, uow_factory: UowFactory) -> None:
        assert isinstance(uow_factory(), UnitOfWork)

    async def test_commit_makes_changes_visible_to_later_transactions(
        self, uow_factory: UowFactory
    ) -> None:
        user = make_user()
        async with uow_factory() as uow:
            await uow.users.add(user)
            assert await uow.users.get(user.id) == user  # own writes are visible before commit
            await uow.commit()
        async with uow_factory() as uow:
            assert await uow.users.get(user.id) == user

    async def test_leaving_without_commit_rolls_back(self, uow_factory: UowFactory) -> None:
        user = make_user()
        async with uow_factory() as uow:
            await uow.users.add(user)
            await uow.predictions.add(make_prediction(user), None)
            await uow.audit.record(make_entry())
        async with uow_factory() as uow:
            assert await uow.users.count() == 0
            assert (await uow.audit.list(AuditQuery())).total == 0

    async def test_an_exception_rolls_back_and_propagates_unchanged(
        self, uow_factory: UowFactory
    ) -> None:
        user = make_user()

        async def add_then_fail() -> None:
            async with uow_factory() as uow:
                await uow.users.add(user)
                raise Boom

        with pytest.raises(Boom):
            await add_then_fail()
        async with uow_factory() as uow:
            assert await uow.users.get(user.id) is None

    async def test_explicit_rollback_discards_uncommitted_changes(
        self, uow_factory: UowFactory
    ) -> None:
        kept, dropped = make_user(), make_user()
        async with uow_factory() as uow:
            await uow.users.add(kept)
            await uow.commit()
            await uow.users.add(dropped)
            await uow.rollback()
            assert await uow.users.get(dropped.id) is None
        async with uow_factory() as uow:
            assert await uow.users.get(kept.id) == kept
            assert await uow.users.get(dropped.id) is None

    async def test_changes_after_the_last_commit_are_rolled_back(
        self, uow_factory: UowFactory
    ) -> None:
        first, second = make_user(), make_user()
        async with uow_factory() as uow:
            await uow.users.add(first)
            await uow.commit()
            await uow.users.add(second)
        async with uow_factory() as uow:
            assert await uow.users.get(first.id) == first
            assert await uow.users.get(second.id) is None

    async def test_the_same_instance_can_be_entered_again(self, uow_factory: UowFactory) -> None:
        uow = uow_factory()
        users = [make_user(), make_user()]
        for user in users:
            async with uow:
                await uow.users.add(user)
                await uow.commit()
        async with uow:
            assert await uow.users.count() == 2

    async def test_a_conflict_leaves_earlier_commits_and_a_usable_unit_of_work(
        self, uow_factory: UowFactory
    ) -> None:
        original = make_user("taken@example.org")
        await store_users(uow_factory, original)
        uow = uow_factory()

        async def add_duplicate() -> None:
            async with uow:
                await uow.users.add(make_user("taken@example.org"))
                await uow.commit()

        with pytest.raises(Conflict):
            await add_duplicate()
        async with uow:
            await uow.users.add(make_user("free@example.org"))
            await uow.commit()
        async with uow_factory() as check:
            assert await check.users.count() == 2
            assert await check.users.get_by_email("taken@example.org") == original
