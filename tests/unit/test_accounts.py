"""Registration, sign-in, throttling, token resolution and logout on fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.commands import (
    Authenticate,
    ChangePassword,
    Logout,
    RegisterUser,
    ResolveCurrentUser,
)
from application.use_cases import RegisterUserUseCase
from domain.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    TooManyAttempts,
)
from domain.users import Role
from tests.fakes import FakePasswordHasher, FakePasswordStrength
from tests.unit.conftest import PASSWORD, App

pytestmark = pytest.mark.unit


# --- RegisterUser -------------------------------------------------------------------------


async def test_register_normalises_email_hashes_password_and_audits(app: App) -> None:
    user = await app.register(
        RegisterUser(email="  Dr.Who@Clinic.ORG ", password=PASSWORD, display_name=" Dr  Who ")
    )
    assert user.email == "dr.who@clinic.org"
    assert user.role is Role.CLINICIAN
    assert user.is_active
    assert user.display_name == "Dr Who"
    assert PASSWORD not in user.password_hash
    assert await app.hasher.verify(user.password_hash, PASSWORD)
    assert app.db.users[user.id] == user
    [entry] = app.db.audit
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "user.registered",
        str(user.id),
        user.id,
    )


async def test_self_registration_of_a_taken_email_changes_nothing_and_says_nothing(
    app: App,
) -> None:
    first = await app.register(RegisterUser(email="a@example.org", password=PASSWORD))
    again = await app.register(RegisterUser(email="A@EXAMPLE.org", password=PASSWORD + "!"))
    assert again is None
    assert list(app.db.users.values()) == [first]
    assert app.db.audit[-1].action == "user.registration_refused"
    admin = await app.register(
        RegisterUser(email="boss@example.org", password=PASSWORD, role=Role.ADMIN, trusted=True)
    )
    with pytest.raises(Conflict):  # administrators and the CLI are told
        await app.register(RegisterUser(email="a@example.org", password=PASSWORD, actor=admin))
    with pytest.raises(Conflict):
        await app.register(RegisterUser(email="a@example.org", password=PASSWORD, trusted=True))


@pytest.mark.parametrize("weak", ["        ", "Password1!", "aaaaaaaaaaaa", "dr.martin-2024"])
async def test_guessable_passwords_are_refused(app: App, weak: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        await app.register(RegisterUser(email="dr.martin@example.org", password=weak))
    assert raised.value.code in {ErrorCode.PASSWORD_TOO_WEAK, ErrorCode.PASSWORD_TOO_COMMON}


async def test_change_password_needs_the_current_one_and_revokes_every_token(app: App) -> None:
    user = await app.register(RegisterUser(email="c@example.org", password=PASSWORD))
    assert user is not None
    old = await app.authenticate(Authenticate(email="c@example.org", password=PASSWORD))
    with pytest.raises(InvalidInput) as raised:
        await app.change_password(
            ChangePassword(actor=user, current_password="wrong one", new_password="x" * 20)
        )
    assert raised.value.code is ErrorCode.PASSWORD_CURRENT_WRONG
    with pytest.raises(InvalidInput):
        await app.change_password(
            ChangePassword(actor=user, current_password=PASSWORD, new_password="Password1!")
        )
    new_password = "violet lantern under rain"
    session = await app.change_password(
        ChangePassword(actor=user, current_password=PASSWORD, new_password=new_password)
    )
    with pytest.raises(NotAuthenticated):
        await app.resolve(ResolveCurrentUser(token=old.token.token))
    assert (await app.resolve(ResolveCurrentUser(token=session.token.token))).id == user.id
    await app.authenticate(Authenticate(email="c@example.org", password=new_password))
    with pytest.raises(InvalidCredentials):
        await app.authenticate(Authenticate(email="c@example.org", password=PASSWORD))


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("not-an-email", PASSWORD),
        ("a@example.org", "short"),
        ("a@example.org", "Password1"),  # on the common list
        ("a@example.org", "x" * 129),
        ("longname@example.org", "LongName@Example.org"),  # the email itself
    ],
)
async def test_register_refuses_bad_email_or_weak_password(
    app: App, email: str, password: str
) -> None:
    with pytest.raises(InvalidInput):
        await app.register(RegisterUser(email=email, password=password))
    assert app.db.users == {}
    assert app.db.audit == []


async def test_clinicians_cannot_create_accounts_for_others(app: App) -> None:
    clinician = await app.user()
    with pytest.raises(Forbidden):
        await app.register(RegisterUser(email="x@example.org", password=PASSWORD, actor=clinician))
    assert len(app.db.users) == 1


async def test_only_admins_or_trusted_cli_create_admins(app: App) -> None:
    clinician = await app.user()
    with pytest.raises(Forbidden):
        await app.register(RegisterUser(email="x@example.org", password=PASSWORD, role=Role.ADMIN))
    with pytest.raises(Forbidden):
        await app.register(
            RegisterUser(email="x@example.org", password=PASSWORD, role=Role.ADMIN, actor=clinician)
        )
    first = await app.register(
        RegisterUser(email="root@example.org", password=PASSWORD, role=Role.ADMIN, trusted=True)
    )
    second = await app.register(
        RegisterUser(email="x@example.org", password=PASSWORD, role=Role.ADMIN, actor=first)
    )
    assert first.is_admin
    assert second.is_admin
    assert app.db.audit[-1].actor_id == first.id


# --- Authenticate -------------------------------------------------------------------------


async def test_login_issues_token_that_resolves_to_user(app: App) -> None:
    user = await app.user("a@example.org")
    session = await app.authenticate(
        Authenticate(email=" A@Example.org", password=PASSWORD, client="10.0.0.1")
    )
    assert session.user.id == user.id
    assert session.token.expires_at > app.clock.now()
    assert await app.resolve(ResolveCurrentUser(token=session.token.token)) == user
    [entry] = app.db.audit
    assert (entry.action, entry.actor_id, entry.client) == ("login.success", user.id, "10.0.0.1")


async def test_wrong_password_and_unknown_email_fail_alike_and_are_audited(app: App) -> None:
    await app.user("a@example.org")
    with pytest.raises(InvalidCredentials) as wrong:
        await app.authenticate(Authenticate(email="a@example.org", password="nope-nope-nope"))
    with pytest.raises(InvalidCredentials) as unknown:
        await app.authenticate(Authenticate(email="b@example.org", password="nope-nope-nope"))
    assert wrong.value.message == unknown.value.message
    # Failures are committed although the use case raised.
    assert app.actions() == ["login.failure", "login.failure"]
    assert "reason=wrong password" in app.db.audit[0].detail
    assert "reason=unknown email" in app.db.audit[1].detail
    assert all(PASSWORD not in e.detail and "nope" not in e.detail for e in app.db.audit)


async def test_unknown_email_still_runs_a_hash_verification(app: App) -> None:
    await app.user("a@example.org")
    before = app.hasher.verifications
    with pytest.raises(InvalidCredentials):
        await app.authenticate(Authenticate(email="ghost@example.org", password=PASSWORD))
    with pytest.raises(InvalidCredentials):
        await app.authenticate(Authenticate(email="not an email", password=PASSWORD))
    assert app.hasher.verifications == before + 2


async def test_inactive_user_is_refused_with_the_same_message(app: App) -> None:
    user = await app.user("a@example.org")
    app.db.users[user.id] = user.deactivated()
    with pytest.raises(InvalidCredentials, match="Email or password is incorrect"):
        await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    assert "inactive" in app.db.audit[-1].detail


async def test_login_rehashes_when_parameters_changed(app: App) -> None:
    user = await app.user("a@example.org")
    app.hasher.rounds = 5
    assert app.hasher.needs_rehash(user.password_hash)
    session = await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    stored = app.db.users[user.id]
    assert stored.password_hash != user.password_hash
    assert not app.hasher.needs_rehash(stored.password_hash)
    assert session.user.password_hash == stored.password_hash
    await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    assert app.db.users[user.id].password_hash == stored.password_hash


async def test_five_failures_lock_the_account_even_for_the_right_password(app: App) -> None:
    await app.user("a@example.org")
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await app.authenticate(Authenticate(email="a@example.org", password="wrong-guess"))
    with pytest.raises(TooManyAttempts) as locked:
        await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    assert locked.value.retry_after > 0
    assert "locked out" in app.db.audit[-1].detail
    app.clock.advance(seconds=locked.value.retry_after)
    session = await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    assert session.user.email == "a@example.org"


async def test_unknown_emails_are_throttled_like_known_ones(app: App) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await app.authenticate(Authenticate(email="ghost@example.org", password="guess-123"))
    with pytest.raises(TooManyAttempts):
        await app.authenticate(Authenticate(email="ghost@example.org", password="guess-123"))


async def test_one_client_guessing_many_accounts_is_locked(app: App) -> None:
    await app.user("victim@example.org")
    for i in range(20):
        with pytest.raises(InvalidCredentials):
            await app.authenticate(
                Authenticate(email=f"u{i}@example.org", password="guess-123", client="6.6.6.6")
            )
    with pytest.raises(TooManyAttempts):
        await app.authenticate(
            Authenticate(email="victim@example.org", password=PASSWORD, client="6.6.6.6")
        )
    # The account itself is not locked for someone else.
    await app.authenticate(
        Authenticate(email="victim@example.org", password=PASSWORD, client="10.0.0.2")
    )


# --- ResolveCurrentUser and Logout --------------------------------------------------------


async def test_token_expires(app: App) -> None:
    await app.user("a@example.org")
    session = await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    app.clock.advance(timedelta(minutes=29))
    await app.resolve(ResolveCurrentUser(token=session.token.token))
    app.clock.advance(timedelta(minutes=1))
    with pytest.raises(NotAuthenticated):
        await app.resolve(ResolveCurrentUser(token=session.token.token))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c.d.e"])
async def test_malformed_token_is_refused(app: App, token: str) -> None:
    with pytest.raises(NotAuthenticated):
        await app.resolve(ResolveCurrentUser(token=token))


async def test_tampered_token_is_refused(app: App) -> None:
    user = await app.user("a@example.org")
    token = app.tokens.issue(user).token
    body, _, signature = token.rpartition(".")
    forged = body.replace(".0.", ".7.", 1) + "." + signature
    with pytest.raises(NotAuthenticated):
        await app.resolve(ResolveCurrentUser(token=forged))


async def test_token_of_deleted_user_is_refused(app: App) -> None:
    user = await app.user("a@example.org")
    token = app.tokens.issue(user).token
    del app.db.users[user.id]
    with pytest.raises(NotAuthenticated):
        await app.resolve(ResolveCurrentUser(token=token))


async def test_logout_invalidates_every_issued_token(app: App) -> None:
    await app.user("a@example.org")
    first = await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    second = await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    user = await app.resolve(ResolveCurrentUser(token=first.token.token))
    await app.logout(Logout(actor=user))
    for session in (first, second):
        with pytest.raises(NotAuthenticated):
            await app.resolve(ResolveCurrentUser(token=session.token.token))
    assert app.actions()[-1] == "logout"
    fresh = await app.authenticate(Authenticate(email="a@example.org", password=PASSWORD))
    assert (await app.resolve(ResolveCurrentUser(token=fresh.token.token))).id == user.id


async def test_fake_hasher_is_one_way_and_salted() -> None:
    hasher = FakePasswordHasher()
    a, b = await hasher.hash(PASSWORD), await hasher.hash(PASSWORD)
    assert a != b
    assert PASSWORD not in a
    assert await hasher.verify(a, PASSWORD)
    assert not await hasher.verify(a, PASSWORD + "x")


async def test_closed_registration_refuses_strangers_but_not_admins_or_the_cli(app: App) -> None:
    closed = RegisterUserUseCase(
        app.uow,
        app.hasher,
        app.clock,
        frozenset(),
        FakePasswordStrength(),
        registration_open=False,
    )
    with pytest.raises(Forbidden, match="closed"):
        await closed(RegisterUser(email="walk-in@clinic.org", password=PASSWORD))
    admin = await closed(
        RegisterUser(email="root@clinic.org", password=PASSWORD, role=Role.ADMIN, trusted=True)
    )
    colleague = await closed(
        RegisterUser(email="invited@clinic.org", password=PASSWORD, actor=admin)
    )
    assert colleague.role is Role.CLINICIAN
