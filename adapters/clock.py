"""The system clock: timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Clock port backed by the operating system's wall clock, always in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
