"""The one-process server's plumbing: the API lifespan task and the upload size guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar, get

from entrypoints.web.server import LifespanTask, UploadSizeLimit, storage_secret

pytestmark = [pytest.mark.e2e]


async def test_api_lifespan_enters_and_exits_in_one_task() -> None:
    seen: list[tuple[str, asyncio.Task[Any] | None]] = []

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        seen.append(("enter", asyncio.current_task()))
        yield
        seen.append(("exit", asyncio.current_task()))

    @get("/ping", sync_to_thread=False)
    def ping() -> str:
        return "pong"

    task = LifespanTask(Litestar([ping], lifespan=[lifespan]))
    await task.start()
    assert [name for name, _ in seen] == ["enter"]
    await task.stop()
    assert [name for name, _ in seen] == ["enter", "exit"]
    assert seen[0][1] is seen[1][1]
    assert seen[0][1] is not asyncio.current_task()


async def test_a_failing_api_start_up_stops_the_server() -> None:
    def explode() -> None:
        raise RuntimeError("no database")

    task = LifespanTask(Litestar([], on_startup=[explode]))
    with pytest.raises(RuntimeError, match="no database"):
        await task.start()


async def echo_size(scope: Any, receive: Any, send: Any) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize(
    ("path", "size", "status"),
    [
        ("/_nicegui/client/abc/upload/7", 100, 200),
        ("/_nicegui/client/abc/upload/7", 101, 413),
        ("/api/predictions", 5000, 200),
    ],
)
async def test_upload_routes_refuse_bodies_over_the_limit(
    path: str, size: int, status: int
) -> None:
    guarded = UploadSizeLimit(echo_size, max_bytes=100)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(guarded), base_url="http://test"
    ) as client:
        response = await client.post(path, content=b"x" * size)
    assert response.status_code == status


async def test_streamed_upload_without_length_is_cut_off() -> None:
    guarded = UploadSizeLimit(echo_size, max_bytes=100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 50

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(guarded), base_url="http://test"
    ) as client:
        response = await client.post("/_nicegui/client/a/upload/1", content=chunks())
    assert response.status_code == 413


def test_session_secret_is_created_once_and_kept(tmp_path: Any) -> None:
    first = storage_secret(tmp_path / "data")
    assert len(first) >= 48
    assert storage_secret(tmp_path / "data") == first
    assert (tmp_path / "data" / "ui-session-secret").stat().st_mode & 0o077 == 0


async def test_ui_cookies_are_secure_over_https_only() -> None:
    from entrypoints.web.security import UiSecurityHeaders

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"set-cookie", b"session=abc; path=/; HttpOnly"), (b"server", b"uvicorn")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    for scheme, secure in (("https", True), ("http", False)):
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any], into: list[dict[str, Any]] = sent) -> None:
            into.append(message)

        await UiSecurityHeaders(app)({"type": "http", "scheme": scheme}, None, send)
        headers = dict(sent[0]["headers"])
        assert headers[b"set-cookie"].endswith(b"; Secure") is secure
        assert b"server" not in headers
        assert b"frame-ancestors 'none'" in headers[b"content-security-policy"]
