"""Sign in, create account, wrong password, throttling, sign out, expired session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nicegui import ui
from nicegui.testing import User

from application.commands import Logout
from domain.users import Role
from tests.e2e.web.conftest import PASSWORD, FakeCore, sign_in


async def settled(user: User) -> None:
    """Wait until the previous sign-in attempt has finished (it clears the password)."""
    for _ in range(50):
        if not user.find(kind=ui.input, marker="password").elements.pop().value:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("sign-in attempt did not finish")


async def test_pages_need_a_session(user: User) -> None:
    await user.open("/history")
    await user.should_see(marker="sign-in")
    await user.should_see("Decision aid — not a diagnosis")


async def test_create_account_then_sign_in_and_out(user: User, core: FakeCore) -> None:
    await user.open("/register")
    user.find(marker="display-name").type("Dr Ada")
    user.find(marker="email").type("ada@example.org")
    user.find(marker="password").type(PASSWORD)
    user.find(marker="create-account").click()
    await user.should_see(
        "If this email can be used, its account is ready: sign in with the password you chose."
    )
    assert any(u.email == "ada@example.org" for u in core.db.users.values())

    await sign_in(user, "ada@example.org")
    await user.should_see("Analyze ultrasound images")
    await user.should_see("Dr Ada")
    await user.should_see("Clinician")
    await user.should_see("Decision aid — not a diagnosis")

    user.find(marker="sign-out").click()
    await user.should_see("You are signed out.")
    await user.open("/")
    await user.should_see(marker="sign-in")


async def test_weak_password_is_refused_with_the_reason(user: User, core: FakeCore) -> None:
    await user.open("/register")
    await user.should_see("Password: at least 8 characters, not a common password")  # before
    user.find(marker="email").type("bob@example.org")
    user.find(marker="password").type("short")
    user.find(marker="create-account").click()
    field = user.find(kind=ui.input, marker="password").elements.pop()
    await until(lambda: field.error == "Password must be at least 8 characters.")
    assert user.find(kind=ui.input, marker="email").elements.pop().error is None
    assert not core.db.users

    user.find(marker="email").clear().type("not an email")
    user.find(marker="password").clear().type("violet lantern under rain")
    user.find(marker="create-account").click()
    email = user.find(kind=ui.input, marker="email").elements.pop()
    await until(lambda: email.error == "Enter a valid email address.")
    assert field.error is None


async def test_wrong_password_then_throttled_with_retry_time(user: User, core: FakeCore) -> None:
    await core.account("cy@example.org")
    await user.open("/login")
    user.find(marker="email").type("cy@example.org")
    user.find(marker="password").type("not the password")
    user.find(marker="sign-in").click()
    await user.should_see("Wrong email or password.")
    for _ in range(3):
        await settled(user)
        user.find(marker="password").type("still wrong")
        user.find(marker="sign-in").click()
    await user.should_see("Too many failed sign-ins. Try again in 900 seconds.")


async def test_expired_session_sends_back_to_sign_in_with_a_notice(
    user: User, core: FakeCore
) -> None:
    await core.account("dee@example.org", Role.CLINICIAN)
    await sign_in(user, "dee@example.org")
    await user.should_see("Analyze ultrasound images")
    core.clock.advance(minutes=31)
    await user.open("/history")
    await user.should_see("You were signed out because your session expired.")
    await user.should_see(marker="sign-in")


async def test_an_action_after_the_session_was_revoked_asks_to_sign_in_again(
    user: User, core: FakeCore
) -> None:
    me = await core.account("eve@example.org")
    stored = await core.stored(me, "case.png", level=200)
    await sign_in(user, me.email)
    await user.should_see("Analyze ultrasound images")
    await user.open(f"/analysis/{stored.id}")
    await user.should_see("Analysis of case.png")

    await core.logout()(Logout(actor=me))  # e.g. signed out from another browser
    user.find(kind=ui.radio, marker="verdict").elements.pop().value = "agree"
    user.find(marker="save-review").click()
    await user.should_see("You were signed out because your session expired.", retries=20)
    assert core.db.predictions[stored.id].review is None


async def test_change_password_page_needs_the_current_one(user: User, core: FakeCore) -> None:
    account = await core.account("eve@example.org")
    await sign_in(user, "eve@example.org")
    await user.should_see("Analyze ultrasound images")
    user.find(marker="nav-password").click()
    await user.should_see("Change your password")
    user.find(marker="password-current").type("not the password")
    user.find(marker="password-new").type("violet lantern under rain")
    user.find(marker="password-again").type("violet lantern under rain")
    user.find(marker="change-password").click()
    current = user.find(kind=ui.input, marker="password-current").elements.pop()
    await until(lambda: current.error == "The current password is not correct.")
    user.find(marker="password-current").clear().type(PASSWORD)
    user.find(marker="change-password").click()
    await user.should_see("Password changed; other sessions are signed out.")
    stored = core.db.users[account.id]
    assert await core.hasher.verify(stored.password_hash, "violet lantern under rain")
    assert stored.token_version == account.token_version + 1
    await user.open("/history")  # the page's own session carries the new token
    await user.should_see(marker="nav-history")


async def until(check: Callable[[], bool]) -> None:
    """Wait for a background handler's effect on the page."""
    for _ in range(100):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


async def test_the_language_choice_is_remembered(user: User, core: FakeCore) -> None:
    await core.account("lu@example.org")
    await sign_in(user, "lu@example.org")
    await user.should_see("Analyze ultrasound images")
    user.find(marker="language").elements.pop().value = "fr"
    await user.should_see("Analyser des images échographiques", retries=20)
    await user.open("/history")
    await user.should_see("Historique")
    user.find(marker="sign-out").click()
    await user.should_see("Vous êtes déconnecté", retries=20)
    await sign_in(user, "lu@example.org")
    await user.should_see("Analyser des images échographiques")
