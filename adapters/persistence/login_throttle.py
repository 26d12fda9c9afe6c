"""Failed sign-in throttling kept in the database, so every API process shares one budget."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.errors import translate_errors
from adapters.persistence.tables import login_throttle
from application.ports import Clock
from domain.errors import TooManyAttempts

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PRUNE_BATCH = 1000


@dataclass(slots=True)
class _Record:
    key: str
    limit: int
    failures: list[datetime] = field(default_factory=list)
    pending: list[datetime] = field(default_factory=list)  # checked, outcome not recorded yet
    lockouts: int = 0  # lockouts served so far; each doubles the next one
    locked_until: datetime | None = None
    last_failure_at: datetime | None = None
    stored: bool = False  # a row exists

    def settle(self) -> None:
        """One checked attempt has its outcome."""
        if self.pending:
            self.pending.pop(0)


class SqlAlchemyLoginThrottle:
    """LoginThrottle port: temporary, growing lockouts per (email, client) pair, per email and
    per client address.

    The pair is what a guesser spends: after ``max_failures`` failures within ``window`` the
    email is locked *for that client address* for ``base_lockout``, doubling with every further
    lockout up to ``max_lockout``; the account's owner signing in from elsewhere is not held
    back, so knowing an email is not enough to lock its owner out. The email on its own is
    locked only after ``account_max_failures`` (much higher: a guess spread over many
    addresses), and a client address after ``client_max_failures`` whatever the emails (many
    clinicians may share one hospital NAT address). A quiet ``window`` without failures
    forgets the history. A successful sign-in clears the pair's and the email's records but
    not the client's, so one valid account cannot be used to reset the counter while guessing
    others' passwords.

    Attempts that passed ``check`` but whose outcome is not recorded yet count against the
    threshold, so a burst of concurrent guesses cannot all slip through before the first
    failure lands (an outcome never recorded stops counting after ``pending_ttl``).

    State lives in the ``login_throttle`` table, so all API processes and replicas share it.
    Every call is its own short transaction, committed before the call returns (a failure is
    counted even when the caller's unit of work rolls back). Rows are locked in key order
    (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway), so
    concurrent attempts on any replica cannot overspend the budget. Keys are SHA-256 digests
    of the normalised email, of the client address and of the pair. Stale rows are deleted
    now and then.

    The use case must record failures for unknown emails too, so a lockout never tells
    whether an account exists.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        max_failures: int = 5,
        client_max_failures: int = 20,
        account_max_failures: int = 50,
        window: timedelta = timedelta(minutes=15),
        base_lockout: timedelta = timedelta(seconds=30),
        max_lockout: timedelta = timedelta(minutes=15),
        pending_ttl: timedelta = timedelta(seconds=30),
        prune_every: timedelta = timedelta(minutes=1),
    ) -> None:
        if min(max_failures, client_max_failures, account_max_failures) < 1:
            raise ValueError("Failure thresholds must be at least 1.")
        self._engine = engine
        self._clock = clock
        self._limits = {
            "pair": max_failures,
            "email": account_max_failures,
            "client": client_max_failures,
        }
        self._window = window
        self._base_lockout = base_lockout
        self._max_lockout = max_lockout
        self._pending_ttl = pending_ttl
        self._prune_every = prune_every
        self._next_prune: datetime | None = None

    async def check(self, email: str, client: str | None) -> None:
        now = self._clock.now()
        keys = self._keys(email, client)
        with translate_errors():
            async with self._engine.connect() as connection:
                records = await self._lock(connection, keys, create=True)
                wait = max(self._wait(record, now) for record in records)
                if wait <= timedelta(0):
                    for record in records:
                        record.pending.append(now)
                    await self._store(connection, records, now)
                    await connection.commit()
                # refused: leaving without commit rolls back, nothing is counted
        if wait > timedelta(0):
            retry_after = max(1, math.ceil(wait.total_seconds()))
            raise TooManyAttempts(
                f"Too many failed sign-in attempts. Try again in {retry_after} seconds.",
                retry_after=retry_after,
            )

    async def record_failure(self, email: str, client: str | None) -> None:
        now = self._clock.now()
        with translate_errors():
            async with self._engine.connect() as connection:
                records = await self._lock(connection, self._keys(email, client), create=True)
                for record in records:
                    self._fail(record, now)
                await self._store(connection, records, now)
                await connection.commit()
            if self._next_prune is None or now >= self._next_prune:
                self._next_prune = now + self._prune_every
                await self._prune(now)

    async def record_success(self, email: str, client: str | None) -> None:
        now = self._clock.now()
        keys = self._keys(email, client)
        cleared = {key for key, _ in keys[:2]}  # the pair's and the email's
        with translate_errors():
            async with self._engine.connect() as connection:
                records = await self._lock(connection, keys, create=False)
                await connection.execute(
                    delete(login_throttle).where(login_throttle.c.key.in_(sorted(cleared)))
                )
                others = [r for r in records if r.key not in cleared and r.stored]
                for record in others:
                    record.settle()
                await self._store(connection, others, now)
                await connection.commit()

    # --- policy -----------------------------------------------------------------------------

    def _wait(self, record: _Record, now: datetime) -> timedelta:
        if record.locked_until and record.locked_until > now:
            return record.locked_until - now
        pending = [at for at in record.pending if now - at < self._pending_ttl]
        recent = [at for at in record.failures if now - at < self._window]
        if len(recent) + len(pending) >= record.limit:
            return timedelta(seconds=1)  # others' guesses are in flight: decided in a moment
        return timedelta(0)

    def _fail(self, record: _Record, now: datetime) -> None:
        record.settle()
        if record.last_failure_at and now - record.last_failure_at > self._window:
            record.lockouts = 0
        record.last_failure_at = now
        record.failures = [at for at in record.failures if now - at < self._window]
        record.failures.append(now)
        if len(record.failures) >= record.limit:
            lockout = min(self._base_lockout * 2**record.lockouts, self._max_lockout)
            record.lockouts += 1
            record.locked_until = now + lockout
            record.failures.clear()

    def _keys(self, email: str, client: str | None) -> list[tuple[str, int]]:
        """(digest, limit) of the pair, the email and (when known) the client, in that order."""
        address = email.strip().lower()
        keys = [
            (_digest("pair", f"{address}\n{client or ''}"), self._limits["pair"]),
            (_digest("email", address), self._limits["email"]),
        ]
        if client:
            keys.append((_digest("client", client), self._limits["client"]))
        return keys

    # --- storage ----------------------------------------------------------------------------

    async def _lock(
        self, connection: AsyncConnection, keys: list[tuple[str, int]], *, create: bool
    ) -> list[_Record]:
        """The records of `keys`, their rows locked until the transaction ends."""
        limits = dict(keys)
        ordered = sorted(limits)  # one lock order everywhere: no deadlocks between callers
        if create:
            # an existing row to lock, so two first attempts on a new key serialise too
            # (on SQLite this statement also takes the database's write lock)
            insert = _insert_for(connection).values(
                [{"key": key, "expires_at": _EPOCH} for key in ordered]
            )
            await connection.execute(insert.on_conflict_do_nothing(index_elements=["key"]))
        rows = await connection.execute(
            select(login_throttle)
            .where(login_throttle.c.key.in_(ordered))
            .order_by(login_throttle.c.key)
            .with_for_update()
        )
        found = {row.key: _record(row._mapping, limits[row.key]) for row in rows}
        return [found.get(key) or _Record(key, limit) for key, limit in keys]

    async def _store(
        self, connection: AsyncConnection, records: Iterable[_Record], now: datetime
    ) -> None:
        for record in records:
            record.failures = [at for at in record.failures if now - at < self._window]
            record.pending = [at for at in record.pending if now - at < self._pending_ttl]
            ends = [now]
            if record.locked_until:
                ends.append(record.locked_until)
            if record.last_failure_at:
                ends.append(record.last_failure_at + self._window)
            ends.extend(at + self._pending_ttl for at in record.pending)
            values = {
                "failures": _encode(record.failures),
                "pending": _encode(record.pending),
                "lockouts": record.lockouts,
                "locked_until": record.locked_until,
                "last_failure_at": record.last_failure_at,
                "expires_at": max(ends),
            }
            # an upsert: a row pruned between our insert and our select comes back
            upsert = _insert_for(connection).values(key=record.key, **values)
            await connection.execute(
                upsert.on_conflict_do_update(index_elements=["key"], set_=values)
            )

    async def _prune(self, now: datetime) -> None:
        """Forget rows nobody is locked out by and that count nothing any more."""
        stale = (
            select(login_throttle.c.key)
            .where(login_throttle.c.expires_at < now)
            .limit(_PRUNE_BATCH)
            .with_for_update(skip_locked=True)  # PostgreSQL: never wait on a sign-in
        )
        async with self._engine.begin() as connection:
            await connection.execute(delete(login_throttle).where(login_throttle.c.key.in_(stale)))


def _insert_for(connection: AsyncConnection) -> Any:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(login_throttle)
    if dialect == "sqlite":
        return sqlite.insert(login_throttle)
    raise ValueError(f"Unsupported database backend {dialect!r}")


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _record(row: RowMapping, limit: int) -> _Record:
    return _Record(
        key=row["key"],
        limit=limit,
        failures=_decode(row["failures"]),
        pending=_decode(row["pending"]),
        lockouts=row["lockouts"],
        locked_until=row["locked_until"],
        last_failure_at=row["last_failure_at"],
        stored=True,
    )


def _encode(moments: list[datetime]) -> str:
    return " ".join(str((moment - _EPOCH) // timedelta(microseconds=1)) for moment in moments)


def _decode(text: str) -> list[datetime]:
    return [_EPOCH + timedelta(microseconds=int(part)) for part in text.split()]
