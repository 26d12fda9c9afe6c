from __future__ import annotations

import asyncio
import time

import pytest

from adapters.security.argon2_hasher import (
    CHEAP_TEST_PROFILE,
    Argon2PasswordHasher,
    Argon2Profile,
)
from tests.contracts.password_hasher_contract import PasswordHasherContract

pytestmark = pytest.mark.integration


class TestArgon2PasswordHasherContract(PasswordHasherContract):
    @pytest.fixture
    def password_hasher(self) -> Argon2PasswordHasher:
        return Argon2PasswordHasher(CHEAP_TEST_PROFILE)


async def test_default_profile_is_argon2id_at_least_owasp() -> None:
    hasher = Argon2PasswordHasher()
    password_hash = await hasher.hash("correct horse battery")
    assert password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await hasher.verify(password_hash, "correct horse battery")
    assert not hasher.needs_rehash(password_hash)


async def test_changed_parameters_ask_for_a_rehash() -> None:
    old = Argon2PasswordHasher(CHEAP_TEST_PROFILE)
    new = Argon2PasswordHasher(Argon2Profile(memory_kib=128, time_cost=2, parallelism=1))
    old_hash = await old.hash("a password")
    assert new.needs_rehash(old_hash)
    assert await new.verify(old_hash, "a password")  # old hashes still sign in
    assert not new.needs_rehash(await new.hash("a password"))


def test_a_foreign_hash_needs_a_rehash() -> None:
    hasher = Argon2PasswordHasher(CHEAP_TEST_PROFILE)
    assert hasher.needs_rehash("$2b$12$abcdefghijklmnopqrstuuPLAINbcryptlookingstring")


async def test_hashing_runs_off_the_event_loop_behind_the_limiter() -> None:
    profile = Argon2Profile(memory_kib=8192, time_cost=2, parallelism=1)
    hasher = Argon2PasswordHasher(profile, max_concurrency=2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    hashes = await asyncio.gather(*(hasher.hash(f"password {i}") for i in range(6)))
    elapsed = time.perf_counter() - started
    ticking.cancel()
    assert len(set(hashes)) == 6
    # the loop kept running while six hashes were computed in threads
    assert ticks >= elapsed / 0.005 / 10
