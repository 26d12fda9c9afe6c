"""Password strength by zxcvbn: pattern matching against dictionaries, keyboard walks,
repeats, dates and l33t substitutions, scored 0-4 by estimated guesses."""

from __future__ import annotations

from collections.abc import Sequence

from zxcvbn import zxcvbn

MAX_SCORED_CHARS = 72  # zxcvbn refuses longer input; 72 characters that pass are plenty


class ZxcvbnPasswordStrength:
    """PasswordStrength port over the maintained `zxcvbn` package (a port of Dropbox's)."""

    def score(self, password: str, hints: Sequence[str]) -> int:
        inputs = [hint for hint in hints if hint]
        return int(zxcvbn(password[:MAX_SCORED_CHARS], user_inputs=inputs)["score"])
