"""Domain errors mapped once to what the reader sees: a notification in their language."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from domain.errors import DomainError, NotAuthenticated
from entrypoints.web.state import error_text, forget_token

__all__ = ["error_text", "reported", "session_expired"]


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
