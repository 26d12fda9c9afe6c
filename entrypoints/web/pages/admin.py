"""Admin (administrators only, checked on the server): users and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from nicegui import ui

from application.commands import ListAuditLog, ListUsers, UpdateUser, parse_instant
from application.ports import AuditEntry, Page
from domain.users import Role, User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.formats import when
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import client_address, t
from entrypoints.web.widgets import date_input

AUDIT_PAGE = 50


@dataclass
class AuditForm:
    user: str | None = ""
    action: str | None = ""
    date_from: str | None = ""
    date_to: str | None = ""

    def command(self, admin: User) -> ListAuditLog:
        return ListAuditLog(
            actor=admin,
            actor_id=UUID(self.user) if self.user else None,
            action=(self.action or "").strip() or None,
            at_from=parse_instant(self.date_from, "from"),
            at_to=parse_instant(self.date_to, "to", end=True),
            limit=AUDIT_PAGE,
        )


def register(web: Web) -> None:
    """Add the Admin page."""

    @signed_in_page(web, "/admin", "admin")
    async def admin_page(user: User) -> None:
        if not user.is_admin:
            ui.label(t("admin.refused")).classes("text-negative text-h6").props(
                'role="alert"'
            ).mark("admin-refused")
            return
        ui.label(t("admin.title")).classes("text-h5")
        with reported():
            await _users_section(web, user)
            await _audit_section(web, user)


async def _all_users(web: Web, admin: User) -> list[User]:
    found: list[User] = []
    while True:
        page: Page[User] = await web.core.list_users()(
            ListUsers(actor=admin, offset=len(found), limit=100)
        )
        found.extend(page.items)
        if not page.items or len(found) >= page.total:
            return found


async def _users_section(web: Web, admin: User) -> None:
    ui.label(t("admin.users")).classes("text-h6")

    @ui.refreshable
    async def users_list() -> None:
        users = await _all_users(web, admin)
        with ui.column().classes("w-full gap-1"):
            with ui.row().classes("w-full no-wrap font-bold text-caption"):
                for key, width in (
                    ("email", "w-64"),
                    ("name", "w-40"),
                    ("role", "w-32"),
                    ("active", "w-16"),
                    ("created", "w-36"),
                ):
                    ui.label(t(f"admin.col.{key}")).classes(width)
            for account in users:
                with (
                    ui.row()
                    .classes("w-full items-center no-wrap")
                    .mark(f"user-row {account.email}")
                ):
                    ui.label(account.email).classes("w-64")
                    ui.label(account.display_name or "—").classes("w-40")
                    ui.label(t("role." + account.role.value)).classes("w-32").mark("user-role-cell")
                    ui.label(t("admin.yes") if account.is_active else t("admin.no")).classes(
                        "w-16"
                    ).mark("user-active-cell")
                    ui.label(when(account.created_at)).classes("w-36")
                    other = Role.CLINICIAN if account.is_admin else Role.ADMIN
                    ui.button(
                        t("admin.make_clinician" if account.is_admin else "admin.make_admin"),
                        on_click=lambda a=account, r=other: change_role(a, r),
                    ).props("flat dense no-caps").mark("change-role")
                    ui.button(
                        t("admin.deactivate" if account.is_active else "admin.reactivate"),
                        on_click=lambda a=account: toggle_active(a),
                    ).props("flat dense no-caps").mark("toggle-active")

    async def change_role(account: User, role: Role) -> None:
        with reported():
            await web.core.update_user()(
                UpdateUser(
                    actor=await actor(web), user_id=account.id, role=role, client=client_address()
                )
            )
            ui.notify(t("admin.updated"), type="positive")
            users_list.refresh()

    async def toggle_active(account: User) -> None:
        with reported():
            await web.core.update_user()(
                UpdateUser(
                    actor=await actor(web),
                    user_id=account.id,
                    active=not account.is_active,
                    client=client_address(),
                )
            )
            ui.notify(t("admin.updated"), type="positive")
            users_list.refresh()

    await users_list()


async def _audit_section(web: Web, admin: User) -> None:
    ui.label(t("admin.audit")).classes("text-h6")
    users = await _all_users(web, admin)
    emails = {u.id: u.email for u in users}
    form = AuditForm()
    with ui.row().classes("w-full items-start gap-2"):
        ui.select(
            {"": "—", **{str(u.id): u.email for u in users}}, label=t("admin.filter.user")
        ).bind_value(form, "user").classes("w-56").mark("audit-user")
        ui.input(t("admin.filter.action")).bind_value(form, "action").classes("w-56").mark(
            "audit-action"
        )
        date_input(t("admin.filter.from"), "", "audit-from").bind_value(form, "date_from").classes(
            "w-56"
        )
        date_input(t("admin.filter.to"), "", "audit-to").bind_value(form, "date_to").classes("w-56")
        ui.button(t("admin.filter.apply"), icon="filter_alt", on_click=lambda: load()).mark(
            "audit-apply"
        )
    table = (
        ui.table(
            columns=[
                {"name": "at", "label": t("admin.col.at"), "field": "at", "align": "left"},
                {"name": "actor", "label": t("admin.col.actor"), "field": "actor", "align": "left"},
                {
                    "name": "action",
                    "label": t("admin.col.action"),
                    "field": "action",
                    "align": "left",
                },
                {
                    "name": "target",
                    "label": t("admin.col.target"),
                    "field": "target",
                    "align": "left",
                },
                {
                    "name": "detail",
                    "label": t("admin.col.detail"),
                    "field": "detail",
                    "align": "left",
                },
            ],
            rows=[],
            row_key="id",
        )
        .props("flat bordered dense wrap-cells")
        .classes("w-full")
        .mark("audit-table")
    )

    def row(entry: AuditEntry) -> dict[str, str]:
        return {
            "id": str(entry.id),
            "at": when(entry.at),
            "actor": emails.get(entry.actor_id, "—") if entry.actor_id else "—",
            "action": entry.action,
            "target": f"{entry.target_type or ''} {entry.target_id or ''}".strip(),
            "detail": entry.detail,
        }

    async def load() -> None:
        with reported():
            page: Page[AuditEntry] = await web.core.list_audit_log()(form.command(await actor(web)))
            table.rows = [row(e) for e in page.items]
            table.update()

    await load()
