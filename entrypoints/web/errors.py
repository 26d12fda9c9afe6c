"""Domain errors mapped once to what the reader sees: a notification in their language."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from domain.errors import DomainError, NotAuthenticated, TooManyAttempts
from entrypoints.web.state import error_message, forget_token, t


def error_kinds(error: DomainError) -> tuple[str, ...]:
    """The error's class names, most specific first, down to DomainError."""
    return tuple(cls.__name__ for cls in type(error).__mro__ if issubclass(cls, DomainError))


def error_text(error: DomainError) -> str:
    """The reader-facing sentence for a domain error, chosen by its class."""
    if isinstance(error, TooManyAttempts):
        return t("error.too_many_attempts", seconds=error.retry_after)
    return error_message(error_kinds(error), error.message)


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
