"""Bearer-token authentication.

A guard on every protected route resolves the token through the ResolveCurrentUser use
case (so signing out and deactivation take effect on the next request) before the request
body is read: an anonymous client cannot make the server parse a 100 MB upload. Handlers
receive the account as the `user: CurrentUser` dependency.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from application.commands import ResolveCurrentUser
from application.use_cases import ResolveCurrentUserUseCase
from domain.errors import DomainError, NotAuthenticated
from domain.users import User
from entrypoints.http.docs import BEARER_SCHEME

SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
CurrentUser = NamedDependency[User]  # handlers take `user: CurrentUser`
_STATE_KEY = "breastscan_user"


def client_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The caller's address (the proxy's X-Forwarded-For is honoured by uvicorn when trusted)."""
    return connection.client.host if connection.client else None


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Sign in and send the access token as 'Authorization: Bearer …'.")
    return token.strip()


def bearer_is(connection: ASGIConnection[Any, Any, Any, Any], secret: str | None) -> bool:
    """True when the request's bearer token is `secret` (compared in constant time)."""
    scheme, _, sent = connection.headers.get("authorization", "").partition(" ")
    return (
        secret is not None
        and scheme.lower() == "bearer"
        and hmac.compare_digest(sent.strip().encode(), secret.encode())
    )


async def is_admin_caller(
    connection: ASGIConnection[Any, Any, Any, Any], resolve: ResolveCurrentUserUseCase
) -> bool:
    """True when the request carries a valid token of an active administrator; never raises
    (no token, a bad one or an unreachable database all mean "not shown to be an admin")."""
    try:
        token = bearer_token(connection)
        user = await resolve(ResolveCurrentUser(token=token, client=client_of(connection)))
    except DomainError:
        return False
    return user.is_admin


def require_user(resolve: Callable[[], ResolveCurrentUserUseCase]) -> Guard:
    """Guard: 401 unless the bearer token belongs to an active account with a current session."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        cmd = ResolveCurrentUser(token=bearer_token(connection), client=client_of(connection))
        connection.state[_STATE_KEY] = await resolve()(cmd)

    return guard


async def current_user(request: Request[Any, Any, Any]) -> User:
    """Litestar dependency `user`: the account the guard resolved (fails closed without it)."""
    user = request.state.get(_STATE_KEY)
    if not isinstance(user, User):
        raise NotAuthenticated("Sign in first.")
    return user
