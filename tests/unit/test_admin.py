"""User management and the audit log: administrators only, one active admin always remains."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from application.commands import (
    Authenticate,
    ListAuditLog,
    ListUsers,
    ResolveCurrentUser,
    UpdateUser,
)
from domain.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from domain.users import Role
from tests.unit.conftest import PASSWORD, App

pytestmark = pytest.mark.unit


async def test_clinicians_cannot_manage_users_or_read_the_audit_log(app: App) -> None:
    clinician = await app.user()
    other = await app.user()
    with pytest.raises(Forbidden):
        await app.list_users(ListUsers(actor=clinician))
    with pytest.raises(Forbidden):
        await app.update_user(UpdateUser(actor=clinician, user_id=clinician.id, role=Role.ADMIN))
    with pytest.raises(Forbidden):
        await app.update_user(UpdateUser(actor=clinician, user_id=other.id, active=False))
    with pytest.raises(Forbidden):
        await app.audit_log(ListAuditLog(actor=clinician))
    assert app.db.users[clinician.id].role is Role.CLINICIAN
    assert app.db.users[other.id].is_active


async def test_admin_lists_users_page_by_page(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    for _ in range(4):
        app.clock.advance(seconds=1)
        await app.user()
    page = await app.list_users(ListUsers(actor=admin, offset=2, limit=2))
    assert page.total == 5
    assert len(page.items) == 2
    with pytest.raises(InvalidInput):
        await app.list_users(ListUsers(actor=admin, limit=0))
    with pytest.raises(InvalidInput):
        await app.list_users(ListUsers(actor=admin, offset=-1))
    with pytest.raises(InvalidInput):
        await app.list_users(ListUsers(actor=admin, limit=201))


async def test_role_change_ends_the_users_sessions_and_is_audited(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    user = await app.user("c@example.org")
    session = await app.authenticate(Authenticate(email="c@example.org", password=PASSWORD))
    promoted = await app.update_user(UpdateUser(actor=admin, user_id=user.id, role=Role.ADMIN))
    assert promoted.is_admin
    assert app.db.users[user.id].is_admin
    with pytest.raises(NotAuthenticated):
        await app.resolve(ResolveCurrentUser(token=session.token.token))
    entry = app.db.audit[-1]
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "user.role_changed",
        admin.id,
        str(user.id),
    )
    assert entry.detail == "clinician -> admin"


async def test_setting_the_same_role_changes_nothing(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    user = await app.user()
    same = await app.update_user(UpdateUser(actor=admin, user_id=user.id, role=Role.CLINICIAN))
    assert same.token_version == user.token_version
    assert app.db.audit == []


async def test_unknown_user_is_not_found(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    with pytest.raises(NotFound):
        await app.update_user(UpdateUser(actor=admin, user_id=uuid4(), role=Role.ADMIN))
    with pytest.raises(NotFound):
        await app.update_user(UpdateUser(actor=admin, user_id=uuid4(), active=False))


async def test_deactivation_ends_sessions_and_blocks_login_until_reactivated(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    user = await app.user("c@example.org")
    session = await app.authenticate(Authenticate(email="c@example.org", password=PASSWORD))
    await app.update_user(UpdateUser(actor=admin, user_id=user.id, active=False))
    with pytest.raises(NotAuthenticated):
        await app.resolve(ResolveCurrentUser(token=session.token.token))
    with pytest.raises(InvalidCredentials):
        await app.authenticate(Authenticate(email="c@example.org", password=PASSWORD))
    await app.update_user(UpdateUser(actor=admin, user_id=user.id, active=True))
    await app.authenticate(Authenticate(email="c@example.org", password=PASSWORD))
    assert [a for a in app.actions() if a.startswith("user.")] == [
        "user.deactivated",
        "user.reactivated",
    ]


async def test_last_active_admin_cannot_demote_or_deactivate_themself(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    retired = await app.user(role=Role.ADMIN)
    app.db.users[retired.id] = retired.deactivated()  # inactive admins do not count
    with pytest.raises(Conflict):
        await app.update_user(UpdateUser(actor=admin, user_id=admin.id, role=Role.CLINICIAN))
    with pytest.raises(Conflict):
        await app.update_user(UpdateUser(actor=admin, user_id=admin.id, active=False))
    assert app.db.users[admin.id].is_admin
    assert app.db.users[admin.id].is_active
    assert app.db.audit == []


async def test_role_and_active_change_together_in_one_transaction(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    user = await app.user("both@example.org")
    commits = app.uow.commits
    changed = await app.update_user(
        UpdateUser(actor=admin, user_id=user.id, role=Role.ADMIN, active=False)
    )
    assert (changed.role, changed.is_active) == (Role.ADMIN, False)
    assert app.db.users[user.id] == changed
    assert app.uow.commits == commits + 1
    assert [a for a in app.actions() if a.startswith("user.")] == [
        "user.role_changed",
        "user.deactivated",
    ]


async def test_a_refused_half_applies_nothing(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    # promoting is allowed alone; deactivating the only active admin is not: neither happens
    with pytest.raises(Conflict) as refused:
        await app.update_user(
            UpdateUser(actor=admin, user_id=admin.id, role=Role.ADMIN, active=False)
        )
    assert refused.value.code is ErrorCode.LAST_ADMIN
    assert app.db.users[admin.id] == admin
    with pytest.raises(InvalidInput) as empty:
        await app.update_user(UpdateUser(actor=admin, user_id=admin.id))
    assert empty.value.code is ErrorCode.NOTHING_TO_CHANGE
    assert app.db.audit == []


async def test_an_admin_may_step_down_when_another_remains(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    await app.user(role=Role.ADMIN)
    await app.update_user(UpdateUser(actor=admin, user_id=admin.id, role=Role.CLINICIAN))
    assert not app.db.users[admin.id].is_admin


async def test_last_admin_guard_looks_past_the_first_page_of_users(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    for _ in range(250):
        await app.user()
    app.clock.advance(seconds=1)
    await app.user(role=Role.ADMIN)  # sorts after the 250 clinicians
    await app.update_user(UpdateUser(actor=admin, user_id=admin.id, active=False))
    assert not app.db.users[admin.id].is_active


async def test_audit_log_filters_by_action_actor_and_time(app: App) -> None:
    admin = await app.user(role=Role.ADMIN)
    await app.user("c@example.org")
    start = app.clock.now()
    await app.authenticate(Authenticate(email="c@example.org", password=PASSWORD))
    app.clock.advance(timedelta(hours=1))
    with pytest.raises(InvalidCredentials):
        await app.authenticate(Authenticate(email="c@example.org", password="wrong-pass"))
    failures = await app.audit_log(ListAuditLog(actor=admin, action="login.failure"))
    assert failures.total == 1
    assert failures.items[0].action == "login.failure"
    everything = await app.audit_log(ListAuditLog(actor=admin))
    assert [e.action for e in everything.items] == ["login.failure", "login.success"]
    early = await app.audit_log(
        ListAuditLog(actor=admin, at_from=start, at_to=start + timedelta(minutes=5))
    )
    assert [e.action for e in early.items] == ["login.success"]
    mine = await app.audit_log(ListAuditLog(actor=admin, actor_id=admin.id))
    assert mine.total == 0
    with pytest.raises(InvalidInput):
        await app.audit_log(ListAuditLog(actor=admin, limit=1000))
