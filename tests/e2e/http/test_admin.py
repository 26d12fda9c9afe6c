"""Administration: users (role, deactivation) and the audit log; clinicians are refused."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.e2e.http.conftest import PASSWORD, Account, Api
from tests.e2e.http.images import bright

pytestmark = [pytest.mark.e2e]


async def test_clinicians_are_refused_every_admin_endpoint(api: Api, alice: Account) -> None:
    for method, path, body in [
        ("GET", "/api/admin/users", None),
        ("POST", "/api/admin/users", {"email": "x@example.org", "password": PASSWORD}),
        ("PATCH", f"/api/admin/users/{alice.id}", {"role": "admin"}),
        ("GET", "/api/admin/audit", None),
    ]:
        r = await api.client.request(method, path, json=body, headers=alice.headers)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"] == "forbidden"
    me = await api.client.get("/api/auth/me", headers=alice.headers)
    assert me.json()["role"] == "clinician"


async def test_admin_lists_users_with_paging(api: Api, admin: Account, alice: Account) -> None:
    r = await api.client.get("/api/admin/users?limit=200", headers=admin.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 2
    emails = [u["email"] for u in body["items"]]
    assert alice.email in emails
    assert admin.email in emails
    assert all("password" not in key for u in body["items"] for key in u)
    one = await api.client.get("/api/admin/users?limit=1&offset=1", headers=admin.headers)
    assert len(one.json()["items"]) == 1


async def test_deactivation_ends_the_session_and_blocks_sign_in(api: Api, admin: Account) -> None:
    victim = await api.account()
    r = await api.client.patch(
        f"/api/admin/users/{victim.id}", json={"is_active": False}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    assert (await api.client.get("/api/auth/me", headers=victim.headers)).status_code == 401
    login = await api.client.post(
        "/api/auth/login", json={"email": victim.email, "password": PASSWORD}
    )
    assert login.status_code == 401
    back = await api.client.patch(
        f"/api/admin/users/{victim.id}", json={"is_active": True}, headers=admin.headers
    )
    assert back.json()["is_active"] is True
    login = await api.client.post(
        "/api/auth/login", json={"email": victim.email, "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_promotion_to_admin_takes_effect_with_a_new_token(api: Api, admin: Account) -> None:
    clinician = await api.account()
    r = await api.client.patch(
        f"/api/admin/users/{clinician.id}", json={"role": "admin"}, headers=admin.headers
    )
    assert r.status_code == 200
    assert r.json()["role"] == "admin"
    # A role change invalidates the old token; a new sign-in carries the new role.
    assert (await api.client.get("/api/auth/me", headers=clinician.headers)).status_code == 401
    again = await api.client.post(
        "/api/auth/login", json={"email": clinician.email, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert (await api.client.get("/api/admin/users", headers=headers)).status_code == 200


async def test_patch_validation_and_unknown_user(api: Api, admin: Account) -> None:
    empty = await api.client.patch(f"/api/admin/users/{admin.id}", json={}, headers=admin.headers)
    assert empty.status_code == 422
    bad_role = await api.client.patch(
        f"/api/admin/users/{admin.id}", json={"role": "superuser"}, headers=admin.headers
    )
    assert bad_role.status_code == 400
    unknown = await api.client.patch(
        f"/api/admin/users/{uuid4()}", json={"is_active": False}, headers=admin.headers
    )
    assert unknown.status_code == 404


async def test_admin_creates_an_administrator(api: Api, admin: Account) -> None:
    email = f"new-admin-{uuid4().hex[:8]}@example.org"
    r = await api.client.post(
        "/api/admin/users?role=admin",
        json={"email": email, "password": PASSWORD},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "admin"


async def test_audit_log_records_who_did_what(api: Api, admin: Account) -> None:
    clinician = await api.account()
    stored = await api.client.post(
        "/api/predictions",
        files=[("file", ("audit.png", bright(), "image/png"))],
        headers=clinician.headers,
    )
    pid = stored.json()["results"][0]["prediction"]["id"]
    await api.client.delete(f"/api/predictions/{pid}", headers=clinician.headers)

    r = await api.client.get(
        f"/api/admin/audit?actor_id={clinician.id}&limit=200", headers=admin.headers
    )
    assert r.status_code == 200, r.text
    entries = r.json()["items"]
    actions = [e["action"] for e in entries]
    assert any(a.startswith("login") for a in actions)
    assert any("created" in a for a in actions)
    assert any("deleted" in a for a in actions)
    assert all(e["actor_id"] == clinician.id for e in entries)
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True), "newest first"
    text = r.text
    assert PASSWORD not in text
    assert clinician.token not in text

    deleted = next(a for a in actions if "deleted" in a)
    only_deletes = await api.client.get(
        f"/api/admin/audit?actor_id={clinician.id}&action={deleted}", headers=admin.headers
    )
    assert {e["action"] for e in only_deletes.json()["items"]} == {deleted}
    future = await api.client.get("/api/admin/audit?from=2999-01-01", headers=admin.headers)
    assert future.json()["items"] == []
