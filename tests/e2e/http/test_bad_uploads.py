"""Hostile and broken uploads: each gets the right status and a JSON error, never a 500."""

from __future__ import annotations

import pytest

from tests import images
from tests.e2e.http.conftest import Account, Api, ApiFactory
from tests.e2e.http.images import bright

pytestmark = [pytest.mark.e2e]

CASES = [
    ("truncated.png", images.truncated_png, 422, "invalid_image"),
    ("empty.png", lambda: b"", 415, "unsupported_image_format"),
    ("notes.png", images.text_renamed_png, 415, "unsupported_image_format"),
    ("bomb.png", images.png_bomb, 413, "image_too_large"),
    (
        "huge-header.jpg",
        lambda: images.jpeg_header_claiming(30_000, 30_000),
        413,
        "image_too_large",
    ),
]


@pytest.mark.parametrize(("name", "make", "status", "code"), CASES, ids=[c[0] for c in CASES])
async def test_predict_refuses_bad_images(
    api: Api, alice: Account, name: str, make, status: int, code: str
) -> None:
    r = await api.client.post(
        "/api/predict", files=[("file", (name, make(), "image/png"))], headers=alice.headers
    )
    assert r.status_code == status, r.text
    assert r.json()["error"] == code
    assert r.json()["detail"]


@pytest.mark.parametrize(("name", "make", "status", "code"), CASES, ids=[c[0] for c in CASES])
async def test_store_refuses_bad_images_and_stores_nothing(
    api: Api, name: str, make, status: int, code: str
) -> None:
    owner = await api.account()
    r = await api.client.post(
        "/api/predictions", files=[("file", (name, make(), "image/png"))], headers=owner.headers
    )
    assert r.status_code == status, r.text
    assert r.json()["results"][0]["error"]["error"] == code
    listed = await api.client.get("/api/predictions", headers=owner.headers)
    assert listed.json()["total"] == 0


async def test_oversize_bodies_are_413_before_any_decoding(make_api: ApiFactory) -> None:
    async with make_api(max_upload_bytes=100_000, max_files_per_request=2) as small:
        account = await small.account()
        big = b"\x89PNG\r\n\x1a\n" + b"\0" * 300_000
        for path in ("/api/predict", "/api/predictions"):
            r = await small.client.post(
                path, files=[("file", ("big.png", big, "image/png"))], headers=account.headers
            )
            assert r.status_code == 413, (path, r.text)
            assert r.json()["error"] == "request_too_large"
        # Under the body limit but over the per-file limit: the decoder refuses it.
        r = await small.client.post(
            "/api/predictions",
            files=[("file", ("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 120_000, "image/png"))],
            headers=account.headers,
        )
        assert r.status_code == 413
        assert r.json()["results"][0]["error"]["error"] == "image_too_large"
        json_bomb = await small.client.post(
            "/api/auth/login",
            content=b'{"email": "' + b"a" * 2_000_000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert json_bomb.status_code == 413


async def test_too_many_files_in_one_request(make_api: ApiFactory) -> None:
    async with make_api(max_files_per_request=2) as small:
        account = await small.account()
        r = await small.client.post(
            "/api/predictions",
            files=[("file", (f"{i}.png", bright(), "image/png")) for i in range(3)],
            headers=account.headers,
        )
        assert r.status_code in (400, 413, 422)
        assert "error" in r.json()


async def test_anonymous_uploads_are_refused_before_the_body_is_read(api: Api) -> None:
    r = await api.client.post(
        "/api/predictions", files=[("file", ("a.png", bright(), "image/png"))]
    )
    assert r.status_code == 401
