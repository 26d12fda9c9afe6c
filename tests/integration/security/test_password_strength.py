"""ZxcvbnPasswordStrength against the PasswordStrength contract."""

from __future__ import annotations

import pytest

from adapters.security.password_strength import ZxcvbnPasswordStrength
from tests.contracts.password_strength_contract import PasswordStrengthContract

pytestmark = pytest.mark.integration


class TestZxcvbnPasswordStrength(PasswordStrengthContract):
    @pytest.fixture
    def password_strength(self) -> ZxcvbnPasswordStrength:
        return ZxcvbnPasswordStrength()


def test_long_passwords_are_scored_quickly() -> None:
    import time

    started = time.perf_counter()
    ZxcvbnPasswordStrength().score("ab1!" * 64, ())
    assert time.perf_counter() - started < 1.0
