"""Observability for the HTTP API: Prometheus metrics, JSON request logs, request ids.

`instrument(app, container)` is the one call the app factory makes. It adds:

- `GET /api/metrics` (Prometheus text format). Protected by a bearer token, the setting
  `metrics_token` (`BREASTSCAN_METRICS_TOKEN`); when it is unset the endpoint answers 404, so a
  deployment exposes nothing unless it chooses to. Multiprocess-safe: with several worker
  processes set `PROMETHEUS_MULTIPROC_DIR` to an empty directory before the server starts
  (the container image does) and every scrape reports the sum over all workers.
- One JSON log line per API request (method, route template, status, duration_ms,
  request_id, user_id, client) on stdout; every other log line of the process is JSON too.
  Level from `BREASTSCAN_LOG_LEVEL`. Passwords, tokens and image bytes are never logged:
  nothing from request bodies or headers is written except X-Request-ID, and a filter masks
  anything token-shaped that reaches a message or traceback.
- `X-Request-ID`: a caller's well-formed id is kept, otherwise one is generated; it is
  returned on the response and attached to every log line written while handling it.
- A TumorClassifier decorator, installed through the container, that measures inference
  latency and batch size, counts predictions by label and publishes the model version.
"""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from dependency_injector import providers
from litestar import Litestar, Request, Response, get
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.ports import Classification, DecodedImage, ModelInfo, TumorClassifier
from domain.predictions import Assessment
from entrypoints.container import Container
from entrypoints.settings import PREFIX

METRICS_TOKEN_ENV = PREFIX + "METRICS_TOKEN"
REQUEST_ID_HEADER = "x-request-id"
EXPOSITION_MEDIA_TYPE = "text/plain; version=0.0.4"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes arrive every few seconds: logged at DEBUG so they do not drown the rest.
_QUIET_ROUTES = frozenset({"/api/health", "/api/ready", "/api/metrics"})
_LOGIN_ROUTE = "/api/auth/login"
_UNMATCHED = "unmatched"
_JSON_HANDLER_NAME = "breastscan-json"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "breastscan_request_id", default=None
)
access_logger = logging.getLogger("breastscan.access")


# --- metrics --------------------------------------------------------------------------------


class Metrics:
    """The service's Prometheus metrics, created once per process."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client.process_collector import ProcessCollector

        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        if self.multiprocess_dir:
            os.makedirs(self.multiprocess_dir, exist_ok=True)
            # Values live in files shared by the workers; a scrape aggregates them.
            self.registry: CollectorRegistry | None = None
        else:
            self.registry = CollectorRegistry()
            ProcessCollector(registry=self.registry)
        registry = self.registry
        self.requests = Counter(
            "breastscan_http_requests",
            "HTTP API requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "breastscan_http_request_duration_seconds",
            "HTTP API request latency by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.inference_seconds = Histogram(
            "breastscan_inference_duration_seconds",
            "Time of one classifier call (a batch of images).",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.inference_batch = Histogram(
            "breastscan_inference_batch_size",
            "Images per classifier call.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=registry,
        )
        self.inference_errors = Counter(
            "breastscan_inference_errors",
            "Classifier calls that raised.",
            registry=registry,
        )
        self.predictions = Counter(
            "breastscan_predictions",
            "Images classified, by the label the model's threshold gives.",
            ["label"],
            registry=registry,
        )
        self.login_failures = Counter(
            "breastscan_login_failures",
            "Refused sign-ins: wrong credentials or throttled.",
            ["reason"],
            registry=registry,
        )
        # An "info" metric as a gauge: prometheus-client's Info does not work multiprocess.
        self.model_info = Gauge(
            "breastscan_model_info",
            "The loaded model (always 1; the labels carry the facts).",
            ["version", "threshold", "providers"],
            multiprocess_mode="max",
            registry=registry,
        )

    def exposition(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


_metrics: Metrics | None = None


def metrics() -> Metrics:
    """This process's metrics (created on first use, after PROMETHEUS_MULTIPROC_DIR is read)."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics


class InstrumentedTumorClassifier:
    """TumorClassifier decorator: inference latency, batch size, labels and model version."""

    def __init__(self, inner: TumorClassifier, sink: Metrics) -> None:
        self._inner = inner
        self._metrics = sink
        info = inner.model
        sink.model_info.labels(
            version=info.version,
            threshold=f"{info.threshold:g}",
            providers=",".join(info.providers),
        ).set(1)

    @property
    def model(self) -> ModelInfo:
        return self._inner.model

    async def classify(self, images: Sequence[DecodedImage]) -> list[Classification]:
        started = time.perf_counter()
        try:
            results = await self._inner.classify(images)
        except Exception:
            self._metrics.inference_errors.inc()
            raise
        self._metrics.inference_seconds.observe(time.perf_counter() - started)
        self._metrics.inference_batch.observe(len(images))
        info = self._inner.model
        for result in results:
            label = Assessment(result.p_malignant, info.threshold, info.version).label
            self._metrics.predictions.labels(label=label.value).inc()
        return results


