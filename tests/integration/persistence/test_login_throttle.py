"""SqlAlchemyLoginThrottle on SQLite and PostgreSQL: the contract, the lockout policy, and one
budget shared by every process (replica) over the same database."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import create_engine
from adapters.persistence.login_throttle import SqlAlchemyLoginThrottle
from adapters.persistence.tables import login_throttle
from domain.errors import TooManyAttempts
from tests.contracts.login_throttle_contract import LoginThrottleContract
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(engine: AsyncEngine, clock: FakeClock, **options: Any) -> SqlAlchemyLoginThrottle:
    return SqlAlchemyLoginThrottle(engine, clock, **options)


class TestSqlAlchemyLoginThrottleContract(LoginThrottleContract):
    @pytest.fixture
    def login_throttle(self, engine: AsyncEngine, clock: FakeClock) -> SqlAlchemyLoginThrottle:
        return make(engine, clock)


async def lock_out(throttle: SqlAlchemyLoginThrottle, email: str = "a@example.org") -> int:
    for _ in range(5):
        await throttle.record_failure(email, "10.0.0.1")
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check(email, "10.0.0.1")
    return raised.value.retry_after


async def row_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(login_throttle)) or 0)


@pytest_asyncio.fixture
async def second_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Another process's own connection pool over the same database."""
    other = create_engine(engine.url)
    yield other
    await other.dispose()


async def test_two_replicas_share_one_budget(
    engine: AsyncEngine, second_engine: AsyncEngine, clock: FakeClock
) -> None:
    replica_a, replica_b = make(engine, clock), make(second_engine, clock)
    for _ in range(3):
        await replica_a.check("a@example.org", "10.0.0.1")
        await replica_a.record_failure("a@example.org", "10.0.0.1")
    for _ in range(2):
        await replica_b.check("A@Example.org", "10.0.0.1")
        await replica_b.record_failure("A@Example.org", "10.0.0.1")
    for replica in (replica_a, replica_b):
        with pytest.raises(TooManyAttempts) as raised:
            await replica.check("a@example.org", "10.0.0.1")
        assert raised.value.retry_after == 30


async def burst(replicas: list[SqlAlchemyLoginThrottle], size: int = 20) -> int:
    """Concurrent wrong guesses at one account, round-robin over `replicas`; how many got in."""

    async def attempt(number: int) -> bool:
        throttle = replicas[number % len(replicas)]
        try:
            await throttle.check("a@example.org", "10.0.0.1")
        except TooManyAttempts:
            return False
        await asyncio.sleep(0.01)  # the password check
        await throttle.record_failure("a@example.org", "10.0.0.1")
        return True

    return sum(await asyncio.gather(*(attempt(number) for number in range(size))))


async def test_a_burst_spread_over_replicas_gets_only_the_budget(
    engine: AsyncEngine, second_engine: AsyncEngine, clock: FakeClock
) -> None:
    replicas = [make(engine, clock), make(second_engine, clock)]
    assert await burst(replicas) == 5
    with pytest.raises(TooManyAttempts) as raised:
        await replicas[1].check("a@example.org", "10.0.0.1")
    assert raised.value.retry_after == 30


