"""/api/auth: register, sign in, sign out, who am I."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from application.commands import Authenticate, ChangePassword, Logout, RegisterUser
from application.use_cases import (
    AuthenticateUseCase,
    ChangePasswordUseCase,
    LogoutUseCase,
    RegisterUserUseCase,
)
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import (
    LoginIn,
    PasswordChangeIn,
    RegisterIn,
    RegistrationOut,
    TokenOut,
    UserOut,
)

TAGS = ["auth"]


@post("/auth/register", status_code=HTTP_202_ACCEPTED, tags=TAGS, summary="Create an account")
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[RegisterIn],
    register_user: NamedDependency[RegisterUserUseCase],
) -> RegistrationOut:
    """Create a clinician account (when self-registration is open). The answer is the same
    whether or not the email already had an account; sign in to use it."""
    cmd = RegisterUser(
        email=data.email,
        password=data.password,
        display_name=data.display_name,
        client=client_of(request),
    )
    await register_user(cmd)
    return RegistrationOut()


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


@post("/auth/password", status_code=200, tags=TAGS, security=SECURITY, summary="Change password")
async def password(
    request: Request[Any, Any, Any],
    data: JSONBody[PasswordChangeIn],
    user: CurrentUser,
    change_password: NamedDependency[ChangePasswordUseCase],
) -> TokenOut:
    """Replace the signed-in user's password (the current one is required). Every token
    issued before is revoked; the answer carries the new one."""
    cmd = ChangePassword(
        actor=user,
        current_password=data.current_password,
        new_password=data.new_password,
        client=client_of(request),
    )
    return TokenOut.of(await change_password(cmd), datetime.now(UTC))


@get("/auth/me", tags=TAGS, security=SECURITY, summary="The signed-in account")
async def me(user: CurrentUser) -> UserOut:
    """The signed-in account."""
    return UserOut.of(user)


PUBLIC = [register, login]
PROTECTED = [sign_out, password, me]
