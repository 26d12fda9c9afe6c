"""Translation of database failures into domain errors, done once for the whole adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext

from domain.errors import Conflict, DatabaseUnavailable, DomainError

__all__ = ["classify_unavailable", "is_unavailable", "translate_errors", "unavailable"]

# SQLSTATE classes that say the server, not the statement, is the problem: connection
# exceptions, insufficient resources, operator intervention (shutdown, cannot connect now,
# terminated backend), system errors.
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})


def unavailable() -> DatabaseUnavailable:
    return DatabaseUnavailable("The database is unavailable; try again shortly.")


def _clash() -> Conflict:
    return Conflict("The change clashes with existing data.")


def sqlstate(error: BaseException | None) -> str:
    """The SQLSTATE a driver error carries (asyncpg through SQLAlchemy's adapter), or ""."""
    while error is not None:
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str) and code:
            return code
        error = getattr(error, "orig", None) or error.__cause__
    return ""


def classify_unavailable(context: ExceptionContext) -> None:
    """SQLAlchemy `handle_error` hook: a failure while connecting (whatever the driver calls
    it: refused, `ALLOW_CONNECTIONS false`, too many clients, auth) or one whose SQLSTATE
    says the server is unavailable marks the connection as lost, so the pool drops it and
    `is_unavailable` sees it."""
    if context.connection is None or (
        sqlstate(context.original_exception)[:2] in UNAVAILABLE_SQLSTATE_CLASSES
    ):
        context.is_disconnect = True


def is_unavailable(error: BaseException) -> bool:
    """True for failures of the connection itself rather than of the statement."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if sqlstate(error)[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
        return True
    return isinstance(
        error,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.TimeoutError  # pool exhausted
        | OSError  # connection refused / reset before the driver wraps it
        | TimeoutError,
    )


@contextmanager
def translate_errors(conflict: Callable[[], Conflict] = _clash) -> Iterator[None]:
    """Turn SQLAlchemy/driver failures into DatabaseUnavailable or `conflict()`."""
    try:
        yield
    except sa_exc.IntegrityError as error:
        raise conflict() from error
    except DomainError:
        raise
    except Exception as error:
        if is_unavailable(error):
            raise unavailable() from error
        raise
