"""ResolveCurrentUser: turn a bearer token into the signed-in user, or refuse it."""

from __future__ import annotations

from application.commands import ResolveCurrentUser
from application.ports import TokenService, UnitOfWork
from domain.errors import ErrorCode, NotAuthenticated
from domain.users import User


class ResolveCurrentUserUseCase:
    """Accept a token only while its account is active and its token version is current."""

    def __init__(self, uow: UnitOfWork, tokens: TokenService) -> None:
        self._uow = uow
        self._tokens = tokens

    async def __call__(self, cmd: ResolveCurrentUser) -> User:
        claims = self._tokens.decode(cmd.token)
        async with self._uow as uow:
            user = await uow.users.get(claims.user_id)
        if user is None or not user.is_active or user.token_version != claims.token_version:
            raise NotAuthenticated(
                "Your session has ended; sign in again.", ErrorCode.SESSION_ENDED
            )
        return user
