"""Regression tests for the requests an attack run answered with 500 (issue 9, items 1-8).

Each gives a clear 4xx with the documented error body now. The PostgreSQL-only ones (NUL
bytes, refused connections) run against PostgreSQL in tests/e2e/http/test_outage.py and the
schemathesis run; the rule they hit is checked here on SQLite, where it applies the same.
"""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from tests.e2e.http.conftest import JWT_SECRET, Account, Api, ApiFactory
from tests.e2e.http.images import bright

pytestmark = [pytest.mark.e2e]


def _multipart(parts: list[bytes], boundary: str = "XyZ") -> tuple[bytes, dict[str, str]]:
    body = b"".join(b"--%s\r\n%s\r\n" % (boundary.encode(), part) for part in parts)
    body += b"--%s--\r\n" % boundary.encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize(
    "disposition",
    [b'form-data; name="file"; filename=""', b"form-data; name=\"file\"; filename*=utf-8''"],
    ids=["empty-filename", "only-filename-star"],
)
@pytest.mark.parametrize("path", ["/api/predict", "/api/predictions"])
async def test_1_a_part_without_filename_is_taken_as_a_file(
    api: Api, alice: Account, disposition: bytes, path: str
) -> None:
    image = bright()
    part = b"Content-Disposition: %s\r\nContent-Type: image/png\r\n\r\n%s" % (disposition, image)
    body, headers = _multipart([part])
    r = await api.client.post(path, content=body, headers={**alice.headers, **headers})
    assert r.status_code in (200, 201), r.text
    non_utf8 = b'Content-Disposition: form-data; name="file"; filename=""\r\n\r\n\xff\xfe\x00'
    body, headers = _multipart([non_utf8])
    r = await api.client.post(path, content=body, headers={**alice.headers, **headers})
    assert r.status_code == 415, r.text


async def test_1_a_text_field_of_binary_bytes_is_skipped_not_decoded(
    api: Api, alice: Account
) -> None:
    field = b'Content-Disposition: form-data; name="note"\r\n\r\n\xff\xfe'
    image = b'Content-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n' + bright()
    body, headers = _multipart([field, image])
    r = await api.client.post("/api/predict", content=body, headers={**alice.headers, **headers})
    assert r.status_code == 200, r.text
    body, headers = _multipart([field])
    r = await api.client.post("/api/predict", content=body, headers={**alice.headers, **headers})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "one_image_expected"


