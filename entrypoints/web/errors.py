"""Domain errors mapped once to what the reader sees: a notification in their language."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidCredentials,
    InvalidImage,
    InvalidInput,
    ModelUnavailable,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from entrypoints.web.state import domain_text, forget_token, t


def error_text(error: DomainError) -> str:
    """The reader-facing sentence for a domain error."""
    match error:
        case InvalidCredentials():
            return t("error.invalid_credentials")
        case TooManyAttempts(retry_after=seconds):
            return t("error.too_many_attempts", seconds=seconds)
        case NotFound():
            return t("error.not_found")
        case Forbidden():
            return t("error.forbidden")
        case Conflict():
            return t("error.conflict", message=domain_text(error.message))
        case InvalidImage():
            return t("error.invalid_image", message=domain_text(error.message))
        case InvalidInput():
            return t("error.invalid_input", message=domain_text(error.message))
        case ModelUnavailable():
            return t("error.model_unavailable")
        case _:
            return domain_text(error.message)


def session_expired() -> None:
    """Drop the stale token and send the reader to sign in again, saying why."""
    forget_token(notice="expired")
    ui.navigate.to("/login")


@contextmanager
def reported() -> Iterator[None]:
    """Run a UI action; a domain error stops it and becomes one notification."""
    try:
        yield
    except NotAuthenticated:
        session_expired()
    except DomainError as error:
        ui.notify(error_text(error), type="negative", multi_line=True)
