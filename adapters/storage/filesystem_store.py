"""Content-addressed image files on local disk (or any mounted volume)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.to_thread

from domain.errors import ErrorCode, InvalidInput, NotFound

_SHA256 = re.compile(r"[0-9a-f]{64}")
SUFFIXES = (".png", ".jpg", ".dcm")  # by content: PNG, JPEG as uploaded, DICOM Part 10
R = TypeVar("R")


class FilesystemImageStore:
    """ImageStore port: ``root/ab/cd/<sha256>.png`` (or ``.jpg``, ``.dcm``), atomic, never
    overwritten.

    The address is the SHA-256 of the bytes, checked on put; anything that is not 64 lower-case
    hex digits is refused, so no key can reach outside ``root``. The suffix follows the content
    (JPEG uploads are stored as they came, metadata stripped; DICOM Part 10 files, the
    de-identified copies of DICOM uploads, as .dcm). File IO runs in worker threads.
    """

    def __init__(self, root: Path, max_concurrency: int = 8) -> None:
        self.root = Path(root)
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def put(self, sha256: str, data: bytes) -> None:
        path = self.path_for(sha256).with_suffix(_suffix(data))
        if hashlib.sha256(data).hexdigest() != sha256:
            raise InvalidInput("The image bytes do not match their content address.")
        await self._run(_write_once, path, data)

    async def get(self, sha256: str) -> bytes:
        data = await self._run(_read_any, self._paths(sha256))
        if data is None:
            raise NotFound("The stored image is missing.", ErrorCode.STORED_IMAGE_MISSING)
        return data

    async def delete(self, sha256: str) -> None:
        # Directories stay (at most 65,536): removing them could race a concurrent put.
        for path in self._paths(sha256):
            await self._run(path.unlink, True)

    async def exists(self, sha256: str) -> bool:
        paths = self._paths(sha256)
        return await self._run(lambda: any(path.is_file() for path in paths))

    async def stored_before(self, cutoff: datetime) -> list[str]:
        return await self._run(_stored_before, self.root, cutoff.timestamp())

    async def delete_if_stored_before(self, sha256: str, cutoff: datetime) -> bool:
        deleted = [
            await self._run(_delete_if_older, path, cutoff.timestamp())
            for path in self._paths(sha256)
        ]
        return any(deleted)

    def path_for(self, sha256: str) -> Path:
        """Where the image with this digest lives; refuses anything but a SHA-256 hex digest."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise InvalidInput("An image address must be 64 lower-case hexadecimal digits.")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.png"

    def _paths(self, sha256: str) -> tuple[Path, ...]:
        path = self.path_for(sha256)
        return tuple(path.with_suffix(suffix) for suffix in SUFFIXES)

    async def _run(self, function: Callable[..., R], *args: object) -> R:
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)


def _suffix(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    return ".dcm" if data[128:132] == b"DICM" else ".png"


def _read_any(paths: tuple[Path, ...]) -> bytes | None:
    for path in paths:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            continue
    return None


def _stored_before(root: Path, cutoff: float) -> list[str]:
    found = []
    for path in (path for suffix in SUFFIXES for path in root.glob(f"??/??/*{suffix}")):
        try:
            if _SHA256.fullmatch(path.stem) and path.stat().st_mtime < cutoff:
                found.append(path.stem)
        except FileNotFoundError:
            continue  # deleted meanwhile
    return found


def _delete_if_older(path: Path, cutoff: float) -> bool:
    try:
        if path.stat().st_mtime >= cutoff:
            return False  # written or re-put since the sweep looked: in use again
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _write_once(path: Path, data: bytes) -> None:
    if path.is_file():
        # same address, same bytes: nothing to write; the fresh time tells a sweep that
        # a new prediction is about to refer to it
        os.utime(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
