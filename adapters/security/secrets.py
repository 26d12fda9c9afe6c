"""The token signing secret: configured, or generated once and kept in the data directory."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

SECRET_BYTES = 64
MIN_SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret at ``path``, or create it (64 random bytes, hex, mode 0600) exactly once.

    Creation is race-free across processes: several API workers starting together all end up
    with the first writer's secret (the file is linked into place, never overwritten).
    """
    path = Path(path)
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(SECRET_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: use theirs
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):
            path.chmod(0o600)
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"The secret file {path} must contain hex digits only.") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(
            f"The secret in {path} is {len(key)} bytes; at least {MIN_SECRET_BYTES} are required. "
            "Delete the file to have a new one generated (this signs everyone out)."
        )
    return key
