"""Failed sign-in throttling kept in process memory."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.ports import Clock
from domain.errors import TooManyAttempts


@dataclass(slots=True)
class _Record:
    failures: list[datetime] = field(default_factory=list)
    pending: list[datetime] = field(default_factory=list)  # checked, outcome not recorded yet
    strikes: int = 0  # lockouts served so far; each doubles the next one
    locked_until: datetime | None = None
    last_failure: datetime | None = None


class InMemoryLoginThrottle:
    """LoginThrottle port: temporary, growing lockouts per email and per client address.

    After ``max_failures`` failures within ``window`` the email (or client) is locked for
    ``base_lockout``, doubling with every further lockout up to ``max_lockout``; a quiet
    ``window`` without failures forgets the history. A successful sign-in clears the email's
    record but not the client's, so one valid account cannot be used to reset the counter
    while guessing others' passwords. Clients get a higher threshold because many clinicians
    may share one hospital NAT address.

    Attempts that passed ``check`` but whose outcome is not recorded yet count against the
    threshold, so a burst of concurrent guesses cannot all slip through before the first
    failure lands (an outcome never recorded stops counting after ``pending_ttl``).

    The use case must record failures for unknown emails too, so a lockout never tells
    whether an account exists. State lives in this process: with several API replicas each
    keeps its own counters (an attacker spreading guesses gets up to replicas x the budget);
    a shared store (database, Redis) is the fix when that matters.
    """

    def __init__(
        self,
        clock: Clock,
        max_failures: int = 5,
        client_max_failures: int = 20,
        window: timedelta = timedelta(minutes=15),
        base_lockout: timedelta = timedelta(seconds=30),
        max_lockout: timedelta = timedelta(minutes=15),
        pending_ttl: timedelta = timedelta(seconds=30),
        max_entries: int = 100_000,
    ) -> None:
        if max_failures < 1 or client_max_failures < 1:
            raise ValueError("Failure thresholds must be at least 1.")
        self._clock = clock
        self._limits = {"email": max_failures, "client": client_max_failures}
        self._window = window
        self._base_lockout = base_lockout
        self._max_lockout = max_lockout
        self._pending_ttl = pending_ttl
        self._max_entries = max_entries
        self._records: dict[tuple[str, str], _Record] = {}
        self._lock = threading.Lock()  # no awaits inside: safe for the loop and for threads

    async def check(self, email: str, client: str | None) -> None:
        now = self._clock.now()
        with self._lock:
            keys = self._keys(email, client)
            wait = max((self._wait(key, now) for key in keys), default=timedelta(0))
            if wait <= timedelta(0):
                if len(self._records) >= self._max_entries:
                    self._forget_stale(now)
                for key in keys:
                    self._records.setdefault(key, _Record()).pending.append(now)
        if wait > timedelta(0):
            retry_after = max(1, math.ceil(wait.total_seconds()))
            raise TooManyAttempts(
                f"Too many failed sign-in attempts. Try again in {retry_after} seconds.",
                retry_after=retry_after,
            )

    async def record_failure(self, email: str, client: str | None) -> None:
        now = self._clock.now()
        with self._lock:
            if len(self._records) >= self._max_entries:
                self._forget_stale(now)
            for key in self._keys(email, client):
                self._fail(key, now)

    async def record_success(self, email: str, client: str | None) -> None:
        with self._lock:
            keys = self._keys(email, client)
            self._records.pop(keys[0], None)
            for key in keys[1:]:
                if record := self._records.get(key):
                    _settle(record)

    def _wait(self, key: tuple[str, str], now: datetime) -> timedelta:
        record = self._records.get(key)
        if record is None:
            return timedelta(0)
        if record.locked_until and record.locked_until > now:
            return record.locked_until - now
        record.pending = [at for at in record.pending if now - at < self._pending_ttl]
        recent = [at for at in record.failures if now - at < self._window]
        if len(recent) + len(record.pending) >= self._limits[key[0]]:
            return timedelta(seconds=1)  # others' guesses are in flight: decided in a moment
        return timedelta(0)

    def _fail(self, key: tuple[str, str], now: datetime) -> None:
        record = self._records.setdefault(key, _Record())
        _settle(record)
        if record.last_failure and now - record.last_failure > self._window:
            record.strikes = 0
        record.last_failure = now
        record.failures = [at for at in record.failures if now - at < self._window]
        record.failures.append(now)
        if len(record.failures) >= self._limits[key[0]]:
            lockout = min(self._base_lockout * 2**record.strikes, self._max_lockout)
            record.strikes += 1
            record.locked_until = now + lockout
            record.failures.clear()

    def _forget_stale(self, now: datetime) -> None:
        stale = [
            key
            for key, record in self._records.items()
            if (record.locked_until is None or record.locked_until <= now)
            and (record.last_failure is None or now - record.last_failure > self._window)
            and all(now - at >= self._pending_ttl for at in record.pending)
        ]
        for key in stale:
            del self._records[key]

    @staticmethod
    def _keys(email: str, client: str | None) -> list[tuple[str, str]]:
        keys = [("email", email.strip().lower())]
        if client:
            keys.append(("client", client))
        return keys


def _settle(record: _Record) -> None:
    """One checked attempt has its outcome."""
    if record.pending:
        record.pending.pop(0)
