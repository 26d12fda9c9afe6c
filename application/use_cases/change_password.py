"""ChangePassword: a signed-in user replaces their password, proving the current one first."""

from __future__ import annotations

from application.commands import ChangePassword, Session
from application.ports import (
    Clock,
    LoginThrottle,
    PasswordHasher,
    PasswordStrength,
    TokenService,
    UnitOfWork,
)
from application.use_cases._shared import check_new_password, own_account_entry
from domain.errors import ErrorCode, InvalidInput, NotAuthenticated


class ChangePasswordUseCase:
    """Check the current password (wrong guesses count against the sign-in throttle), apply
    the password policy to the new one, and revoke every token issued so far: the result
    carries the one new token that is valid."""

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: TokenService,
        throttle: LoginThrottle,
        clock: Clock,
        common_passwords: frozenset[str],
        strength: PasswordStrength,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._clock = clock
        self._common_passwords = common_passwords
        self._strength = strength

    async def __call__(self, cmd: ChangePassword) -> Session:
        email = cmd.actor.email
        await self._throttle.check(email, cmd.client)
        if not await self._hasher.verify(cmd.actor.password_hash, cmd.current_password):
            await self._throttle.record_failure(email, cmd.client)
            raise InvalidInput(
                "The current password is not correct.", ErrorCode.PASSWORD_CURRENT_WRONG
            )
        await self._throttle.record_success(email, cmd.client)
        hints = (cmd.actor.display_name,)
        check_new_password(cmd.new_password, email, self._common_passwords, self._strength, hints)
        password_hash = await self._hasher.hash(cmd.new_password)
        async with self._uow as uow:
            user = await uow.users.get(cmd.actor.id)
            if user is None or not user.is_active:
                raise NotAuthenticated(
                    "Your session has ended; sign in again.", ErrorCode.SESSION_ENDED
                )
            user = user.with_password_hash(password_hash).signed_out_everywhere()
            await uow.users.update(user)
            await uow.audit.record(
                own_account_entry(self._clock, "user.password_changed", user, cmd.client)
            )
            await uow.commit()
        return Session(user=user, token=self._tokens.issue(user))
