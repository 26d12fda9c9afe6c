"""One process: NiceGUI serves the UI at `/`, the Litestar API is mounted at `/api`.

Mounted apps' lifespans do not run by themselves, so Litestar's lifespan (which opens and
closes the container's resources) is driven through the ASGI lifespan protocol inside one task
started on NiceGUI's startup and ended on its shutdown: entering and leaving it in different
tasks crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

from nicegui import app, ui
from nicegui.storage import Storage

from entrypoints.container import Container
from entrypoints.http.routes.inference_protocol import InferenceRoute
from entrypoints.settings import API_PREFIX, Settings
from entrypoints.web.app import register_ui
from entrypoints.web.deps import WebOptions
from entrypoints.web.security import UiSecurityHeaders

Message = dict[str, Any]
ASGIApp = Any

MODEL_CARD_NAME = "MODEL_CARD.md"
UPLOAD_OVERHEAD = 1024 * 1024  # multipart framing, and room for the page's readable refusal


class LifespanTask:
    """Runs an ASGI app's lifespan (startup ... shutdown) inside one dedicated task."""

    def __init__(self, asgi_app: ASGIApp) -> None:
        self._app = asgi_app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.create_task(
            self._app(scope, self._inbox.get, self._outbox.put), name="api-lifespan"
        )
        await self._inbox.put({"type": "lifespan.startup"})
        reply = await self._reply()
        if reply.get("type") != "lifespan.startup.complete":
            raise RuntimeError(f"API start-up failed: {reply.get('message', reply)}")

    async def stop(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reply(), timeout=10)
            await asyncio.wait_for(self._task, timeout=10)

    async def _reply(self) -> Message:
        assert self._task is not None
        getter = asyncio.ensure_future(self._outbox.get())
        done, _ = await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        error = self._task.exception()
        raise RuntimeError(f"API lifespan ended unexpectedly: {error!r}")


class UploadSizeLimit:
    """Refuse oversized bodies on NiceGUI's upload routes before they are spooled to disk.

    `ui.upload(max_file_size=...)` is only checked in the browser; the Analyze page also
    checks each file's size, with a readable message, once it has arrived. This guard stops
    a client that ignores both from streaming gigabytes at the server.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (
            path.startswith("/_nicegui/client/") and "/upload/" in path
        ):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message: Message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise ValueError("upload body over the limit")
            return message

        try:
            await self.app(scope, counted, send)
        except ValueError:
            if seen <= self.max_bytes:
                raise
            await self._refuse(send)

    @staticmethod
    async def _refuse(send: Any) -> None:
        body = b"Upload too large"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"16")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def storage_secret(data_dir: Path) -> str:
    """The key signing NiceGUI's session cookie: generated once, kept in the data directory."""
    path = data_dir / "ui-session-secret"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value


def web_options(settings: Settings) -> WebOptions:
    card = settings.model_path.with_name(MODEL_CARD_NAME)
    return WebOptions(
        registration_open=settings.registration_open,
        model_card=card if card.is_file() else None,
    )


def build_server(
    settings: Settings, container: Container, api: ASGIApp | None, inference: ASGIApp | None = None
) -> None:
    """Register the pages, mount the API at /api, route /v2 to the inference protocol's app
    (outermost) and tie the API's lifespan to NiceGUI's."""
    Storage.path = (settings.data_dir / "ui-storage").resolve()
    app.storage = Storage()  # re-created so its files live in the data directory
    register_ui(container, web_options(settings))
    app.add_middleware(UploadSizeLimit, max_bytes=settings.max_upload_bytes + UPLOAD_OVERHEAD)
    app.add_middleware(UiSecurityHeaders)
    if inference is not None:
        app.add_middleware(InferenceRoute, inference=inference)
    if api is None:
        return
    app.mount(API_PREFIX, api)
    lifespan = LifespanTask(api)
    app.on_startup(lifespan.start)
    app.on_shutdown(lifespan.stop)


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run UI and API in this process (a single worker: NiceGUI keeps state per process)."""
    from entrypoints.container import build_container
    from entrypoints.http import create_app, create_inference_app

    container = build_container(settings)
    build_server(settings, container, create_app(container), create_inference_app(container))
    ui.run(
        host=host or settings.host,
        port=port or settings.port,
        title="Breastscan",
        storage_secret=storage_secret(settings.data_dir),
        reload=False,
        show=False,
        show_welcome_message=False,
        uvicorn_logging_level=settings.log_level,
        favicon="🩺",
        endpoint_documentation="none",
        log_config=None,  # one log format: JSON lines (entrypoints/http/logs.py), no access log
        access_log=False,
        server_header=False,
        **settings.proxy_options,
    )
