"""Numbers, sizes and dates written the reader's way (75.2 % / 75,2 %, 10 MB / 10 Mo)."""

from __future__ import annotations

from datetime import date, datetime

from entrypoints.web.state import language

UNITS = {
    "en": {"B": "B", "KB": "KB", "MB": "MB"},
    "fr": {"B": "o", "KB": "Ko", "MB": "Mo"},
}
KIB = 1024
MIB = 1024 * 1024


def decimal(value: float, digits: int = 1) -> str:
    """A decimal number with the reader's decimal mark (and grouping from 10 000)."""
    text = f"{value:,.{digits}f}" if abs(value) >= 10_000 else f"{value:.{digits}f}"
    if language() == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def integer(value: int) -> str:
    """A count, grouped by thousands from 10 000 (10,000 / 10 000)."""
    text = f"{value:,}" if abs(value) >= 10_000 else str(value)
    return text.replace(",", "\u202f") if language() == "fr" else text


def percent(value: float, digits: int = 1) -> str:
    """A share 0..1 as a percentage (0.752 -> 75.2 % / 75,2 %)."""
    return f"{decimal(value * 100, digits)} %"


def size(count: int) -> str:
    """A byte count in the reader's units (10 MB / 10 Mo; 64 KB / 64 Ko)."""
    units = UNITS.get(language(), UNITS["en"])
    if count >= MIB:
        value = count / MIB
        shown = integer(int(value)) if value.is_integer() else decimal(value)
        return f"{shown} {units['MB']}"
    if count >= KIB:
        return f"{integer(count // KIB)} {units['KB']}"
    return f"{integer(count)} {units['B']}"


def when(moment: datetime | None) -> str:
    """A moment in local time, ISO-like in every language (no ambiguous 01/02)."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def labelled(name: str, value: str) -> str:
    """'Name: value' (French puts a space before the colon)."""
    return f"{name} : {value}" if language() == "fr" else f"{name}: {value}"
