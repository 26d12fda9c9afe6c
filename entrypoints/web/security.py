"""Security headers on every UI response, and `Secure` session cookies over HTTPS.

NiceGUI renders Vue templates in the browser (its runtime compiler needs `'unsafe-eval'`) and
writes its page set-up as inline scripts, so the policy allows those from this origin only;
everything else (frames, plugins, other hosts) is refused, and no page may be framed. The
API mounted at /api sets its own stricter headers; they are kept as they are.
"""

from __future__ import annotations

from typing import Any

UI_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
UI_HEADERS = {
    b"content-security-policy": UI_CSP.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


def _secure(cookie: bytes) -> bytes:
    return cookie if b"; secure" in cookie.lower() else cookie + b"; Secure"


class UiSecurityHeaders:
    """ASGI middleware for the NiceGUI app: headers a response lacks are added; over HTTPS
    (the proxy's X-Forwarded-Proto, believed from trusted proxies only) cookies get Secure;
    no `server` header."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, _secure(value) if https and name.lower() == b"set-cookie" else value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"server"
                ]
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in UI_HEADERS.items() if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
