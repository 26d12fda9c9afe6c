"""The one page frame: header (navigation, user, role, language, sign-out) and the notice,
and the one guard of signed-in pages (`signed_in_page`)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from nicegui import ui
from starlette.responses import RedirectResponse

from application.commands import Logout, ResolveCurrentUser
from domain.errors import NotAuthenticated
from domain.users import User
from entrypoints.web.deps import Web
from entrypoints.web.errors import reported
from entrypoints.web.i18n import LANGUAGES
from entrypoints.web.state import (
    client_address,
    forget_token,
    language,
    set_language,
    t,
    token,
)

NAVIGATION = (
    ("analyze", "/"),
    ("studies", "/studies"),
    ("history", "/history"),
    ("dashboard", "/dashboard"),
    ("model", "/model"),
)


async def signed_in_user(web: Web) -> User | None:
    """The user behind the stored token, or None (a stale token is dropped with a notice)."""
    stored = token()
    if stored is None:
        return None
    try:
        user: User = await web.core.resolve_current_user()(
            ResolveCurrentUser(token=stored, client=client_address())
        )
    except NotAuthenticated:
        forget_token(notice="expired")
        return None
    return user


async def actor(web: Web) -> User:
    """Re-check the session before every action, so revocation takes effect at once."""
    stored = token()
    if stored is None:
        raise NotAuthenticated("Signed out.")
    user: User = await web.core.resolve_current_user()(
        ResolveCurrentUser(token=stored, client=client_address())
    )
    return user


def to_sign_in() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


PageBody = Callable[..., Awaitable[None]]


def signed_in_page(web: Web, path: str, active: str) -> Callable[[PageBody], PageBody]:
    """Register `body(user, **path_params)` as the page at `path`, for signed-in readers only.

    Everyone else is sent to sign in (a stale token is dropped, with a notice). The body is
    drawn inside the frame, with `active` the highlighted navigation entry.
    """

    def register(body: PageBody) -> PageBody:
        async def page(**params: Any) -> RedirectResponse | None:
            user = await signed_in_user(web)
            if user is None:
                return to_sign_in()
            with frame(web, user, active):
                await body(user, **params)
            return None

        # NiceGUI reads the page's path parameters from its signature: the body's, less `user`.
        parameters = list(inspect.signature(body).parameters.values())[1:]
        page.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            parameters, return_annotation=RedirectResponse | None
        )
        ui.page(path)(page)
        return body

    return register


def _language_switch() -> None:
    def switch(code: str) -> None:
        set_language(code)
        ui.navigate.reload()

    ui.toggle(
        {code: code.upper() for code in LANGUAGES},
        value=language(),
        on_change=lambda e: switch(e.value),
    ).props(
        "dense unelevated color=primary text-color=white toggle-color=white "
        "toggle-text-color=primary "
        f'aria-label="{t("header.language")}"'
    ).mark("language")


def decision_aid_notice() -> None:
    with (
        ui.row()
        .classes("w-full items-center gap-2 px-4 py-1 bg-amber-2 text-black")
        .props('role="note"')
    ):
        ui.icon("info", size="sm").props('aria-hidden="true"')
        ui.label(t("app.notice")).classes("text-sm font-medium").mark("notice")


@contextmanager
def public_frame() -> Iterator[None]:
    """Frame for pages seen before signing in."""
    ui.page_title(t("app.title"))
    with ui.header(elevated=True).classes("p-0 column bg-primary"):
        with ui.row().classes("w-full items-center px-4 py-2"):
            ui.label(t("app.title")).classes("text-h6")
            ui.space()
            _language_switch()
        decision_aid_notice()
    with ui.column().classes("w-full max-w-md mx-auto p-4 gap-4"):
        yield


@contextmanager
def frame(web: Web, user: User, active: str) -> Iterator[None]:
    """Frame for signed-in pages; `active` names the highlighted navigation entry."""

    async def sign_out() -> None:
        with reported():
            await web.core.logout()(Logout(actor=await actor(web), client=client_address()))
        forget_token(notice="signed_out")
        ui.navigate.to("/login")

    ui.page_title(f"{t('nav.' + active)} · {t('app.title')}")
    # One line down to 768 px: compact entries, the user's name from 1024 px, sign-out as an
    # icon below that; a narrower window scrolls the line rather than wrapping it.
    with ui.header(elevated=True).classes("p-0 column bg-primary"):
        with (
            ui.row()
            .classes("w-full items-center px-2 py-1 gap-1 no-wrap overflow-x-auto")
            .mark("header-bar")
        ):
            ui.label(t("app.title")).classes("text-h6 q-mr-sm no-wrap")
            entries = [*NAVIGATION, *((("admin", "/admin"),) if user.is_admin else ())]
            for key, path in entries:
                button = ui.button(t("nav." + key), on_click=lambda p=path: ui.navigate.to(p))
                button.props('flat no-caps no-wrap dense padding="xs sm" text-color=white').mark(
                    f"nav-{key}"
                )
                if key == active:
                    button.classes("bg-white/20").props('aria-current="page"')
            ui.space()
            with ui.column().classes("gap-0 items-end gt-sm"):
                ui.label(user.display_name or user.email).classes("text-sm no-wrap").mark(
                    "user-name"
                )
                ui.label(t("role." + user.role.value)).classes("text-xs opacity-80").mark(
                    "user-role"
                )
            _language_switch()
            ui.button(icon="key", on_click=lambda: ui.navigate.to("/password")).props(
                f'flat round dense text-color=white aria-label="{t("nav.password")}"'
            ).tooltip(t("nav.password")).mark("nav-password")
            sign_out_words = t("header.sign_out")
            with (
                ui.button(icon="logout", on_click=sign_out)
                .props(f'flat dense no-caps no-wrap text-color=white aria-label="{sign_out_words}"')
                .mark("sign-out")
            ):
                ui.label(sign_out_words).classes("gt-sm q-ml-xs")
        decision_aid_notice()
    with ui.column().classes("w-full max-w-6xl mx-auto p-4 gap-4"):
        yield
