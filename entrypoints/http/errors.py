"""The one map from failures to HTTP responses: JSON bodies, the right status, no stack traces."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from adapters.persistence.errors import is_unavailable
from domain.errors import (
    Conflict,
    DatabaseUnavailable,
    DomainError,
    Forbidden,
    ImageTooLarge,
    InvalidCredentials,
    InvalidImage,
    InvalidInput,
    ModelUnavailable,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
    UnsupportedImageFormat,
)

logger = logging.getLogger("breastscan.http")

BEARER_CHALLENGE = 'Bearer realm="breastscan"'

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: tuple[tuple[type[DomainError], int, str], ...] = (
    (ImageTooLarge, 413, "image_too_large"),
    (UnsupportedImageFormat, 415, "unsupported_image_format"),
    (InvalidImage, 422, "invalid_image"),
    (InvalidInput, 422, "invalid_input"),
    (InvalidCredentials, 401, "invalid_credentials"),
    (NotAuthenticated, 401, "not_authenticated"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (TooManyAttempts, 429, "too_many_attempts"),
    (ModelUnavailable, 503, "model_unavailable"),
    (DatabaseUnavailable, 503, "database_unavailable"),
)


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every error response: a stable machine code and a sentence a person can act on."""

    status_code: int
    error: str
    detail: str
    retry_after: int | None = None
    extra: list[dict[str, Any]] | None = None


def classify(error: DomainError) -> tuple[int, str]:
    """HTTP status and machine code for a domain error."""
    for kind, status, code in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status, code
    return 400, "bad_request"


def error_headers(error: DomainError) -> dict[str, str]:
    if isinstance(error, NotAuthenticated | InvalidCredentials):
        return {"WWW-Authenticate": BEARER_CHALLENGE}
    if isinstance(error, TooManyAttempts):
        return {"Retry-After": str(max(1, error.retry_after))}
    if isinstance(error, ModelUnavailable | DatabaseUnavailable):
        return {"Retry-After": "30"}
    return {}


def domain_error_body(error: DomainError) -> ErrorBody:
    status, code = classify(error)
    retry = max(1, error.retry_after) if isinstance(error, TooManyAttempts) else None
    return ErrorBody(status_code=status, error=code, detail=error.message, retry_after=retry)


def _json(body: ErrorBody, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=msgspec.json.encode(body),
        status_code=body.status_code,
        media_type=MediaType.JSON,
        headers=headers or {},
    )


def handle_domain_error(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, DomainError)
    if isinstance(exc, ModelUnavailable | DatabaseUnavailable):
        logger.warning("service unavailable: %s", exc.message)
    return _json(domain_error_body(exc), error_headers(exc))


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def handle_http_exception(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    extra = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        extra = [item for item in exc.extra if isinstance(item, dict)] or None
    detail = exc.detail if status < 500 else "Internal server error."
    body = ErrorBody(
        status_code=status,
        error=_HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error"),
        detail=detail,
        extra=extra,
    )
    return _json(body, dict(exc.headers or {}))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if is_unavailable(exc):
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return handle_domain_error(
            request, DatabaseUnavailable("The database is unavailable; try again shortly.")
        )
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    body = ErrorBody(
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        error="internal_error",
        detail="Internal server error.",
    )
    return _json(body)


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
