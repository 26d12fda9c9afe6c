"""Translation of database failures into domain errors, done once for the whole adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from domain.errors import Conflict, DatabaseUnavailable, DomainError

__all__ = ["is_unavailable", "translate_errors", "unavailable"]


def unavailable() -> DatabaseUnavailable:
    return DatabaseUnavailable("The database is unavailable; try again shortly.")


def _clash() -> Conflict:
    return Conflict("The change clashes with existing data.")


def is_unavailable(error: BaseException) -> bool:
    """True for failures of the connection itself rather than of the statement."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
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