def instrument_classifier(container: Container, sink: Metrics) -> None:
    """Make the container hand out the classifier wrapped in InstrumentedTumorClassifier.

    Whatever the provider currently yields (the ONNX adapter, or a test's override) is what
    gets wrapped; doing this twice on one container is a no-op.
    """
    provider = container.classifier
    if any(
        getattr(p, "provides", None) is InstrumentedTumorClassifier for p in provider.overridden
    ):
        return
    inner = provider.last_overriding or providers.Singleton(
        provider.provides, *provider.args, **provider.kwargs
    )
    provider.override(providers.Singleton(InstrumentedTumorClassifier, inner, sink))


def metrics_handler(sink: Metrics, token: str | None) -> Any:
    @get("/metrics", include_in_schema=False, sync_to_thread=True, cache_control=None)
    def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Prometheus scrape; needs `Authorization: Bearer $BREASTSCAN_METRICS_TOKEN`."""
        if token is None:
            raise NotFoundException("Metrics are disabled (set BREASTSCAN_METRICS_TOKEN).")
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            sent.strip().encode(), token.encode()
        ):
            raise NotAuthorizedException(
                "Send the metrics token as a bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        # The classic text format every Prometheus understands; Litestar adds the charset.
        return Response(sink.exposition(), media_type=EXPOSITION_MEDIA_TYPE)

    return scrape


# --- logs -----------------------------------------------------------------------------------

# Token-shaped strings masked wherever they appear: JWTs, bearer credentials, password fields.
_REDACTIONS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(\"?password\"?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|\S+)"), r"\1[redacted]"),
)
_REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "user_id", "client")


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for name in _REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StdoutHandler(logging.Handler):
    """Writes to the given stream, else to whatever sys.stdout is at the time of writing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            out = self.stream or sys.stdout
            out.write(line + "\n")
            out.flush()
        except Exception:
            self.handleError(record)


def configure_logging(level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """JSON lines on stdout for the whole process, replacing every other console handler
    (basicConfig's, Litestar's root queue handler); pytest's capture handlers stay."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _JSON_HANDLER_NAME), None)
    if handler is None:
        handler = _StdoutHandler(stream)
        handler.set_name(_JSON_HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    elif isinstance(handler, _StdoutHandler) and stream is not None:
        handler.stream = stream
    for other in list(root.handlers):
        if other is not handler and not type(other).__module__.startswith("_pytest"):
            root.removeHandler(other)
    root.setLevel(level.upper())
    # uvicorn's and Litestar's own console handlers would print plain text: route them
    # through the root handler. The access line comes from this module, not from uvicorn.
    for name in ("uvicorn", "uvicorn.error", "litestar"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
    return handler


# --- the request wrapper ---------------------------------------------------------------------


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _route(scope: Scope) -> str:
    template = scope.get("path_template")  # set by Litestar's router once a route matched
    if not template:
        return _UNMATCHED
    return (scope.get("root_path") or "") + template


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


class RequestObserver:
    """Outermost ASGI layer of the API: request id, one log line and metrics per request."""

    def __init__(self, app: ASGIApp, sink: Metrics, container: Container) -> None:
        self._app = app
        self._metrics = sink
        self._container = container

    def _user_id(self, scope: Scope, status: int) -> str | None:
        token = _bearer(scope)
        if token is None or status == 401:
            return None
        try:
            return str(self._container.tokens().decode(token).user_id)
        except Exception:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        request_id = _request_id(scope)
        reset = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, status, elapsed, request_id)
            request_id_var.reset(reset)

    def _record(self, scope: Scope, status: int, elapsed: float, request_id: str) -> None:
        method = scope.get("method", "")
        route = _route(scope)
        self._metrics.requests.labels(method=method, route=route, status=str(status)).inc()
        self._metrics.request_seconds.labels(method=method, route=route).observe(elapsed)
        if route == _LOGIN_ROUTE and method == "POST" and status in (401, 429):
            reason = "throttled" if status == 429 else "invalid_credentials"
            self._metrics.login_failures.labels(reason=reason).inc()
        level = logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO
        if access_logger.isEnabledFor(level):
            access_logger.log(
                level,
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "request_id": request_id,
                    "user_id": self._user_id(scope, status),
                    "client": _client(scope),
                },
            )


def instrument(app: Litestar, container: Container) -> None:
    """Add metrics, request ids and JSON request logs to an API app built for `container`."""
    settings = container.settings()
    configure_logging(settings.log_level)
    sink = metrics()
    instrument_classifier(container, sink)
    app.register(metrics_handler(sink, settings.metrics_token))
    app.asgi_handler = RequestObserver(app.asgi_handler, sink, container)
