"""Argon2id password hashing (argon2-cffi), run off the event loop behind a small limiter."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True, slots=True)
class Argon2Profile:
    """Argon2id cost parameters; the default is OWASP's m=19 MiB, t=2, p=1 (~23 ms here)."""

    memory_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


# For tests only: cheap enough to hash hundreds of times per second.
CHEAP_TEST_PROFILE = Argon2Profile(memory_kib=64, time_cost=1, parallelism=1)


class Argon2PasswordHasher:
    """PasswordHasher port backed by Argon2id.

    Each hash holds up to ``memory_kib`` of RAM while it runs, so at most ``max_concurrency``
    hashes run at once (in worker threads); further callers wait on the limiter instead of
    stalling the event loop or multiplying memory.
    """

    def __init__(self, profile: Argon2Profile | None = None, max_concurrency: int = 2) -> None:
        self.profile = profile or Argon2Profile()
        self._hasher = _Argon2(
            time_cost=self.profile.time_cost,
            memory_cost=self.profile.memory_kib,
            parallelism=self.profile.parallelism,
            hash_len=self.profile.hash_len,
            salt_len=self.profile.salt_len,
            type=Type.ID,
        )
        self._limiter = anyio.CapacityLimiter(max_concurrency)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(
            self._verify_sync, password_hash, password, limiter=self._limiter
        )

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters (or is not an Argon2 hash)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
