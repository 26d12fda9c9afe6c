"""Authenticate: exchange email and password for an access token."""

from __future__ import annotations

import secrets

from application.commands import Authenticate, Session
from application.ports import (
    AuditEntry,
    Clock,
    LoginThrottle,
    PasswordHasher,
    TokenService,
    UnitOfWork,
)
from application.use_cases._shared import audit_entry, own_account_entry
from domain.errors import InvalidCredentials, InvalidInput, TooManyAttempts
from domain.users import User, normalise_email

FAILURE_MESSAGE = "Email or password is incorrect."


class AuthenticateUseCase:
    """Sign in without revealing whether an email is registered; throttle guessing."""

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        tokens: TokenService,
        throttle: LoginThrottle,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._clock = clock
        self._dummy_hash: str | None = None

    async def __call__(self, cmd: Authenticate) -> Session:
        try:
            email: str | None = normalise_email(cmd.email)
        except InvalidInput:
            email = None
        key = email or cmd.email.strip().lower()[:254]
        try:
            await self._throttle.check(key, cmd.client)
        except TooManyAttempts:
            await self._record_failure(None, email, "locked out", cmd.client)
            raise

        async with self._uow as uow:
            user = await uow.users.get_by_email(email) if email else None
            if user is None:
                # Spend the same time as a real check so timing does not reveal unknown emails.
                await self._hasher.verify(await self._dummy(), cmd.password)
                ok = False
            else:
                ok = await self._hasher.verify(user.password_hash, cmd.password)

            if user is None or not ok or not user.is_active:
                reason = (
                    "unknown email"
                    if user is None
                    else ("wrong password" if not ok else "inactive account")
                )
                await self._throttle.record_failure(key, cmd.client)
                await uow.audit.record(self._failure(user, email, reason, cmd.client))
                await uow.commit()
                raise InvalidCredentials(FAILURE_MESSAGE)

            # before this unit of work writes: the throttle commits on its own, and SQLite
            # lets only one connection write at a time
            await self._throttle.record_success(key, cmd.client)
            if self._hasher.needs_rehash(user.password_hash):
                user = user.with_password_hash(await self._hasher.hash(cmd.password))
                await uow.users.update(user)
            token = self._tokens.issue(user)
            await uow.audit.record(
                own_account_entry(self._clock, "login.success", user, cmd.client)
            )
            await uow.commit()
        return Session(user=user, token=token)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def _record_failure(
        self, user: User | None, email: str | None, reason: str, client: str | None
    ) -> None:
        async with self._uow as uow:
            await uow.audit.record(self._failure(user, email, reason, client))
            await uow.commit()

    def _failure(
        self, user: User | None, email: str | None, reason: str, client: str | None
    ) -> AuditEntry:
        # Only a well-formed email is kept: a password typed into the email field is not.
        detail = f"reason={reason}" + (f"; email={email}" if email else "")
        return audit_entry(
            self._clock,
            "login.failure",
            actor_id=None,
            target_type="user" if user else None,
            target_id=user.id if user else None,
            detail=detail,
            client=client,
        )
