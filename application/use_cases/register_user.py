"""RegisterUser: create an account under the password and email rules."""

from __future__ import annotations

from importlib import resources
from uuid import uuid4

from application.commands import RegisterUser
from application.ports import Clock, PasswordHasher, PasswordStrength, UnitOfWork
from application.use_cases._shared import audit_entry, check_new_password
from domain.errors import ErrorCode, Forbidden, InvalidInput
from domain.text import plain_text
from domain.users import Role, User, email_taken, normalise_email

MAX_DISPLAY_NAME_LENGTH = 100


def load_common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower-cased), refused by the password policy."""
    text = resources.files("application").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


class RegisterUserUseCase:
    """Create an account; only administrators (or the trusted CLI) may create administrators.

    Self-registration never says whether an email already has an account: for a taken email
    it does the same work (the password is hashed either way), records the attempt in the
    audit log, changes nothing and returns None; the entrypoint gives both the same answer.
    Administrators and the CLI are told (`email_taken`)."""

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        clock: Clock,
        common_passwords: frozenset[str],
        strength: PasswordStrength,
        registration_open: bool = True,
    ) -> None:
        self._registration_open = registration_open
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._common_passwords = common_passwords
        self._strength = strength

    async def __call__(self, cmd: RegisterUser) -> User | None:
        if cmd.actor is None and not cmd.trusted and not self._registration_open:
            raise Forbidden(
                "Self-registration is closed; ask an administrator for an account.",
                ErrorCode.REGISTRATION_CLOSED,
            )
        email = normalise_email(cmd.email)
        display_name = " ".join(plain_text(cmd.display_name, "display_name").split())
        check_new_password(
            cmd.password, email, self._common_passwords, self._strength, (display_name,)
        )
        if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
            raise InvalidInput(
                f"Name must be at most {MAX_DISPLAY_NAME_LENGTH} characters.",
                ErrorCode.NAME_TOO_LONG,
                count=MAX_DISPLAY_NAME_LENGTH,
            )
        admin_actor = cmd.actor is not None and cmd.actor.is_admin and cmd.actor.is_active
        if cmd.actor is not None and not admin_actor:
            raise Forbidden("Only administrators may create accounts for others.")
        if cmd.role is Role.ADMIN and not (cmd.trusted or admin_actor):
            raise Forbidden("Only administrators may create administrator accounts.")

        password_hash = await self._hasher.hash(cmd.password)
        async with self._uow as uow:
            if await uow.users.get_by_email(email) is not None:
                if cmd.actor is not None or cmd.trusted:
                    raise email_taken()
                await uow.audit.record(
                    audit_entry(
                        self._clock,
                        "user.registration_refused",
                        actor_id=None,
                        detail="reason=email taken",
                        client=cmd.client,
                    )
                )
                await uow.commit()
                return None
            user = User(
                id=uuid4(),
                email=email,
                password_hash=password_hash,
                role=cmd.role,
                is_active=True,
                created_at=self._clock.now(),
                display_name=display_name,
            )
            await uow.users.add(user)
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "user.registered",
                    actor_id=cmd.actor.id if cmd.actor else user.id,
                    target_type="user",
                    target_id=user.id,
                    detail=f"role={user.role.value}" + (" via cli" if cmd.trusted else ""),
                    client=cmd.client,
                )
            )
            await uow.commit()
        return user
