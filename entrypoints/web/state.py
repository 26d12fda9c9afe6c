"""Per-browser state kept server-side in `app.storage.user`: token, language, notices.

The access token never reaches the page source or a URL; the browser holds only NiceGUI's
signed session cookie.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from nicegui import app, ui

from domain.errors import DomainError
from entrypoints.web.i18n import CATALOGUES, pick_language, translate, translate_error

TOKEN = "token"  # noqa: S105 (a storage key, not a secret)
LANGUAGE = "language"
NOTICE = "notice"
RESULTS = "analyze_results"
MAX_RESULTS = 100  # the session's Analyze cards kept for a return to the page


def language() -> str:
    """The reader's language: chosen in the header, else the browser's, else English."""
    storage = app.storage.user
    chosen = storage.get(LANGUAGE)
    if chosen in CATALOGUES:
        return str(chosen)
    request = ui.context.client.request
    detected = pick_language(request.headers.get("accept-language") if request else None)
    storage[LANGUAGE] = detected
    return detected


def set_language(code: str) -> None:
    if code in CATALOGUES:
        app.storage.user[LANGUAGE] = code


def t(key: str, **values: object) -> str:
    """Translate `key` into the reader's language."""
    return translate(language(), key, **values)


def error_text(error: DomainError) -> str:
    """A core error, worded from its code and parameters in the reader's language."""
    return translate_error(language(), error)


def token() -> str | None:
    value = app.storage.user.get(TOKEN)
    return str(value) if value else None


def store_token(value: str) -> None:
    app.storage.user[TOKEN] = value


def forget_token(notice: str | None = None) -> None:
    app.storage.user.pop(TOKEN, None)
    app.storage.user.pop(RESULTS, None)
    if notice:
        app.storage.user[NOTICE] = notice


def take_notice() -> str | None:
    """The one-shot notice for the sign-in page ("expired", "signed_out", "registered")."""
    value = app.storage.user.pop(NOTICE, None)
    return str(value) if value else None


def client_address() -> str | None:
    request = ui.context.client.request
    return request.client.host if request is not None and request.client else None


@dataclass(frozen=True, slots=True)
class SessionResult:
    """One Analyze card of this session: a stored analysis, or the reason a file was refused."""

    filename: str
    digest: str | None = None  # sha256 of the bytes sent, to point out a file sent twice
    prediction_id: str | None = None
    refusal: str | None = None


class SessionResults:
    """The session's Analyze cards, in the order the files were chosen (kept until sign-out)."""

    def __init__(self, storage: dict[str, Any]) -> None:
        self._storage = storage

    def entries(self) -> list[SessionResult]:
        return [SessionResult(**entry) for entry in self._storage.get(RESULTS, [])]

    def add(self, result: SessionResult) -> None:
        kept = [*self._storage.get(RESULTS, []), asdict(result)][-MAX_RESULTS:]
        self._storage[RESULTS] = kept

    def find(self, digest: str) -> SessionResult | None:
        """The earlier analysed card of the same bytes, if any."""
        return next(
            (e for e in self.entries() if e.digest == digest and e.prediction_id is not None),
            None,
        )

    def drop(self, prediction_id: str) -> None:
        self._storage[RESULTS] = [
            e for e in self._storage.get(RESULTS, []) if e.get("prediction_id") != prediction_id
        ]

    def clear(self) -> None:
        self._storage.pop(RESULTS, None)


def session_results() -> SessionResults:
    return SessionResults(app.storage.user)
