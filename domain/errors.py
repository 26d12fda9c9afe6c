"""Domain errors: the only way the core reports failure; each entrypoint maps them once."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for every failure the core reports."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """A command carried a value the rules refuse (bad email, weak password, bad page size)."""


class NotFound(DomainError):
    """The record does not exist, or the caller may not know that it does."""


class Forbidden(DomainError):
    """The caller is known but not allowed to do this."""


class Conflict(DomainError):
    """The change clashes with existing state (e.g. an email already registered)."""


class InvalidCredentials(DomainError):
    """Wrong email or password; deliberately does not say which."""


class NotAuthenticated(DomainError):
    """The token is missing, malformed, expired, revoked or belongs to an inactive account."""


class TooManyAttempts(DomainError):
    """Too many failed sign-ins; retry after the given number of seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidImage(DomainError):
    """The upload is not a decodable image within the accepted formats and limits."""


class UnsupportedImageFormat(InvalidImage):
    """The bytes are not one of the accepted image formats (checked by magic bytes)."""


class ImageTooLarge(InvalidImage):
    """The upload exceeds the byte or pixel limits."""


class ModelUnavailable(DomainError):
    """The classifier could not be loaded or run."""


class DatabaseUnavailable(DomainError):
    """The database cannot be reached or dropped the connection; retrying later may succeed."""
