"""/api/auth: register, sign in, sign out, who am I."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from application.commands import Authenticate, Logout, RegisterUser
from application.use_cases import AuthenticateUseCase, LogoutUseCase, RegisterUserUseCase
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import LoginIn, RegisterIn, TokenOut, UserOut

TAGS = ["auth"]


@post("/auth/register", status_code=HTTP_201_CREATED, tags=TAGS, summary="Create an account")
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[RegisterIn],
    register_user: NamedDependency[RegisterUserUseCase],
) -> UserOut:
    """Create a clinician account (when self-registration is open)."""
    cmd = RegisterUser(
        email=data.email,
        password=data.password,
        display_name=data.display_name,
        client=client_of(request),
    )
    return UserOut.of(await register_user(cmd))


@post("/auth/login", status_code=200, tags=TAGS, summary="Sign in")
async def login(
    request: Request[Any, Any, Any],
    data: JSONBody[LoginIn],
    authenticate: NamedDependency[AuthenticateUseCase],
) -> TokenOut:
    """Exchange email and password for a short-lived bearer token."""
    session = await authenticate(
        Authenticate(email=data.email, password=data.password, client=client_of(request))
    )
    return TokenOut.of(session, datetime.now(UTC))


@post(
    "/auth/logout",
    status_code=HTTP_204_NO_CONTENT,
    tags=TAGS,
    security=SECURITY,
    summary="Sign out everywhere",
)
async def sign_out(
    request: Request[Any, Any, Any], user: CurrentUser, logout: NamedDependency[LogoutUseCase]
) -> None:
    """Invalidate every token issued to the signed-in user so far."""
    await logout(Logout(actor=user, client=client_of(request)))


@get("/auth/me", tags=TAGS, security=SECURITY, summary="The signed-in account")
async def me(user: CurrentUser) -> UserOut:
    """The signed-in account."""
    return UserOut.of(user)


PUBLIC = [register, login]
PROTECTED = [sign_out, me]
