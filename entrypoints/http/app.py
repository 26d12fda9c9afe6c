"""The Litestar application factory: the HTTP API served under /api.

`create_app` builds an app whose routes are relative (`/health`, `/predictions`, ...) and
which expects to be mounted at `/api` (the ASGI `root_path`), as NiceGUI/Starlette's
`Mount("/api", app)` does. `create_api_asgi` wraps it for the API-only server, so the public
URLs are `/api/...` in both modes and one OpenAPI document (servers: `/api`) fits both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.types import ASGIApp

from application.commands import SweepImages, Upload
from entrypoints.container import Container, init_resources, shutdown, use_case_providers
from entrypoints.http import docs
from entrypoints.http.auth import current_user, require_user
from entrypoints.http.errors import EXCEPTION_HANDLERS, STATUS_BY_KIND
from entrypoints.http.headers import security_headers
from entrypoints.http.limits import body_limits
from entrypoints.http.logs import RequestLog, configure_logging
from entrypoints.http.metrics import RequestMetrics, metrics_handler
from entrypoints.http.routes import (
    account,
    admin,
    outcomes,
    pacs,
    predictions,
    reports,
    studies,
    system,
)
from entrypoints.http.uploads import UploadBudget, read_uploads
from entrypoints.settings import API_PREFIX, Settings

RawReceive = Callable[[], Awaitable[dict[str, Any]]]
RawSend = Callable[[dict[str, Any]], Awaitable[None]]
JSON_BODY_LIMIT = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024
SWEEP_EVERY_S = 3600.0


def _package_version() -> str:
    try:
        return version("breastscan")
    except PackageNotFoundError:
        return "0.0.0"


def _provide(provider: Callable[[], object]) -> Provide:
    return Provide(lambda: provider(), sync_to_thread=False)


async def _sweep_now_and_then(container: Container, every_s: float = SWEEP_EVERY_S) -> None:
    """Delete image files left by failed commits, every hour (each process; it is idempotent)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            deleted = await container.sweep_images()(SweepImages())
        except Exception:  # an outage: try again next time
            logging.getLogger("breastscan.maintenance").warning("image sweep failed", exc_info=True)
            continue
        if deleted:
            logging.getLogger("breastscan.maintenance").info("swept %d image file(s)", deleted)


def _upload_reader(settings: Settings) -> Callable[..., AsyncIterator[tuple[Upload, ...]]]:
    """Litestar dependency `uploads`: the files of a multipart body, within one byte budget
    per process for the whole request (one full batch: further uploads wait their turn, up
    to 30 s, then get 503 with Retry-After)."""
    budget = UploadBudget(capacity=settings.max_request_bytes)

    async def read(request: Request[Any, Any, Any]) -> AsyncIterator[tuple[Upload, ...]]:
        async for uploads in read_uploads(request, settings.max_files_per_request, budget):
            yield uploads

    return read


