"""Accounts and tokens: register, sign in, me, sign out, and every way a token can be bad."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import build_container
from entrypoints.http import create_app
from tests.e2e.http.conftest import JWT_SECRET, PASSWORD, Account, Api, ApiFactory

pytestmark = [pytest.mark.e2e]


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.org"


def _claims(account: Account, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "breastscan",
        "aud": "breastscan-api",
        "sub": account.id,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "ver": 0,
    }
    claims.update(changes)
    return claims


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _assert_401(api: Api, headers: dict[str, str]) -> None:
    r = await api.client.get("/api/auth/me", headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"] == "not_authenticated"


async def test_register_login_and_me(api: Api) -> None:
    email = _email()
    r = await api.client.post(
        "/api/auth/register",
        json={"email": f"  {email.upper()} ", "password": PASSWORD, "display_name": "Dr Who"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "accepted"
    assert PASSWORD not in r.text
    assert "hash" not in r.text

    r = await api.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 30 * 60
    assert body["expires_at"].endswith(("Z", "+00:00"))

    r = await api.client.get("/api/auth/me", headers=_bearer(body["access_token"]))
    assert r.status_code == 200
    assert r.json()["email"] == email
    assert r.json()["role"] == "clinician"
    assert r.json()["display_name"] == "Dr Who"


async def test_register_answers_a_taken_email_like_a_new_one(api: Api) -> None:
    email = _email()
    ok = await api.client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert ok.status_code == 202
    other = "another long passphrase here"
    dup = await api.client.post("/api/auth/register", json={"email": email, "password": other})
    assert (dup.status_code, dup.json()) == (ok.status_code, ok.json())
    # the existing account is untouched: its own password still works, the new one does not
    r = await api.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200
    r = await api.client.post("/api/auth/login", json={"email": email, "password": other})
    assert r.status_code == 401


@pytest.mark.parametrize("weak", ["        ", "Password1!", "password123", "Qwerty12345"])
async def test_register_refuses_guessable_passwords(api: Api, weak: str) -> None:
    r = await api.client.post("/api/auth/register", json={"email": _email(), "password": weak})
    assert r.status_code == 422, r.text
    assert r.json()["code"] in {"password_too_weak", "password_too_common"}


async def test_change_password_revokes_earlier_tokens(api: Api) -> None:
    account = await api.account()
    path = "/api/auth/password"
    wrong = {"current_password": "not it at all", "new_password": "violet lantern under rain"}
    r = await api.client.post(path, json=wrong, headers=account.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "password_current_wrong"
    change = {"current_password": PASSWORD, "new_password": "violet lantern under rain"}
    r = await api.client.post(path, json=change, headers=account.headers)
    assert r.status_code == 200, r.text
    fresh = _bearer(r.json()["access_token"])
    assert (await api.client.get("/api/auth/me", headers=account.headers)).status_code == 401
    assert (await api.client.get("/api/auth/me", headers=fresh)).status_code == 200
    login = {"email": account.email, "password": change["new_password"]}
    assert (await api.client.post("/api/auth/login", json=login)).status_code == 200


async def test_register_refuses_weak_passwords_and_bad_emails(api: Api) -> None:
    weak = await api.client.post(
        "/api/auth/register", json={"email": _email(), "password": "short"}
    )
    assert weak.status_code == 422
    assert "at least 8" in weak.json()["detail"]
    common = await api.client.post(
        "/api/auth/register", json={"email": _email(), "password": "password123"}
    )
    assert common.status_code == 422
    bad = await api.client.post("/api/auth/register", json={"email": "nope", "password": PASSWORD})
    assert bad.status_code == 422


async def test_malformed_bodies_are_400_with_a_json_error(api: Api) -> None:
    r = await api.client.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request"
    r = await api.client.post("/api/auth/login", json={"email": "a@example.org"})
    assert r.status_code == 400
    r = await api.client.post(
        "/api/auth/register", json={"email": _email(), "password": PASSWORD, "role": "admin"}
    )
    assert r.status_code == 400, "unknown fields (such as a self-granted role) are refused"


async def test_wrong_password_and_unknown_email_look_the_same(api: Api, alice: Account) -> None:
    wrong = await api.client.post(
        "/api/auth/login", json={"email": alice.email, "password": "not the password"}
    )
    unknown = await api.client.post(
        "/api/auth/login", json={"email": _email(), "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_every_protected_endpoint_needs_a_token(api: Api) -> None:
    some_id = uuid.uuid4()
    for method, path in [
        ("GET", "/api/auth/me"),
        ("POST", "/api/auth/logout"),
        ("POST", "/api/predict"),
        ("POST", "/api/predictions"),
        ("GET", "/api/predictions"),
        ("GET", "/api/predictions/export.csv"),
        ("GET", f"/api/predictions/{some_id}"),
        ("GET", f"/api/predictions/{some_id}/image"),
        ("GET", f"/api/predictions/{some_id}/heatmap"),
        ("PATCH", f"/api/predictions/{some_id}/review"),
        ("DELETE", f"/api/predictions/{some_id}"),
        ("GET", "/api/stats"),
        ("GET", "/api/model"),
        ("GET", "/api/admin/users"),
        ("PATCH", f"/api/admin/users/{some_id}"),
        ("GET", "/api/admin/audit"),
    ]:
        r = await api.client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["www-authenticate"].startswith("Bearer")


async def test_logout_invalidates_the_token(api: Api) -> None:
    account = await api.account()
    assert (await api.client.get("/api/auth/me", headers=account.headers)).status_code == 200
    r = await api.client.post("/api/auth/logout", headers=account.headers)
    assert r.status_code == 204
    await _assert_401(api, account.headers)
    again = await api.client.post(
        "/api/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert again.status_code == 200


async def test_expired_token_is_refused(api: Api, alice: Account) -> None:
    past = int(time.time()) - 3600
    token = jwt.encode(_claims(alice, iat=past - 600, exp=past), JWT_SECRET, algorithm="HS256")
    await _assert_401(api, _bearer(token))


async def test_token_signed_with_another_key_is_refused(api: Api, alice: Account) -> None:
    token = jwt.encode(_claims(alice), "another-secret-" + "y" * 48, algorithm="HS256")
    await _assert_401(api, _bearer(token))


async def test_alg_none_token_is_refused(api: Api, alice: Account) -> None:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims(alice))}."
    await _assert_401(api, _bearer(unsigned))


async def test_tampered_claims_wrong_audience_and_garbage_are_refused(
    api: Api, alice: Account
) -> None:
    header, _, signature = alice.token.split(".")
    forged_body = base64.urlsafe_b64encode(
        json.dumps(_claims(alice, sub=str(uuid.uuid4()))).encode()
    ).rstrip(b"=")
    await _assert_401(api, _bearer(f"{header}.{forged_body.decode()}.{signature}"))
    other_audience = jwt.encode(_claims(alice, aud="someone-else"), JWT_SECRET, algorithm="HS256")
    await _assert_401(api, _bearer(other_audience))
    await _assert_401(api, _bearer("garbage"))
    await _assert_401(api, {"Authorization": f"Basic {alice.token}"})


async def test_a_correctly_signed_token_is_accepted(api: Api, alice: Account) -> None:
    """Control for the refusals above: the same claims, properly signed, work."""
    token = jwt.encode(_claims(alice), JWT_SECRET, algorithm="HS256")
    r = await api.client.get("/api/auth/me", headers=_bearer(token))
    assert r.status_code == 200


async def test_repeated_failures_are_throttled_with_retry_after(make_api: ApiFactory) -> None:
    async with make_api() as fresh:
        account = await fresh.account()
        wrong = {"email": account.email, "password": "wrong password!"}
        statuses = [
            (await fresh.client.post("/api/auth/login", json=wrong)).status_code for _ in range(5)
        ]
        assert statuses == [401] * 5
        r = await fresh.client.post(
            "/api/auth/login", json={"email": account.email, "password": PASSWORD}
        )
        assert r.status_code == 429, "locked even with the right password"
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["error"] == "too_many_attempts"
        assert r.json()["retry_after"] >= 1


async def test_replicas_over_one_database_share_the_sign_in_budget(
    make_api: ApiFactory,
) -> None:
    """A second API process over the same database sees the first one's failures (and, with a
    stronger Argon2 profile, upgrades the stored hash on sign-in)."""
    async with make_api() as first:
        account = await first.account()
        async with first.container.uow() as uow:
            before = await uow.users.get_by_email(account.email)
        settings = dataclasses.replace(first.settings, argon2_time_cost=2)
        app = create_app(build_container(settings))
        async with AsyncTestClient(app, root_path="/api", raise_server_exceptions=False) as second:
            right = {"email": account.email, "password": PASSWORD}
            r = await second.post("/api/auth/login", json=right)
            assert r.status_code == 200, r.text
            async with first.container.uow() as uow:
                after = await uow.users.get_by_email(account.email)
            assert before is not None
            assert after is not None
            assert after.password_hash != before.password_hash, "rehashed on the second replica"

            wrong = {"email": account.email, "password": "wrong password!"}
            replicas = [first.client, second, first.client, second, first.client]
            statuses = [(await c.post("/api/auth/login", json=wrong)).status_code for c in replicas]
            assert statuses == [401] * 5
            for client in (first.client, second):
                r = await client.post("/api/auth/login", json=right)
                assert r.status_code == 429, "the budget is shared, not per replica"


async def test_registration_can_be_closed(make_api: ApiFactory) -> None:
    async with make_api(registration_open=False) as closed:
        r = await closed.client.post(
            "/api/auth/register", json={"email": _email(), "password": PASSWORD}
        )
        assert r.status_code == 403
        admin = await closed.account(admin=True)
        r = await closed.client.post(
            "/api/admin/users",
            json={"email": _email(), "password": PASSWORD},
            headers=admin.headers,
        )
        assert r.status_code == 201
        assert r.json()["role"] == "clinician"
