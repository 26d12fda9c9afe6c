"""Sign in and create account."""

from __future__ import annotations

from nicegui import ui
from starlette.responses import RedirectResponse

from application.commands import Authenticate, RegisterUser, Session
from domain.errors import Conflict, DomainError, InvalidInput
from entrypoints.web.deps import Web
from entrypoints.web.errors import error_text, reported
from entrypoints.web.frame import public_frame, signed_in_user
from entrypoints.web.state import client_address, forget_token, store_token, t, take_notice
from entrypoints.web.widgets import field_for, password_rules

NOTICES = {
    "expired": ("auth.session_expired", "warning"),
    "signed_out": ("auth.signed_out", "info"),
    "registered": ("auth.account_created", "check_circle"),
}


def _notice_banner() -> None:
    notice = take_notice()
    if notice in NOTICES:
        key, icon = NOTICES[notice]
        card = ui.card().classes("w-full bg-blue-1").props('role="status" flat bordered')
        with card, ui.row().classes("items-center no-wrap"):
            ui.icon(icon).props('aria-hidden="true"')
            ui.label(t(key)).mark("auth-notice")


def register(web: Web) -> None:
    """Add the sign-in and create-account pages."""

    @ui.page("/login")
    async def login_page() -> RedirectResponse | None:
        if await signed_in_user(web) is not None:
            return RedirectResponse("/", status_code=303)
        with public_frame():
            _notice_banner()
            with ui.card().classes("w-full"):
                ui.label(t("auth.sign_in")).classes("text-h5").props('role="heading"')
                email = (
                    ui.input(t("auth.email"))
                    .props("type=email autocomplete=username autofocus")
                    .classes("w-full")
                    .mark("email")
                )
                password = (
                    ui.input(t("auth.password"), password=True)
                    .props("autocomplete=current-password")
                    .classes("w-full")
                    .mark("password")
                )
                error = ui.label().classes("text-negative").props('role="alert"').mark("error")

                async def sign_in() -> None:
                    error.set_text("")
                    if not email.value or not password.value:
                        error.set_text(t("auth.fill_in"))
                        return
                    with reported():
                        session: Session = await web.core.authenticate()(
                            Authenticate(
                                email=email.value, password=password.value, client=client_address()
                            )
                        )
                        store_token(session.token.token)
                        ui.navigate.to("/")
                    password.value = ""

                password.on("keydown.enter", sign_in)
                ui.button(t("auth.sign_in"), on_click=sign_in).classes("w-full").mark("sign-in")
            if web.options.registration_open:
                ui.link(t("auth.no_account"), "/register").mark("to-register")
        return None

    @ui.page("/register")
    async def register_page() -> None:
        with public_frame():
            if not web.options.registration_open:
                ui.label(t("auth.registration_closed")).mark("registration-closed")
                return
            with ui.card().classes("w-full"):
                ui.label(t("auth.create_account")).classes("text-h5").props('role="heading"')
                name = (
                    ui.input(t("auth.display_name"))
                    .props("autocomplete=name")
                    .classes("w-full")
                    .mark("display-name")
                )
                email = (
                    ui.input(t("auth.email"))
                    .props("type=email autocomplete=username")
                    .classes("w-full")
                    .mark("email")
                )
                password = (
                    ui.input(t("auth.password"), password=True)
                    .props("autocomplete=new-password")
                    .classes("w-full")
                    .mark("password")
                )

                password_rules()
                fields = {"email": email, "password": password, "name": name}

                async def create() -> None:
                    for field in fields.values():
                        field.error = None
                    try:
                        await web.core.register_user()(
                            RegisterUser(
                                email=email.value or "",
                                password=password.value or "",
                                display_name=(name.value or "").strip(),
                                client=client_address(),
                            )
                        )
                    except (InvalidInput, Conflict) as error:
                        field_for(error, fields, "email").error = error_text(error)
                        return
                    except DomainError as error:
                        ui.notify(error_text(error), type="negative", multi_line=True)
                        return
                    forget_token(notice="registered")
                    ui.navigate.to("/login")

                ui.button(t("auth.create_account"), on_click=create).classes("w-full").mark(
                    "create-account"
                )
            ui.link(t("auth.have_account"), "/login")