def create_app(
    container: Container,
    *,
    fail_fast: bool = True,
    extra_route_handlers: Sequence[Any] = (),
    extra_middleware: Sequence[Any] = (),
    debug: bool = False,
) -> Litestar:
    """The API app for `container`; mount it at /api (or serve it with `create_api_asgi`).

    `fail_fast` (the default) makes start-up fail when the model cannot be loaded; without
    it the app starts and /api/ready answers 503 naming the missing model.
    """
    settings = container.settings()
    dependencies = {name: _provide(p) for name, p in use_case_providers(container).items()}
    dependencies |= {
        "settings": Provide(lambda: settings, sync_to_thread=False),
        "user": Provide(current_user),
        "filters": Provide(predictions.prediction_filters, sync_to_thread=False),
        "uploads": Provide(_upload_reader(settings)),
    }

    sweeper: list[asyncio.Task[None]] = []

    async def on_startup() -> None:
        await init_resources(container, load_model=fail_fast)
        sweeper.append(asyncio.create_task(_sweep_now_and_then(container), name="sweep-images"))

    async def on_shutdown() -> None:
        for task in sweeper:
            task.cancel()
        await shutdown(container)

    cors = (
        CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
        if settings.cors_origins
        else None
    )
    # Protected routes pass the bearer guard before their body is read. Body limits: 1 MiB
    # for JSON, one image for /predict, a full batch for /predictions.
    guard = require_user(container.resolve_current_user)
    uploads = predictions.upload_handlers(
        one_image=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        batch=settings.max_request_bytes,
    )
    protected = Router(
        "/",
        guards=[guard],
        route_handlers=[
            *account.PROTECTED,
            *uploads,
            *predictions.HANDLERS,
            *outcomes.HANDLERS,
            *studies.upload_handlers(batch=settings.max_request_bytes),
            *studies.HANDLERS,
            *reports.HANDLERS,
            *admin.HANDLERS,
            *system.PROTECTED,
            *pacs.HANDLERS,
        ],
    )
    app = Litestar(
        route_handlers=[
            *account.PUBLIC,
            *system.PUBLIC,
            protected,
            docs.static_router(),
            *extra_route_handlers,
        ],
        dependencies=dependencies,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[security_headers, body_limits(JSON_BODY_LIMIT), *extra_middleware],
        openapi_config=docs.openapi_config(API_PREFIX, _package_version(), STATUS_BY_KIND),
        request_max_body_size=JSON_BODY_LIMIT,
        multipart_form_part_limit=settings.max_files_per_request + 10,
        cors_config=cors,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        # Unexpected errors are logged once, by errors.handle_unexpected; expected ones
        # (domain errors, 4xx) are not errors of the server and are not logged as such.
        logging_config=LoggingConfig(log_exceptions="debug"),
        debug=debug,
    )
    _observe(app, container)
    docs.document_errors(app.openapi_schema)
    return app


def _observe(app: Litestar, container: Container) -> None:
    """JSON logs for the process, the metrics route, and the request log and metrics layers
    (the log outermost, so every line written while handling a request carries its id)."""
    settings = container.settings()
    configure_logging(settings.log_level)
    app.register(metrics_handler(container.metrics(), settings.metrics_token))
    quiet = frozenset(f"{API_PREFIX}{path}" for path in ("/health", "/ready", "/metrics"))
    app.asgi_handler = observed(app.asgi_handler, container, quiet)


def observed(handler: ASGIApp, container: Container, quiet_routes: frozenset[str]) -> ASGIApp:
    """`handler` inside the request metrics and, outermost, the request log (one JSON line
    per request, probes on `quiet_routes` at DEBUG): the API's layers, the /v2 app's too."""
    tokens = container.tokens()

    def user_of(token: str) -> str | None:
        try:
            return str(tokens.decode(token).user_id)
        except Exception:
            return None

    login = f"{API_PREFIX}/auth/login"
    counted = RequestMetrics(handler, container.metrics(), login_route=login)
    return RequestLog(counted, user_of, quiet_routes=quiet_routes)


def create_api_asgi(app: ASGIApp, prefix: str = API_PREFIX) -> ASGIApp:
    """Serve `app` at `prefix` on its own (API-only mode): like Starlette's Mount, the prefix
    becomes the ASGI root_path; anything outside it is a JSON 404."""
    not_found = b'{"status_code":404,"error":"not_found","detail":"The API lives under /api."}'

    async def mounted(scope: dict[str, Any], receive: RawReceive, send: RawSend) -> None:
        if scope["type"] == "lifespan":
            await app(scope, receive, send)  # type: ignore[arg-type]
            return
        path: str = scope["path"]
        if path == prefix or path.startswith(prefix + "/"):
            scope = {**scope, "root_path": scope.get("root_path", "") + prefix}
            await app(scope, receive, send)  # type: ignore[arg-type]
            return
        if scope["type"] == "http":
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(not_found)).encode()),
            ]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": not_found})

    return mounted  # type: ignore[return-value]