@pytest.mark.parametrize("path", ["/api/predictions", "/api/admin/users"])
async def test_2_offsets_beyond_the_database_are_refused(
    api: Api, admin: Account, path: str
) -> None:
    for offset in ("9223372036854775808", str(2**31)):
        r = await api.client.get(path, params={"offset": offset}, headers=admin.headers)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "bad_request"
    r = await api.client.get(path, params={"offset": str(2**31 - 1)}, headers=admin.headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "query",
    [
        {"to": "9999-12-31"},
        {"from": "0001-01-01T00:00:00+14:00"},
        {"to": "9999-12-31T23:59:59-14:00"},
    ],
)
@pytest.mark.parametrize("path", ["/api/predictions", "/api/predictions/export.csv", "/api/stats"])
async def test_3_dates_at_the_edge_of_the_calendar_are_422(
    api: Api, alice: Account, query: dict[str, str], path: str
) -> None:
    r = await api.client.get(path, params=query, headers=alice.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "date_invalid"


async def test_4_deeply_nested_json_is_refused_before_parsing(api: Api) -> None:
    r = await api.client.post(
        "/api/auth/login", content=b"[" * 100_000, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request"
    r = await api.client.post("/api/auth/login", content=b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413, r.text


@pytest.mark.parametrize("bad", ["a\x00b", "a\x01b", "a\u202eb", "a\u200bb"])
async def test_5_control_characters_in_text_are_422(api: Api, alice: Account, bad: str) -> None:
    r = await api.client.post(
        "/api/auth/register",
        json={"email": f"x{bad}@example.org", "password": "correct horse battery staple"},
    )
    assert r.status_code == 422, r.text
    r = await api.client.post(
        "/api/auth/register",
        json={
            "email": "named@example.org",
            "password": "correct horse battery staple",
            "display_name": f"Dr {bad}",
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "text_invalid_characters"
    for path in ("/api/predictions", "/api/predictions/export.csv", "/api/stats"):
        r = await api.client.get(path, params={"q": bad}, headers=alice.headers)
        assert r.status_code == 422, r.text
        assert r.json()["params"] == {"field": "q"}
    r = await api.client.post(
        "/api/auth/login", json={"email": f"x{bad}@example.org", "password": "whatever-123"}
    )
    assert r.status_code == 401, r.text


async def test_5_a_review_note_with_nul_is_422_and_newlines_are_kept(
    api: Api, alice: Account
) -> None:
    r = await api.client.post(
        "/api/predictions",
        files=[("file", ("a.png", bright(), "image/png"))],
        headers=alice.headers,
    )
    prediction = r.json()["results"][0]["prediction"]["id"]
    path = f"/api/predictions/{prediction}/review"
    bad = {"verdict": "agree", "note": "a\x00b"}
    r = await api.client.patch(path, json=bad, headers=alice.headers)
    assert r.status_code == 422, r.text
    good = {"verdict": "agree", "note": "line one\nline two"}
    r = await api.client.patch(path, json=good, headers=alice.headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("exp", [10**30, 1e308, 253402300800])
async def test_7_a_signed_token_with_an_absurd_expiry_is_401(
    api: Api, alice: Account, exp: float
) -> None:
    now = int(time.time())
    claims = {
        "iss": "breastscan",
        "aud": "breastscan-api",
        "sub": alice.id,
        "iat": now,
        "exp": exp,
        "jti": "j",
        "ver": 0,
    }
    token = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    r = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "not_authenticated"


async def test_8_too_many_files_fields_or_a_huge_filename(make_api: ApiFactory) -> None:
    async with make_api(max_files_per_request=3) as small:
        account = await small.account()
        image = bright()
        many = [("file", (f"{i}.png", image, "image/png")) for i in range(50)]
        r = await small.client.post("/api/predictions", files=many, headers=account.headers)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "too_many_images"
        assert r.json()["params"] == {"count": 3}
        fields = b"".join(
            b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i
            for i in range(1000)
        )
        r = await small.client.post(
            "/api/predictions",
            content=fields + b"--B--\r\n",
            headers={**account.headers, "content-type": "multipart/form-data; boundary=B"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "too_many_images"
        long_name = [("file", ("n" * 5000 + ".png", image, "image/png"))]
        r = await small.client.post("/api/predictions", files=long_name, headers=account.headers)
        assert r.status_code == 413, r.text
        assert r.json()["error"] == "request_too_large"


async def test_images_left_by_failed_commits_are_swept(api: Api, alice: Account) -> None:
    """A failed commit (an outage between writing the image and committing) leaves the
    file; `breastscan maintenance sweep-images` (and the server, hourly) removes it."""
    import hashlib

    from application.commands import SweepImages

    r = await api.client.post(
        "/api/predictions",
        files=[("file", ("a.png", bright(), "image/png"))],
        headers=alice.headers,
    )
    kept = r.json()["results"][0]["prediction"]["image_sha256"]
    store = api.container.image_store()
    orphans = [b"left by a failed commit %d" % i for i in range(3)]
    for data in orphans:
        await store.put(hashlib.sha256(data).hexdigest(), data)
    await asyncio.sleep(0.01)
    deleted = await api.container.sweep_images()(SweepImages(grace_seconds=0))
    assert deleted >= len(orphans)  # the shared app may hold others' orphans too
    for data in orphans:
        assert not await store.exists(hashlib.sha256(data).hexdigest())
    assert await store.exists(kept)
    recent = b"written a moment ago"
    await store.put(hashlib.sha256(recent).hexdigest(), recent)
    assert await api.container.sweep_images()(SweepImages(grace_seconds=3600)) == 0


async def test_upload_bytes_in_flight_are_capped_per_process() -> None:
    from litestar.exceptions import ServiceUnavailableException

    from entrypoints.http.uploads import UploadBudget

    budget = UploadBudget(capacity=10, wait_s=0.05)
    async with budget.reserve(8):
        with pytest.raises(ServiceUnavailableException) as refused:
            async with budget.reserve(8):
                pass
        assert refused.value.headers == {"Retry-After": "5"}
        async with budget.reserve(2):  # what still fits goes ahead
            assert budget.in_use == 10
    waiting = asyncio.create_task(_hold(budget, 8))
    async with budget.reserve(8):
        await asyncio.sleep(0.01)
    await waiting  # got its turn once the first was done
    assert budget.in_use == 0


async def _hold(budget: object, size: int) -> None:
    await asyncio.sleep(0)
    async with budget.reserve(size):  # type: ignore[attr-defined]
        pass
