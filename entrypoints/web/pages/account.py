"""Password: a signed-in user changes their password; every other session ends."""

from __future__ import annotations

from nicegui import ui

from application.commands import ChangePassword
from domain.errors import ErrorCode, InvalidInput
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import error_text, reported
from entrypoints.web.frame import actor, signed_in_page
from entrypoints.web.state import client_address, store_token, t
from entrypoints.web.widgets import password_rules


def register(web: Web) -> None:
    """Add the Password page."""

    @signed_in_page(web, "/password", "password")
    async def password_page(user: User) -> None:
        ui.label(t("password.title")).classes("text-h5").props('role="heading"')
        ui.label(t("password.explain")).classes("text-body2")
        with ui.card().classes("w-full max-w-md"):
            current = ui.input(t("password.current"), password=True).props(
                "autocomplete=current-password"
            )
            new = ui.input(t("password.new"), password=True).props("autocomplete=new-password")
            again = ui.input(t("password.again"), password=True).props("autocomplete=new-password")
            for field, mark in ((current, "current"), (new, "new"), (again, "again")):
                field.classes("w-full").mark(f"password-{mark}")

            password_rules()

            async def change() -> None:
                for field in (current, new, again):
                    field.error = None
                with reported():
                    try:
                        if (new.value or "") != (again.value or ""):
                            raise InvalidInput("The passwords differ.", ErrorCode.PASSWORDS_DIFFER)
                        session = await web.core.change_password()(
                            ChangePassword(
                                actor=await actor(web),
                                current_password=current.value or "",
                                new_password=new.value or "",
                                client=client_address(),
                            )
                        )
                    except InvalidInput as error:
                        code = error.code
                        target = (
                            current
                            if code is ErrorCode.PASSWORD_CURRENT_WRONG
                            else again
                            if code is ErrorCode.PASSWORDS_DIFFER
                            else new
                        )
                        target.error = error_text(error)
                        return
                    store_token(session.token.token)
                    for field in (current, new, again):
                        field.value = ""
                    ui.notify(t("password.changed"), type="positive")

            ui.button(t("password.change"), on_click=change).classes("w-full").mark(
                "change-password"
            )
