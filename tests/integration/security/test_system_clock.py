from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.clock import SystemClock
from tests.contracts.clock_contract import ClockContract

pytestmark = pytest.mark.integration


class TestSystemClockContract(ClockContract):
    @pytest.fixture
    def clock(self) -> SystemClock:
        return SystemClock()


def test_system_clock_follows_the_wall_clock() -> None:
    assert abs(SystemClock().now() - datetime.now(UTC)) < timedelta(seconds=5)
