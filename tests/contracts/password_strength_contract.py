"""Behaviour every PasswordStrength must share."""

from __future__ import annotations

import pytest

from application.ports import PasswordStrength
from domain.users import PASSWORD_MIN_SCORE

WEAK = ["        ", "Password1!", "password123", "aaaaaaaaaaaa"]
STRONG = ["correct horse battery staple", "violet lantern under rain"]


class PasswordStrengthContract:
    """Needs a fixture ``password_strength``."""

    def test_is_a_password_strength(self, password_strength: PasswordStrength) -> None:
        assert isinstance(password_strength, PasswordStrength)

    @pytest.mark.parametrize("password", WEAK)
    def test_guessable_passwords_score_below_the_policy(
        self, password_strength: PasswordStrength, password: str
    ) -> None:
        assert password_strength.score(password, ()) < PASSWORD_MIN_SCORE

    @pytest.mark.parametrize("password", STRONG)
    def test_passphrases_pass(self, password_strength: PasswordStrength, password: str) -> None:
        assert 0 <= password_strength.score(password, ()) <= 4
        assert password_strength.score(password, ()) >= PASSWORD_MIN_SCORE

    def test_the_account_own_words_are_give_aways(
        self, password_strength: PasswordStrength
    ) -> None:
        hints = ("dr.martin@example.org", "dr.martin")
        assert password_strength.score("dr.martin2024!", ()) >= PASSWORD_MIN_SCORE
        assert password_strength.score("dr.martin2024!", hints) < PASSWORD_MIN_SCORE
