"""Behaviour every Clock must share."""

from __future__ import annotations

from datetime import timedelta

from application.ports import Clock


class ClockContract:
    """Needs a fixture ``clock`` giving the Clock under test."""

    def test_is_a_clock(self, clock: Clock) -> None:
        assert isinstance(clock, Clock)

    def test_now_is_timezone_aware_utc(self, clock: Clock) -> None:
        now = clock.now()
        assert now.tzinfo is not None
        assert now.utcoffset() == timedelta(0)

    def test_time_does_not_run_backwards(self, clock: Clock) -> None:
        first = clock.now()
        assert clock.now() >= first
