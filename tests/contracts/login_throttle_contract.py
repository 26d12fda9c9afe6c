"""Behaviour every LoginThrottle must share."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.ports import LoginThrottle
from domain.errors import TooManyAttempts

LIMIT = 5  # failures of one (email, client) pair
ACCOUNT_LIMIT = 50  # failures of one email, from any clients


class LoginThrottleContract:
    """Needs fixtures ``login_throttle`` (locks an (email, client) pair after 5 failures, for
    at least a second and at most an hour at first, an email after 50 failures from any
    clients, and a client address after at most 100 failures) and ``clock``: the clock it
    reads, with ``advance(delta: timedelta) -> None``.
    """

    def test_is_a_login_throttle(self, login_throttle: LoginThrottle) -> None:
        assert isinstance(login_throttle, LoginThrottle)

    async def test_locks_a_guessing_client_out_of_an_email_after_five_failures(
        self, login_throttle: LoginThrottle
    ) -> None:
        for _ in range(LIMIT - 1):
            await login_throttle.record_failure("a@example.org", "10.0.0.1")
        await login_throttle.check("a@example.org", "10.0.0.1")
        await login_throttle.record_failure("a@example.org", "10.0.0.1")
        with pytest.raises(TooManyAttempts) as raised:
            await login_throttle.check("a@example.org", "10.0.0.1")
        assert 1 <= raised.value.retry_after <= 3600
        assert "a@example.org" not in raised.value.message

    async def test_the_owner_elsewhere_is_not_locked_out_by_a_guesser(
        self, login_throttle: LoginThrottle
    ) -> None:
        for _ in range(LIMIT * 2):
            await login_throttle.record_failure("owner@example.org", "10.6.6.6")
        await login_throttle.check("owner@example.org", "10.0.0.2")

    async def test_locks_an_email_guessed_from_many_clients(
        self, login_throttle: LoginThrottle
    ) -> None:
        for attempt in range(ACCOUNT_LIMIT):
            await login_throttle.record_failure("a@example.org", f"10.7.{attempt // 4}.{attempt}")
        with pytest.raises(TooManyAttempts):
            await login_throttle.check("a@example.org", "10.0.0.2")

    async def test_lockout_does_not_spill_over(self, login_throttle: LoginThrottle) -> None:
        for _ in range(LIMIT):
            await login_throttle.record_failure("a@example.org", "10.0.0.1")
        await login_throttle.check("b@example.org", "10.0.0.2")

    async def test_success_resets_the_email(self, login_throttle: LoginThrottle) -> None:
        for _ in range(LIMIT - 1):
            await login_throttle.record_failure("a@example.org", "10.0.0.1")
        await login_throttle.record_success("a@example.org", "10.0.0.1")
        for _ in range(LIMIT - 1):
            await login_throttle.record_failure("a@example.org", "10.0.0.1")
        await login_throttle.check("a@example.org", "10.0.0.1")

    async def test_lockout_ends(self, login_throttle: LoginThrottle, clock) -> None:
        for _ in range(LIMIT):
            await login_throttle.record_failure("a@example.org", None)
        with pytest.raises(TooManyAttempts) as raised:
            await login_throttle.check("a@example.org", None)
        clock.advance(timedelta(seconds=raised.value.retry_after + 1))
        await login_throttle.check("a@example.org", None)

    async def test_locks_a_client_guessing_many_emails(self, login_throttle: LoginThrottle) -> None:
        for attempt in range(100):
            await login_throttle.record_failure(f"user{attempt}@example.org", "10.6.6.6")
        with pytest.raises(TooManyAttempts):
            await login_throttle.check("user100@example.org", "10.6.6.6")
        await login_throttle.check("someone@example.org", "10.0.0.9")

    async def test_the_message_is_the_same_for_every_email(
        self, login_throttle: LoginThrottle
    ) -> None:
        messages = []
        for email in ("known@example.org", "unknown@example.org"):
            for _ in range(LIMIT):
                await login_throttle.record_failure(email, None)
            with pytest.raises(TooManyAttempts) as raised:
                await login_throttle.check(email, None)
            messages.append(raised.value.message)
        assert messages[0] == messages[1]