async def test_keys_are_digests_not_emails_or_addresses(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await make(engine, clock).record_failure(" A@Example.org", "10.0.0.1")
    async with engine.connect() as connection:
        keys: set[str] = set((await connection.scalars(select(login_throttle.c.key))).all())
    assert keys == {
        hashlib.sha256(b"pair:a@example.org\n10.0.0.1").hexdigest(),
        hashlib.sha256(b"email:a@example.org").hexdigest(),
        hashlib.sha256(b"client:10.0.0.1").hexdigest(),
    }


async def test_lockouts_double_up_to_the_cap(engine: AsyncEngine, clock: FakeClock) -> None:
    throttle = make(engine, clock, max_lockout=timedelta(minutes=15))
    served = []
    for _ in range(8):
        retry_after = await lock_out(throttle)
        served.append(retry_after)
        clock.advance(timedelta(seconds=retry_after))
        await throttle.check("a@example.org", "10.0.0.1")
    assert served == [30, 60, 120, 240, 480, 900, 900, 900]


async def test_retry_after_counts_down(engine: AsyncEngine, clock: FakeClock) -> None:
    throttle = make(engine, clock)
    assert await lock_out(throttle) == 30
    clock.advance(timedelta(seconds=20))
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check("a@example.org", "10.0.0.1")
    assert raised.value.retry_after == 10


async def test_failures_outside_the_window_do_not_count(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock, window=timedelta(minutes=15))
    for _ in range(4):
        await throttle.record_failure("a@example.org", None)
    clock.advance(timedelta(minutes=16))
    for _ in range(4):
        await throttle.record_failure("a@example.org", None)
    await throttle.check("a@example.org", None)


async def test_the_window_slides(engine: AsyncEngine, clock: FakeClock) -> None:
    throttle = make(engine, clock, window=timedelta(minutes=15))
    for _ in range(3):
        await throttle.record_failure("a@example.org", None)
    clock.advance(timedelta(minutes=10))
    await throttle.record_failure("a@example.org", None)
    clock.advance(timedelta(minutes=6))  # the first three have left the window
    await throttle.record_failure("a@example.org", None)
    await throttle.check("a@example.org", None)
    for _ in range(3):
        await throttle.record_failure("a@example.org", None)
    with pytest.raises(TooManyAttempts):
        await throttle.check("a@example.org", None)


async def test_a_quiet_window_forgets_earlier_lockouts(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock)
    assert await lock_out(throttle) == 30
    clock.advance(timedelta(seconds=30))
    assert await lock_out(throttle) == 60
    clock.advance(timedelta(minutes=20))
    assert await lock_out(throttle) == 30


async def test_success_clears_the_email_but_not_the_client(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock, client_max_failures=6)
    for attempt in range(5):
        await throttle.record_failure(f"victim{attempt}@example.org", "10.6.6.6")
    await throttle.record_success("attacker@example.org", "10.6.6.6")
    await throttle.record_failure("victim9@example.org", "10.6.6.6")
    with pytest.raises(TooManyAttempts):
        await throttle.check("attacker@example.org", "10.6.6.6")
    await throttle.check("attacker@example.org", "10.0.0.1")


async def test_emails_are_compared_case_insensitively(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock)
    for email in ("A@example.org", "a@example.org ", "a@EXAMPLE.org", "a@example.org", "A@x"):
        await throttle.record_failure(email, None)
    await throttle.record_failure("a@example.org", None)
    with pytest.raises(TooManyAttempts):
        await throttle.check(" A@Example.org", None)


async def test_stale_rows_are_pruned_under_email_spraying(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock, window=timedelta(minutes=15), prune_every=timedelta(minutes=1))
    for attempt in range(60):
        await throttle.record_failure(f"spray{attempt}@example.org", None)
        clock.advance(timedelta(minutes=1))
    assert await row_count(engine) <= 34  # the last window's emails (and pairs), not all sixty


async def test_a_burst_of_concurrent_guesses_gets_only_the_budget(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock)
    assert await burst([throttle]) == 5
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check("a@example.org", "10.0.0.1")
    assert raised.value.retry_after == 30


async def test_an_outcome_never_recorded_stops_counting(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock, pending_ttl=timedelta(seconds=30))
    for _ in range(5):
        await throttle.check("a@example.org", None)  # e.g. the process died afterwards
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check("a@example.org", None)
    assert raised.value.retry_after == 1
    clock.advance(timedelta(seconds=31))
    await throttle.check("a@example.org", None)


async def test_concurrent_sign_ins_that_succeed_are_not_held_back(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    throttle = make(engine, clock)
    for _ in range(20):
        await throttle.check("a@example.org", "10.0.0.1")
        await throttle.record_success("a@example.org", "10.0.0.1")
    await throttle.check("a@example.org", "10.0.0.1")


async def test_a_refused_check_writes_nothing(engine: AsyncEngine, clock: FakeClock) -> None:
    throttle = make(engine, clock, account_max_failures=5)  # the email itself gets locked
    for _ in range(5):
        await throttle.record_failure("a@example.org", None)
    before = await row_count(engine)
    with pytest.raises(TooManyAttempts):
        await throttle.check("a@example.org", "10.9.9.9")  # a new client address
    assert await row_count(engine) == before
