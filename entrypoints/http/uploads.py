"""Multipart uploads read by hand: every part is a file, bodies spool to disk, bytes are budgeted.

Litestar's own form parser decodes a part without a usable `filename` as UTF-8 text (a 500 on
binary data) and answers 400 for its limits. Here a part is a file when its disposition names
a file at all (`filename=""` and `filename*=` included) or its content type is not text;
other parts are plain fields, skipped and never decoded. A file's bytes go to a temporary
file past a small size. The numbers of files and of parts are checked as they arrive (422
`too_many_images`); a part header over its limit (a file name of thousands of characters)
answers 413. A body that is not multipart holds no file. The bytes of all uploads held by
this process at once are capped by an `UploadBudget`: a request that does not fit waits a
little, then gets 503 with Retry-After.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Any

import anyio
from litestar import Request
from litestar.exceptions import ClientException, HTTPException, ServiceUnavailableException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from multipart import (
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
)

from application.commands import Upload
from domain.errors import ErrorCode, InvalidInput

SPOOL_BYTES = 256 * 1024  # a part larger than this lives in a temporary file until decoded
MAX_HEADER_BYTES = 1024  # one part header line: a filename longer than this is refused (413)
EXTRA_PARTS = 10  # plain fields tolerated beside the files
BUDGET_WAIT_S = 30.0


class UploadBudget:
    """Bytes of request bodies this process holds at once; waits, then refuses, beyond it."""

    def __init__(self, capacity: int, wait_s: float = BUDGET_WAIT_S) -> None:
        self.capacity = capacity
        self.in_use = 0
        self._wait_s = wait_s
        self._changed = anyio.Event()

    @asynccontextmanager
    async def reserve(self, size: int) -> AsyncIterator[None]:
        size = min(size, self.capacity)
        with anyio.move_on_after(self._wait_s):
            while self.in_use + size > self.capacity:
                await self._changed.wait()
        if self.in_use + size > self.capacity:
            raise ServiceUnavailableException(
                "The server is busy with other uploads; try again shortly.",
                headers={"Retry-After": "5"},
            )
        self.in_use += size
        try:
            yield
        finally:
            self.in_use -= size
            self._changed.set()
            self._changed = anyio.Event()


def _too_many(limit: int) -> InvalidInput:
    return InvalidInput(
        f"Send at most {limit} images at once.", ErrorCode.TOO_MANY_IMAGES, count=limit
    )


async def read_uploads(
    request: Request[Any, Any, Any], max_files: int, budget: UploadBudget
) -> AsyncIterator[tuple[Upload, ...]]:
    """Every part of the multipart body, in order, as an upload (whatever its part name).

    A generator dependency: the body's bytes stay reserved in the budget until the handler
    is done with them (decoding and inference included), not just while they are read."""
    content_type, options = request.content_type
    boundary = options.get("boundary")
    if content_type != "multipart/form-data":
        yield ()
        return
    if not boundary:
        raise ClientException("The multipart Content-Type names no boundary.")
    declared = request.headers.get("content-length", "")
    limit = request.route_handler.resolve_request_max_body_size() or budget.capacity
    size = int(declared) if declared.isdigit() else limit
    async with budget.reserve(size):
        files = await _parse(request, boundary, max_files)
        try:
            uploads = tuple(Upload(filename=name, data=_drain(spool)) for name, spool in files)
        finally:
            for _, spool in files:
                spool.close()
        yield uploads


def _is_file(part: MultipartSegment) -> bool:
    disposition = part.header("Content-Disposition", "") or ""
    kind = (part.content_type or "text/plain").lower()
    return part.filename is not None or "filename" in disposition.lower() or kind[:5] != "text/"


def _drain(spool: IO[bytes]) -> bytes:
    spool.seek(0)
    return spool.read()


async def _parse(
    request: Request[Any, Any, Any], boundary: str, max_files: int
) -> list[tuple[str, IO[bytes]]]:
    files: list[tuple[str, IO[bytes]]] = []
    current: IO[bytes] | None = None
    try:
        with PushMultipartParser(
            boundary.encode("latin-1", "replace"),
            max_header_size=MAX_HEADER_BYTES,
            max_segment_count=max_files + EXTRA_PARTS,
        ) as parser:
            async for chunk in request.stream():
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        current = None
                        if not _is_file(part):
                            continue
                        if len(files) >= max_files:
                            raise _too_many(max_files)
                        current = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
                        files.append((part.filename or "", current))  # cleaned by the use case
                    elif part and current is not None:
                        current.write(part)
                    elif not part:
                        current = None
            if not parser.closed:
                parser.close()
    except ParserLimitReached as error:
        _close(files)
        if "segment count" in str(error):  # more parts than files allowed (and a few fields)
            raise _too_many(max_files) from None
        raise RequestEntityTooLarge(f"The multipart body is over a limit ({error}).") from None
    except ParserError as error:
        _close(files)
        raise ClientException(f"The multipart body is malformed ({error}).") from None
    except (HTTPException, InvalidInput):
        _close(files)
        raise
    return files


def _close(files: list[tuple[str, IO[bytes]]]) -> None:
    for _, spool in files:
        spool.close()
