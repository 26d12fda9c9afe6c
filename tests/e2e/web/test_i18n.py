"""The translation catalogues: complete, with matching placeholders, and language detection."""

from __future__ import annotations

import string

import pytest

from entrypoints.web.i18n import EN, FR, pick_language, translate

pytestmark = [pytest.mark.unit]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_english_string_has_a_french_one_with_the_same_placeholders() -> None:
    assert set(EN) == set(FR)
    for key, text in EN.items():
        assert placeholders(text) == placeholders(FR[key]), key


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,fr;q=0.5", "fr"),
        ("en-GB", "en"),
        ("de-DE", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_browser_language_picks_the_first_supported(header: str | None, expected: str) -> None:
    assert pick_language(header) == expected


def test_translate_fills_values_and_falls_back() -> None:
    assert translate("fr", "history.page", page=1, pages=2, total=3) == "Page 1 sur 2 (3 analyses)"
    assert translate("xx", "nav.history") == "History"
    assert translate("en", "no.such.key") == "no.such.key"
