from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.security.login_throttle import InMemoryLoginThrottle
from domain.errors import TooManyAttempts
from tests.contracts.login_throttle_contract import LoginThrottleContract
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration


class TestInMemoryLoginThrottleContract(LoginThrottleContract):
    @pytest.fixture
    def login_throttle(self, clock: FakeClock) -> InMemoryLoginThrottle:
        return InMemoryLoginThrottle(clock)


async def lock_out(throttle: InMemoryLoginThrottle, email: str = "a@example.org") -> int:
    for _ in range(5):
        await throttle.record_failure(email, "10.0.0.1")
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check(email, "10.0.0.1")
    return raised.value.retry_after


async def test_lockouts_double_up_to_the_cap(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock, max_lockout=timedelta(minutes=15))
    served = []
    for _ in range(8):
        retry_after = await lock_out(throttle)
        served.append(retry_after)
        clock.advance(timedelta(seconds=retry_after))
        await throttle.check("a@example.org", "10.0.0.1")
    assert served == [30, 60, 120, 240, 480, 900, 900, 900]


async def test_retry_after_counts_down(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock)
    assert await lock_out(throttle) == 30
    clock.advance(timedelta(seconds=20))
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check("a@example.org", None)
    assert raised.value.retry_after == 10


async def test_failures_outside_the_window_do_not_count(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock, window=timedelta(minutes=15))
    for _ in range(4):
        await throttle.record_failure("a@example.org", None)
    clock.advance(timedelta(minutes=16))
    for _ in range(4):
        await throttle.record_failure("a@example.org", None)
    await throttle.check("a@example.org", None)


async def test_a_quiet_window_forgets_earlier_lockouts(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock)
    assert await lock_out(throttle) == 30
    clock.advance(timedelta(seconds=30))
    assert await lock_out(throttle) == 60
    clock.advance(timedelta(minutes=20))
    assert await lock_out(throttle) == 30


async def test_success_clears_the_email_but_not_the_client(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock, client_max_failures=6)
    for attempt in range(5):
        await throttle.record_failure(f"victim{attempt}@example.org", "10.6.6.6")
    await throttle.record_success("attacker@example.org", "10.6.6.6")
    await throttle.record_failure("victim9@example.org", "10.6.6.6")
    with pytest.raises(TooManyAttempts):
        await throttle.check("attacker@example.org", "10.6.6.6")
    await throttle.check("attacker@example.org", "10.0.0.1")


async def test_emails_are_compared_case_insensitively(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock)
    for email in ("A@example.org", "a@example.org ", "a@EXAMPLE.org", "a@example.org", "A@x"):
        await throttle.record_failure(email, None)
    await throttle.record_failure("a@example.org", None)
    with pytest.raises(TooManyAttempts):
        await throttle.check(" A@Example.org", None)


async def test_memory_stays_bounded_under_email_spraying(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock, max_entries=100)
    for attempt in range(1000):
        await throttle.record_failure(f"spray{attempt}@example.org", None)
        clock.advance(timedelta(minutes=1))
    assert len(throttle._records) <= 100


async def test_a_burst_of_concurrent_guesses_gets_only_the_budget(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock)

    async def attempt() -> bool:
        try:
            await throttle.check("a@example.org", "10.0.0.1")
        except TooManyAttempts:
            return False
        await asyncio.sleep(0.01)  # the password check
        await throttle.record_failure("a@example.org", "10.0.0.1")
        return True

    allowed = await asyncio.gather(*(attempt() for _ in range(50)))
    assert sum(allowed) == 5
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check("a@example.org", None)
    assert raised.value.retry_after == 30


async def test_an_outcome_never_recorded_stops_counting(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock, pending_ttl=timedelta(seconds=30))
    for _ in range(5):
        await throttle.check("a@example.org", None)  # e.g. the database failed afterwards
    with pytest.raises(TooManyAttempts) as raised:
        await throttle.check("a@example.org", None)
    assert raised.value.retry_after == 1
    clock.advance(timedelta(seconds=31))
    await throttle.check("a@example.org", None)


async def test_concurrent_sign_ins_that_succeed_are_not_held_back(clock: FakeClock) -> None:
    throttle = InMemoryLoginThrottle(clock)
    for _ in range(20):
        await throttle.check("a@example.org", "10.0.0.1")
        await throttle.record_success("a@example.org", "10.0.0.1")
    await throttle.check("a@example.org", "10.0.0.1")
