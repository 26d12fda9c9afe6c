"""Prometheus metrics of the HTTP API: per-request counts and latency, and the scrape route.

`GET /api/metrics` (Prometheus text format) is protected by a bearer token, the setting
`metrics_token` (BREASTSCAN_METRICS_TOKEN); when it is unset the route answers 404, so a
deployment exposes nothing unless it chooses to. The registry is the container's `metrics`
singleton (multiprocess-safe: see adapters/metrics.py).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.auth import bearer_is
from entrypoints.http.logs import route_of

EXPOSITION_MEDIA_TYPE = "text/plain; version=0.0.4"


class HttpMetrics(Protocol):
    """What the HTTP layer reports to and scrapes from (the container's `metrics`)."""

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None: ...
    def refused_sign_in(self, reason: str) -> None: ...
    def exposition(self) -> bytes: ...


def metrics_handler(metrics: HttpMetrics, token: str | None) -> Any:
    @get("/metrics", include_in_schema=False, sync_to_thread=True, cache_control=None)
    def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Prometheus scrape; needs `Authorization: Bearer $BREASTSCAN_METRICS_TOKEN`."""
        if token is None:
            raise NotFoundException("Metrics are disabled (set BREASTSCAN_METRICS_TOKEN).")
        if not bearer_is(request, token):
            raise NotAuthorizedException(
                "Send the metrics token as a bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        # The classic text format every Prometheus understands; Litestar adds the charset.
        return Response(metrics.exposition(), media_type=EXPOSITION_MEDIA_TYPE)

    return scrape


class RequestMetrics:
    """ASGI layer counting requests by method, route template and status, with latency, and
    refused sign-ins on `login_route` by reason."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, login_route: str) -> None:
        self._app = app
        self._metrics = metrics
        self._login_route = login_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_counted)
        finally:
            self._count(scope, status, time.perf_counter() - started)

    def _count(self, scope: Scope, status: int, elapsed: float) -> None:
        method, route = str(scope.get("method", "")), route_of(scope)
        self._metrics.observe_request(method, route, status, elapsed)
        if route == self._login_route and method == "POST" and status in (401, 429):
            self._metrics.refused_sign_in("throttled" if status == 429 else "invalid_credentials")
