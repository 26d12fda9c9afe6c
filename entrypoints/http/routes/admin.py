"""/api/admin: user management and the audit log (the use cases refuse non-administrators)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from application.commands import ChangeRole, ListAuditLog, ListUsers, RegisterUser, SetUserActive
from application.use_cases import (
    ChangeRoleUseCase,
    ListAuditLogUseCase,
    ListUsersUseCase,
    RegisterUserUseCase,
    SetUserActiveUseCase,
)
from domain.errors import Forbidden, InvalidInput
from domain.users import Role, User
from entrypoints.http.auth import SECURITY, CurrentUser, client_of
from entrypoints.http.dto import AuditPageOut, RegisterIn, UserOut, UserPageOut, UserPatch
from entrypoints.http.routes.predictions import FromQ, ToQ, _instant

TAGS = ["admin"]
Offset = Annotated[int, QueryParameter(ge=0)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]


@get("/admin/users", tags=TAGS, security=SECURITY, summary="List users")
async def users(
    user: CurrentUser,
    list_users: NamedDependency[ListUsersUseCase],
    offset: Offset = 0,
    limit: Limit = 50,
) -> UserPageOut:
    """Every account, oldest first."""
    return UserPageOut.of(await list_users(ListUsers(actor=user, offset=offset, limit=limit)))


@post("/admin/users", tags=TAGS, security=SECURITY, status_code=201, summary="Create a user")
async def create_user(
    request: Request[Any, Any, Any],
    data: JSONBody[RegisterIn],
    user: CurrentUser,
    register_user: NamedDependency[RegisterUserUseCase],
    role: FromQuery[Role] = Role.CLINICIAN,
) -> UserOut:
    """Create an account on someone's behalf (also while self-registration is closed)."""
    if not (user.is_admin and user.is_active):
        raise Forbidden("Only administrators may do this.")
    cmd = RegisterUser(
        email=data.email,
        password=data.password,
        display_name=data.display_name,
        role=role,
        actor=user,
        client=client_of(request),
    )
    return UserOut.of(await register_user(cmd))


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
    change_role: NamedDependency[ChangeRoleUseCase],
    set_user_active: NamedDependency[SetUserActiveUseCase],
) -> UserOut:
    """Change a user's role and/or deactivate or reactivate them (their tokens stop working)."""
    if data.role is None and data.is_active is None:
        raise InvalidInput("Send 'role' and/or 'is_active'.")
    client = client_of(request)
    changed: User | None = None
    if data.role is not None:
        changed = await change_role(
            ChangeRole(actor=user, user_id=user_id, role=data.role, client=client)
        )
    if data.is_active is not None:
        changed = await set_user_active(
            SetUserActive(actor=user, user_id=user_id, active=data.is_active, client=client)
        )
    assert changed is not None
    return UserOut.of(changed)


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
) -> AuditPageOut:
    """The append-only audit log, newest first, filtered by actor, action and time."""
    cmd = ListAuditLog(
        actor=user,
        actor_id=actor_id,
        action=action,
        at_from=_instant(date_from, "from"),
        at_to=_instant(date_to, "to", end=True),
        offset=offset,
        limit=limit,
    )
    return AuditPageOut.of(await list_audit_log(cmd))


HANDLERS = [users, create_user, update_user, audit]
