"""The one map from failures to HTTP responses: JSON bodies, the right status, no stack traces."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from domain.errors import (
    DatabaseUnavailable,
    DomainError,
    ErrorCode,
    InvalidCredentials,
    ModelUnavailable,
    NotAuthenticated,
    TooManyAttempts,
)

logger = logging.getLogger("breastscan.http")

BEARER_CHALLENGE = 'Bearer realm="breastscan"'

# The HTTP status of each kind of domain error (an error's kind is its class's code).
STATUS_BY_KIND: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.IMAGE_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_IMAGE_FORMAT: 415,
    ErrorCode.INVALID_IMAGE: 422,
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.DATABASE_UNAVAILABLE: 503,
    ErrorCode.PACS_UNAVAILABLE: 503,
}
CODE_DESCRIPTION = (
    "Stable machine code of the failure: the error's kind, or a code that refines it "
    "(see the API description for the list and their params)."
)


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every error response: the kind (`error`), the precise `code` with the `params` its
    sentence needs, and a sentence in English a person can act on (`detail`)."""

    status_code: int
    error: Annotated[str, msgspec.Meta(description="The kind of failure (one per status).")]
    detail: str
    code: Annotated[str, msgspec.Meta(description=CODE_DESCRIPTION)] = ""
    # str | number | list: one JSON type each (an int is a number), so the schema's oneOf holds
    params: dict[str, str | float | tuple[str, ...]] | None = None
    retry_after: int | None = None
    extra: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.code = self.code or self.error


def status_of(error: DomainError) -> int:
    """The HTTP status of a domain error."""
    return STATUS_BY_KIND.get(error.kind, 400)


def error_headers(error: DomainError) -> dict[str, str]:
    if isinstance(error, NotAuthenticated | InvalidCredentials):
        return {"WWW-Authenticate": BEARER_CHALLENGE}
    if isinstance(error, TooManyAttempts):
        return {"Retry-After": str(max(1, error.retry_after))}
    if isinstance(error, ModelUnavailable | DatabaseUnavailable):
        return {"Retry-After": "30"}
    return {}


def domain_error_body(error: DomainError) -> ErrorBody:
    retry = max(1, error.retry_after) if isinstance(error, TooManyAttempts) else None
    return ErrorBody(
        status_code=status_of(error),
        error=error.kind.value,
        detail=error.message,
        code=error.code.value,
        params=dict(error.params) or None,
        retry_after=retry,
    )


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
    503: "service_busy",
}


def handle_http_exception(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    extra = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        extra = [item for item in exc.extra if isinstance(item, dict)] or None
    shown = status < 500 or status == 503  # 503: a reason to retry, said by the app itself
    detail = exc.detail if shown else "Internal server error."
    body = ErrorBody(
        status_code=status,
        error=_HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error"),
        detail=detail,
        extra=extra,
    )
    return _json(body, dict(exc.headers or {}))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
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
