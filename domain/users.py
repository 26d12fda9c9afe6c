"""Users, roles and the password/email rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from domain.text import has_control_characters

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
PASSWORD_MIN_SCORE = 3  # of 0-4 (zxcvbn's scale): "safely unguessable" offline, slow hash
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    CLINICIAN = "clinician"
    ADMIN = "admin"


def email_taken() -> Conflict:
    """The one refusal of a second account with an email (use cases and repositories alike)."""
    return Conflict("An account with this email already exists.", ErrorCode.EMAIL_TAKEN)


def user_not_found() -> NotFound:
    return NotFound("No such user.", ErrorCode.USER_NOT_FOUND)


def normalise_email(raw: str) -> str:
    """The one spelling of an email: NFKC-normalised and case-folded, so fullwidth or
    differently cased look-alikes are the same account; refuses anything not shaped like an
    email, control and invisible formatting characters (zero-width space, bidi overrides),
    and a local part or domain label that mixes scripts (a Cyrillic letter among Latin)."""
    email = unicodedata.normalize("NFKC", raw.strip()).casefold()
    if (
        len(email) > 254
        or not _EMAIL.match(email)
        or has_control_characters(email)
        or any(_mixes_scripts(part) for part in re.split(r"[@.]", email))
    ):
        raise InvalidInput("Enter a valid email address.", ErrorCode.EMAIL_INVALID)
    return email


def _mixes_scripts(label: str) -> bool:
    """True when the letters of `label` come from more than one script (by Unicode name)."""
    scripts = {unicodedata.name(ch, "?").split()[0] for ch in label if ch.isalpha()}
    return len(scripts) > 1


def check_password_policy(password: str, common_passwords: frozenset[str]) -> None:
    """Refuse passwords that are too short, too long or on the common-password list."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            f"Password must be at least {PASSWORD_MIN_LENGTH} characters.",
            ErrorCode.PASSWORD_TOO_SHORT,
            count=PASSWORD_MIN_LENGTH,
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(
            f"Password must be at most {PASSWORD_MAX_LENGTH} characters.",
            ErrorCode.PASSWORD_TOO_LONG,
            count=PASSWORD_MAX_LENGTH,
        )
    if password.lower() in common_passwords:
        raise InvalidInput(
            "This password is too common; choose another.", ErrorCode.PASSWORD_TOO_COMMON
        )


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    password_hash: str
    role: Role
    is_active: bool
    created_at: datetime
    token_version: int = 0
    display_name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def with_password_hash(self, password_hash: str) -> User:
        return replace(self, password_hash=password_hash)

    def with_role(self, role: Role) -> User:
        return replace(self, role=role, token_version=self.token_version + 1)

    def deactivated(self) -> User:
        return replace(self, is_active=False, token_version=self.token_version + 1)

    def reactivated(self) -> User:
        return replace(self, is_active=True)

    def signed_out_everywhere(self) -> User:
        """Invalidate every token issued so far."""
        return replace(self, token_version=self.token_version + 1)
