"""Bearer-token authentication: every token goes through the ResolveCurrentUser use case,
so signing out and deactivation take effect on the next request."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from application.commands import ResolveCurrentUser
from application.use_cases import ResolveCurrentUserUseCase
from domain.errors import NotAuthenticated
from domain.users import User
from entrypoints.http.docs import BEARER_SCHEME

SECURITY = [{BEARER_SCHEME: []}]
CurrentUser = NamedDependency[User]  # handlers take `user: CurrentUser`


def client_of(request: Request[Any, Any, Any]) -> str | None:
    """The caller's address (the proxy's X-Forwarded-For is honoured by uvicorn when trusted)."""
    return request.client.host if request.client else None


def bearer_token(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Sign in and send the access token as 'Authorization: Bearer …'.")
    return token.strip()


async def current_user(
    request: Request[Any, Any, Any],
    resolve_current_user: NamedDependency[ResolveCurrentUserUseCase],
) -> User:
    """Litestar dependency `user`: the signed-in, active account or 401."""
    cmd = ResolveCurrentUser(token=bearer_token(request), client=client_of(request))
    return await resolve_current_user(cmd)
