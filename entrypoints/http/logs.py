"""JSON logs for the whole process, request ids, and one log line per API request.

Every log line is one JSON object on stdout (level from BREASTSCAN_LOG_LEVEL); uvicorn's and
Litestar's own console output goes through the same handler, and uvicorn's plain-text access
lines are off: the request line comes from RequestLog. Passwords, tokens and image bytes are
never logged: nothing from request bodies or headers is written except X-Request-ID, and a
filter masks anything token-shaped that reaches a message or traceback. A caller's
well-formed X-Request-ID is kept, otherwise one is generated; it is returned on the response
and attached to every log line written while handling it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_JSON_HANDLER_NAME = "breastscan-json"
UNMATCHED = "unmatched"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "breastscan_request_id", default=None
)
access_logger = logging.getLogger("breastscan.access")

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


def route_of(scope: Scope) -> str:
    template = scope.get("path_template")  # set by Litestar's router once a route matched
    if not template:
        return UNMATCHED
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


class RequestLog:
    """Outermost ASGI layer of the API: the request id, and one log line per request.

    Probes and scrapes (`quiet_routes`) arrive every few seconds: they are logged at DEBUG
    unless they fail. `user_of` names the account behind a bearer token, or None."""

    def __init__(
        self,
        app: ASGIApp,
        user_of: Callable[[str], str | None],
        quiet_routes: frozenset[str] = frozenset(),
    ) -> None:
        self._app = app
        self._user_of = user_of
        self._quiet = quiet_routes

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
            self._log(scope, status, time.perf_counter() - started, request_id)
            request_id_var.reset(reset)

    def _log(self, scope: Scope, status: int, elapsed: float, request_id: str) -> None:
        route = route_of(scope)
        level = logging.DEBUG if route in self._quiet and status < 400 else logging.INFO
        if not access_logger.isEnabledFor(level):
            return
        token = _bearer(scope)
        access_logger.log(
            level,
            "request",
            extra={
                "method": scope.get("method", ""),
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "request_id": request_id,
                "user_id": None if token is None or status == 401 else self._user_of(token),
                "client": _client(scope),
            },
        )
