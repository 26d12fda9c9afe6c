"""ListUsers: the accounts, for administrators."""

from __future__ import annotations

from application.commands import ListUsers
from application.ports import Page, UnitOfWork
from application.use_cases._shared import check_page, require_admin
from domain.users import User


class ListUsersUseCase:
    """One page of accounts; administrators only."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, cmd: ListUsers) -> Page[User]:
        require_admin(cmd.actor)
        check_page(cmd.offset, cmd.limit)
        async with self._uow as uow:
            return await uow.users.list(cmd.offset, cmd.limit)
