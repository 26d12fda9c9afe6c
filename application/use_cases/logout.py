"""Logout: end every session of the caller by invalidating the tokens issued so far."""

from __future__ import annotations

from application.commands import Logout
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import own_account_entry
from domain.errors import ErrorCode, NotAuthenticated


class LogoutUseCase:
    """Bump the caller's token version so no token issued before now is accepted again."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: Logout) -> None:
        async with self._uow as uow:
            user = await uow.users.get(cmd.actor.id)
            if user is None:
                raise NotAuthenticated(
                    "Your session has ended; sign in again.", ErrorCode.SESSION_ENDED
                )
            await uow.users.update(user.signed_out_everywhere())
            await uow.audit.record(own_account_entry(self._clock, "logout", user, cmd.client))
            await uow.commit()
