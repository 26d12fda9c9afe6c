"""Bodies that are not uploads are read whole (at most 1 MiB) and their JSON nesting is capped
before any parser sees them: 100,000 nested `[` must not reach a recursive decoder."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from entrypoints.http.errors import ErrorBody

MAX_JSON_DEPTH = 32
_TOKENS = re.compile(rb'\\.|"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset(b"[{")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body`, brackets inside strings ignored."""
    depth = deepest = 0
    in_string = False
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token == b'"':
            in_string = not in_string
        elif in_string or len(token) > 1:
            continue
        elif token[0] in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def body_limits(max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> type:
    """ASGI middleware (Litestar `middleware=[body_limits(...)]`) for non-multipart bodies."""

    class BodyLimits:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
                await self.app(scope, receive, send)
                return
            headers = dict(scope["headers"])
            if headers.get(b"content-type", b"").lower().startswith(b"multipart/"):
                await self.app(scope, receive, send)
                return
            chunks: list[bytes] = []
            size, more = 0, True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > max_bytes:
                    await _refuse(send, 413, "request_too_large", "The body is over 1 MiB.")
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if json_depth(body) > max_depth:
                detail = f"JSON nested deeper than {max_depth} levels is refused."
                await _refuse(send, 400, "bad_request", detail)
                return
            replayed = False

            async def replay() -> Any:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)  # the body, read once, handed on

    return BodyLimits


async def _refuse(send: Any, status: int, error: str, detail: str) -> None:
    body = msgspec.json.encode(ErrorBody(status_code=status, error=error, detail=detail))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
