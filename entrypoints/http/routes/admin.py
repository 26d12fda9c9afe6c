"""/api/admin: user management and the audit log (the use cases refuse non-administrators)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from application.commands import ListAuditLog, ListUsers, RegisterUser, UpdateUser, parse_instant
from application.use_cases import (
    ListAuditLogUseCase,
    ListUsersUseCase,
    RegisterUserUseCase,
    UpdateUserUseCase,
)
from application.use_cases._shared import require_admin
from domain.users import Role
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import AuditEntryOut, PageOut, RegisterIn, UserOut, UserPatch
from entrypoints.http.routes.predictions import FromQ, Limit, Offset, ToQ

TAGS = ["admin"]


@get("/admin/users", tags=TAGS, security=SECURITY, summary="List users")
async def users(
    user: CurrentUser,
    list_users: NamedDependency[ListUsersUseCase],
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOut[UserOut]:
    """Every account, oldest first."""
    page = await list_users(ListUsers(actor=user, offset=offset, limit=limit))
    return PageOut.of(page, UserOut.of)


@post("/admin/users", tags=TAGS, security=SECURITY, status_code=201, summary="Create a user")
async def create_user(
    request: Request[Any, Any, Any],
    data: JSONBody[RegisterIn],
    user: CurrentUser,
    register_user: NamedDependency[RegisterUserUseCase],
    role: FromQuery[Role] = Role.CLINICIAN,
) -> UserOut:
    """Create an account on someone's behalf (also while self-registration is closed)."""
    require_admin(user)  # before the body is used: RegisterUser also serves self-registration
    cmd = RegisterUser(
        email=data.email,
        password=data.password,
        display_name=data.display_name,
        role=role,
        actor=user,
        client=client_of(request),
    )
    created = await register_user(cmd)
    assert created is not None, "administrators are told when an email is taken"
    return UserOut.of(created)


@patch(
    "/admin/users/{user_id:uuid}",
    tags=TAGS,
    security=SECURITY,
    summary="Change role or active flag",
)
async def update_user(
    request: Request[Any, Any, Any],
    user_id: FromPath[UUID],
    data: JSONBody[UserPatch],
    user: CurrentUser,
    update_user: NamedDependency[UpdateUserUseCase],
) -> UserOut:
    """Change a user's role and/or deactivate or reactivate them (their tokens stop working);
    both changes are applied together or not at all."""
    cmd = UpdateUser(
        actor=user,
        user_id=user_id,
        role=data.role,
        active=data.is_active,
        client=client_of(request),
    )
    return UserOut.of(await update_user(cmd))


@get("/admin/audit", tags=TAGS, security=SECURITY, summary="Read the audit log")
async def audit(
    user: CurrentUser,
    list_audit_log: NamedDependency[ListAuditLogUseCase],
    actor_id: FromQuery[UUID | None] = None,
    action: Annotated[str | None, QueryParameter(max_length=100)] = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOut[AuditEntryOut]:
    """The append-only audit log, newest first, filtered by actor, action and time."""
    cmd = ListAuditLog(
        actor=user,
        actor_id=actor_id,
        action=action,
        at_from=parse_instant(date_from, "from"),
        at_to=parse_instant(date_to, "to", end=True),
        offset=offset,
        limit=limit,
    )
    return PageOut.of(await list_audit_log(cmd), AuditEntryOut.of)


HANDLERS = [users, create_user, update_user, audit]
