"""The translation catalogues: complete, matching placeholders, language detection, a sentence
for every error code, and the core's refusals (raised by the real decoder and domain rules)
said in the reader's language from their codes and parameters."""

from __future__ import annotations

import io
import string
from collections.abc import Callable

import pytest
from PIL import Image

from adapters.imaging.pillow_decoder import MIB, PillowImageDecoder
from domain.errors import DatabaseUnavailable, DomainError, ErrorCode, ImageTooLarge, NotFound
from domain.users import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    check_password_policy,
    normalise_email,
)
from entrypoints.web.i18n import (
    EN,
    FR,
    SAID_BY_THEIR_KIND,
    pick_language,
    translate,
    translate_error,
)

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


def refusal(raiser: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        raiser()
    return caught.value


PNG_HEADER = b"\x89PNG\r\n\x1a\n"
decoder = PillowImageDecoder(max_bytes=2 * MIB, max_pixels=100 * 100)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("raiser", "english", "french"),
    [
        (
            lambda: decoder.decode_sync(b"x" * (2 * MIB + MIB // 2), "big.png"),
            "'big.png' is 2.5 MB; the limit is 2 MB.",
            "'big.png' pèse 2,5 Mo ; la limite est de 2 Mo.",
        ),
        (
            lambda: decoder.decode_sync(png(200, 60), "wide.png"),
            "'wide.png' is 200x60 pixels; the limit is 10,000 pixels.",
            "'wide.png' mesure 200x60 pixels ; la limite est de 10\u202f000 pixels.",
        ),
        (
            lambda: decoder.decode_sync(b"hello, I am text", "notes.png"),
            "'notes.png' is not a PNG or JPEG image.",
            "'notes.png' n'est pas une image PNG ou JPEG.",
        ),
        (
            lambda: decoder.decode_sync(b"", "void.png"),
            "'void.png' is empty.",
            "'void.png' est vide.",
        ),
        (
            lambda: decoder.decode_sync(png(50, 50)[:60], "cut.png"),
            "'cut.png' is damaged or truncated and cannot be decoded (",
            "'cut.png' est endommagée ou tronquée et ne peut pas être décodée (",
        ),
        (
            lambda: check_password_policy("short", frozenset()),
            f"Password must be at least {PASSWORD_MIN_LENGTH} characters.",
            f"Le mot de passe doit comporter au moins {PASSWORD_MIN_LENGTH} caractères.",
        ),
        (
            lambda: check_password_policy("x" * (PASSWORD_MAX_LENGTH + 1), frozenset()),
            f"Password must be at most {PASSWORD_MAX_LENGTH} characters.",
            f"Le mot de passe doit comporter au plus {PASSWORD_MAX_LENGTH} caractères.",
        ),
        (
            lambda: check_password_policy("password123", frozenset({"password123"})),
            "This password is too common; choose another.",
            "Ce mot de passe est trop courant ; choisissez-en un autre.",
        ),
        (
            lambda: normalise_email("not an email"),
            "Enter a valid email address.",
            "Saisissez une adresse e-mail valide.",
        ),
    ],
)
def test_core_refusals_are_said_by_class_with_their_detail(
    raiser: Callable[[], object], english: str, french: str
) -> None:
    error = refusal(raiser)
    assert error.code is not error.kind, "a refusal worth wording carries its own code"
    assert translate_error("en", error).startswith(english)
    assert translate_error("fr", error).startswith(french)


def test_unknown_messages_fall_back_to_their_class() -> None:
    odd = ImageTooLarge("'x.png': something the patterns do not know.")
    assert translate_error("fr", odd) == FR["error.image_too_large"]
    assert translate_error("en", odd) == f"Not a usable image: {odd.message}"
    gone = NotFound("Nothing here.")
    assert translate_error("fr", gone) == FR["error.not_found"]
    assert translate_error("fr", DatabaseUnavailable("down")) == FR["error.database_unavailable"]


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_is_worded_in_every_language(code: ErrorCode) -> None:
    own = code not in SAID_BY_THEIR_KIND
    assert (f"error.{code}" in EN, f"error.{code}" in FR) == (own, own)
