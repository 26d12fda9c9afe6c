"""The one rule for free text people type (names, notes, searches): no control characters.

NUL and other C0/C1 controls, bidi overrides and other format characters have no place in a
name or a note; PostgreSQL refuses NUL outright, so the rule is checked before any database,
the same on all of them. Notes may span lines (newline, carriage return and tab are kept).
"""

from __future__ import annotations

import unicodedata

from domain.errors import ErrorCode, InvalidInput

LINE_BREAKS = frozenset("\n\r\t")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """True when `value` holds a control, format, surrogate or unassigned character."""
    return any(
        unicodedata.category(ch)[0] == "C" and not (multiline and ch in LINE_BREAKS) for ch in value
    )


def plain_text(value: str, field: str, *, multiline: bool = False) -> str:
    """`value` unchanged, or InvalidInput (`text_invalid_characters`, field) when it holds a
    control or format character."""
    if has_control_characters(value, multiline=multiline):
        raise InvalidInput(
            f"'{field}' must not contain control or invisible formatting characters.",
            ErrorCode.TEXT_INVALID_CHARACTERS,
            field=field,
        )
    return value
