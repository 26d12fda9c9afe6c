"""In-memory fakes for every port in application/ports.py, faithful enough to test use cases.

They hold state and behave like the real adapters (transactions that only persist on commit,
tokens that expire, lock-outs that lift); tests assert on that state, not on calls.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import hmac
import math
import re
import secrets
from array import array
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self
from uuid import UUID

from application.ports import (
    AuditEntry,
    AuditLog,
    AuditQuery,
    CamGrid,
    Classification,
    DatabaseStatus,
    DecodedImage,
    ImageFindings,
    IssuedToken,
    ModelInfo,
    PacsInstance,
    PacsStudy,
    Page,
    PredictionQuery,
    PredictionRepository,
    ResultObjects,
    RetrievedStudy,
    StudyQuery,
    StudyReport,
    StudyRepository,
    Tensor,
    TokenClaims,
    UserRepository,
)
from domain.errors import (
    Conflict,
    DatabaseUnavailable,
    ErrorCode,
    ImageTooLarge,
    InvalidImage,
    InvalidInput,
    ModelUnavailable,
    NotAuthenticated,
    NotFound,
    PacsUnavailable,
    TooManyAttempts,
    UnsupportedImageFormat,
)
from domain.lesions import BoundingBox, LesionFinding
from domain.performance import OutcomePoint
from domain.predictions import Prediction, Statistics, prediction_not_found, summarise
from domain.studies import ImagePosition, Study, StudySummary, study_not_found
from domain.users import User, email_taken, user_not_found

# --- time --------------------------------------------------------------------------------


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FakeClock needs timezone-aware datetimes")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> None:
        self._now += delta if delta is not None else timedelta(**kwargs)


# --- persistence -------------------------------------------------------------------------


@dataclass
class FakeDatabase:
    """What the fake repositories store: plain dicts, copied per transaction."""

    users: dict[UUID, User] = field(default_factory=dict)
    predictions: dict[UUID, Prediction] = field(default_factory=dict)
    cams: dict[UUID, CamGrid | None] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    studies: dict[UUID, Study] = field(default_factory=dict)

    def copy(self) -> FakeDatabase:
        # Entities are frozen, so copying the containers isolates a transaction.
        return FakeDatabase(
            dict(self.users),
            dict(self.predictions),
            dict(self.cams),
            list(self.audit),
            studies=dict(self.studies),
        )


StateSource = FakeDatabase | Callable[[], FakeDatabase]


class _FakeRepository:
    """Reads the database it is given, or the current transaction's copy of it."""

    def __init__(self, state: StateSource) -> None:
        self._state = state

    @property
    def _db(self) -> FakeDatabase:
        return self._state if isinstance(self._state, FakeDatabase) else self._state()


class FakeUserRepository(_FakeRepository):
    """UserRepository over a FakeDatabase; emails are unique like the real table's index."""

    async def add(self, user: User) -> None:
        if user.id in self._db.users:
            raise Conflict("A user with this id already exists.")
        if any(u.email == user.email for u in self._db.users.values()):
            raise email_taken()
        self._db.users[user.id] = user

    async def get(self, user_id: UUID) -> User | None:
        return self._db.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self._db.users.values() if u.email == email), None)

    async def update(self, user: User) -> None:
        if user.id not in self._db.users:
            raise user_not_found()
        if any(u.email == user.email and u.id != user.id for u in self._db.users.values()):
            raise email_taken()
        self._db.users[user.id] = user

    async def list(self, offset: int, limit: int) -> Page[User]:
        users = sorted(self._db.users.values(), key=lambda u: (u.created_at, u.email))
        return Page(users[offset : offset + limit], len(users), offset, limit)

    async def count(self) -> int:
        return len(self._db.users)


def _matches(p: Prediction, q: PredictionQuery) -> bool:
    return (
        (q.owner_id is None or p.owner_id == q.owner_id)
        and (q.label is None or p.label is q.label)
        and (q.created_from is None or p.created_at >= q.created_from)
        and (q.created_to is None or p.created_at < q.created_to)
        and (q.reviewed is None or (p.review is not None) == q.reviewed)
        and (not q.filename_contains or q.filename_contains.lower() in p.filename.lower())
        and (not q.bands or p.likelihood.band in q.bands)
    )


class FakePredictionRepository(_FakeRepository):
    """PredictionRepository over a FakeDatabase; newest first, like the real one."""

    async def add(self, prediction: Prediction, cam: CamGrid | None) -> None:
        if prediction.id in self._db.predictions:
            raise Conflict("A prediction with this id already exists.")
        if prediction.owner_id not in self._db.users:
            raise NotFound("The owner of this prediction does not exist.")
        if prediction.study_id is not None and prediction.study_id not in self._db.studies:
            raise Conflict("The study of this prediction does not exist.")
        self._db.predictions[prediction.id] = prediction
        self._db.cams[prediction.id] = cam

    async def get(self, prediction_id: UUID) -> Prediction | None:
        return self._db.predictions.get(prediction_id)

    async def get_cam(self, prediction_id: UUID) -> CamGrid | None:
        return self._db.cams.get(prediction_id)

    async def update_review(self, prediction: Prediction) -> None:
        stored = self._db.predictions.get(prediction.id)
        if stored is None:
            raise prediction_not_found()
        # Only the review changes; the model's output is never overwritten.
        self._db.predictions[prediction.id] = replace(stored, review=prediction.review)

    async def update_outcome(self, prediction: Prediction) -> None:
        stored = self._db.predictions.get(prediction.id)
        if stored is None:
            raise prediction_not_found()
        self._db.predictions[prediction.id] = replace(stored, outcome=prediction.outcome)

    async def delete(self, prediction_id: UUID) -> None:
        self._db.predictions.pop(prediction_id, None)
        self._db.cams.pop(prediction_id, None)

    async def list(self, query: PredictionQuery) -> Page[Prediction]:
        selected = await self.all_matching(query)
        return Page(
            selected[query.offset : query.offset + query.limit],
            len(selected),
            query.offset,
            query.limit,
        )

    async def all_matching(self, query: PredictionQuery) -> builtins.list[Prediction]:
        selected = [p for p in self._db.predictions.values() if _matches(p, query)]
        return sorted(selected, key=lambda p: (p.created_at, str(p.id)), reverse=True)

    async def count_with_image(self, image_sha256: str) -> int:
        return sum(1 for p in self._db.predictions.values() if image_sha256 in p.stored_files)

    async def images_in_use(self, digests: Sequence[str]) -> set[str]:
        used = {sha for p in self._db.predictions.values() for sha in p.stored_files}
        return used & set(digests)


def _study_matches(study: Study, images: list[Prediction], q: StudyQuery) -> bool:
    def contains(text: str | None, fragment: str | None) -> bool:
        return not fragment or fragment.lower() in (text or "").lower()

    return (
        (q.owner_id is None or study.owner_id == q.owner_id)
        and contains(study.patient_ref, q.patient_ref_contains)
        and contains(study.accession_number, q.accession_contains)
        and (q.date_from is None or study.study_date >= q.date_from)
        and (q.date_to is None or study.study_date <= q.date_to)
        and (q.band is None or any(p.likelihood.band == q.band for p in images))
        and (
            q.reviewed is None
            or (
                bool(images) and all(p.review is not None for p in images)
                if q.reviewed
                else any(p.review is None for p in images)
            )
        )
    )


class FakeStudyRepository(_FakeRepository):
    """StudyRepository over a FakeDatabase; a study UID is unique per owner, like the table."""

    async def add(self, study: Study) -> None:
        if study.id in self._db.studies:
            raise Conflict("A study with this id already exists.")
        if study.owner_id not in self._db.users:
            raise NotFound("The owner of this study does not exist.")
        self._check_uid(study)
        self._db.studies[study.id] = study

    async def get(self, study_id: UUID) -> Study | None:
        return self._db.studies.get(study_id)

    async def get_many(self, study_ids: Sequence[UUID]) -> dict[UUID, Study]:
        return {i: self._db.studies[i] for i in study_ids if i in self._db.studies}

    async def get_by_uid(self, owner_id: UUID, study_instance_uid: str) -> Study | None:
        return next(
            (
                s
                for s in self._db.studies.values()
                if s.owner_id == owner_id and s.study_instance_uid == study_instance_uid
            ),
            None,
        )

    async def update(self, study: Study) -> None:
        stored = self._db.studies.get(study.id)
        if stored is None:
            raise study_not_found()
        self._check_uid(study)
        self._db.studies[study.id] = replace(
            study, owner_id=stored.owner_id, created_at=stored.created_at
        )

    async def delete(self, study_id: UUID) -> None:
        self._db.studies.pop(study_id, None)
        for p in (p for p in self._db.predictions.values() if p.study_id == study_id):
            self._db.predictions[p.id] = replace(p, study_id=None, position=None)

    async def place(self, prediction_id: UUID, position: ImagePosition | None) -> None:
        prediction = self._db.predictions.get(prediction_id)
        if prediction is None or prediction.study_id is None:
            raise prediction_not_found()
        self._db.predictions[prediction_id] = replace(prediction, position=position)

    async def list(self, query: StudyQuery) -> Page[StudySummary]:
        images = await self.images(list(self._db.studies))
        selected = sorted(
            (s for s in self._db.studies.values() if _study_matches(s, images[s.id], query)),
            key=lambda s: (s.study_date, s.created_at, str(s.id)),
            reverse=True,
        )
        summaries = [
            StudySummary(
                study=s,
                image_count=len(images[s.id]),
                reviewed_count=sum(p.review is not None for p in images[s.id]),
                max_p_malignant=max((p.p_malignant for p in images[s.id]), default=None),
            )
            for s in selected[query.offset : query.offset + query.limit]
        ]
        return Page(summaries, len(selected), query.offset, query.limit)

    async def of_patient(self, patient_ref: str, owner_id: UUID | None) -> builtins.list[Study]:
        return [
            s
            for s in self._db.studies.values()
            if s.patient_ref == patient_ref and (owner_id is None or s.owner_id == owner_id)
        ]

    async def images(self, study_ids: Sequence[UUID]) -> dict[UUID, builtins.list[Prediction]]:
        found: dict[UUID, builtins.list[Prediction]] = {study_id: [] for study_id in study_ids}
        ordered = sorted(self._db.predictions.values(), key=lambda p: (p.created_at, str(p.id)))
        for prediction in ordered:
            if prediction.study_id in found:
                found[prediction.study_id].append(prediction)
        return found

    def _check_uid(self, study: Study) -> None:
        if study.study_instance_uid is None:
            return
        if any(
            s.owner_id == study.owner_id
            and s.study_instance_uid == study.study_instance_uid
            and s.id != study.id
            for s in self._db.studies.values()
        ):
            raise Conflict("A study with this UID exists.", ErrorCode.STUDY_UID_TAKEN)


class FakeStatisticsReader:
    """StatisticsReader over a FakeDatabase's committed state, by the domain's own definition."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def summarise(self, query: PredictionQuery, bins: int = 10) -> Statistics:
        selected = [p for p in self.db.predictions.values() if _matches(p, query)]
        return summarise(selected, bins)


class FakePerformanceReader:
    """PerformanceReader over a FakeDatabase's committed state, oldest first like the real one."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def outcome_points(self, query: PredictionQuery) -> builtins.list[OutcomePoint]:
        selected = sorted(
            (p for p in self.db.predictions.values() if p.outcome and _matches(p, query)),
            key=lambda p: (p.created_at, str(p.id)),
        )
        return [
            OutcomePoint(
                p_malignant=p.p_malignant,
                threshold=p.threshold,
                malignant=p.outcome.malignant,
                model_version=p.model_version,
                analysed_on=p.created_at.astimezone(UTC).date(),
                birads=p.review.birads if p.review else None,
            )
            for p in selected
            if p.outcome
        ]


class FakeAuditLog(_FakeRepository):
    """Append-only AuditLog over a FakeDatabase; newest first."""

    async def record(self, entry: AuditEntry) -> None:
        self._db.audit.append(entry)

    async def list(self, query: AuditQuery) -> Page[AuditEntry]:
        selected = [
            e
            for e in self._db.audit
            if (query.actor_id is None or e.actor_id == query.actor_id)
            and (query.action is None or e.action == query.action)
            and (query.at_from is None or e.at >= query.at_from)
            and (query.at_to is None or e.at < query.at_to)
        ]
        # Stable newest-first: later records win ties on the timestamp.
        ordered = [e for _, e in sorted(enumerate(selected), key=lambda t: (t[1].at, t[0]))][::-1]
        return Page(
            ordered[query.offset : query.offset + query.limit],
            len(ordered),
            query.offset,
            query.limit,
        )


class FakeUnitOfWork:
    """UnitOfWork over a shared FakeDatabase: changes land only on commit(), else roll back.

    Like the SQLAlchemy one, each `async with` is a fresh transaction (here: a private copy of
    the database), kept per task in a ContextVar, so one instance serves concurrent callers
    and can be entered again; repositories used outside a block raise.
    """

    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.db = db if db is not None else FakeDatabase()
        self.commits = 0
        self._current: ContextVar[list[FakeDatabase]] = ContextVar(f"fake-uow-{id(self)}")
        self.users: UserRepository = FakeUserRepository(self._transaction)
        self.predictions: PredictionRepository = FakePredictionRepository(self._transaction)
        self.studies: StudyRepository = FakeStudyRepository(self._transaction)
        self.audit: AuditLog = FakeAuditLog(self._transaction)

    def _stack(self) -> list[FakeDatabase]:
        return self._current.get([])

    def _transaction(self) -> FakeDatabase:
        stack = self._stack()
        if not stack:
            raise RuntimeError("Use the unit of work inside `async with uow:`.")
        return stack[-1]

    async def __aenter__(self) -> Self:
        self._current.set([*self._stack(), self.db.copy()])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack = self._stack()
        if not stack:
            raise RuntimeError("unit of work exited without being entered")
        self._current.set(stack[:-1])  # the uncommitted copy is simply dropped

    async def commit(self) -> None:
        committed = self._transaction().copy()
        self.db.users, self.db.predictions = committed.users, committed.predictions
        self.db.cams, self.db.audit = committed.cams, committed.audit
        self.db.studies = committed.studies
        self.commits += 1

    async def rollback(self) -> None:
        transaction, fresh = self._transaction(), self.db.copy()
        transaction.users, transaction.predictions = fresh.users, fresh.predictions
        transaction.cams, transaction.audit = fresh.cams, fresh.audit
        transaction.studies = fresh.studies


class FakeHealthProbe:
    """HealthProbe answering like SqlAlchemyHealthProbe from two switches."""

    def __init__(self, reachable: bool = True, at_head: bool = True) -> None:
        self.reachable = reachable
        self.at_head = at_head

    async def check(self) -> DatabaseStatus:
        if not self.reachable:
            raise DatabaseUnavailable("The database is unavailable (fake).")
        return DatabaseStatus(
            backend="fake", revision="0001" if self.at_head else "0000", head="0001"
        )


# --- security ----------------------------------------------------------------------------


class FakePasswordHasher:
    """Salted, iterated SHA-256: one-way and cheap. `rounds` plays the cost parameter."""

    def __init__(self, rounds: int = 2) -> None:
        self.rounds = rounds
        self.verifications = 0

    def _digest(self, salt: str, password: str, rounds: int) -> str:
        digest = f"{salt}:{password}".encode()
        for _ in range(rounds):
            digest = hashlib.sha256(digest).digest()
        return digest.hex()

    async def hash(self, password: str) -> str:
        salt = secrets.token_hex(8)
        return f"$fake$r={self.rounds}${salt}${self._digest(salt, password, self.rounds)}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        parsed = self._parse(password_hash)
        if parsed is None:
            return False
        rounds, salt, digest = parsed
        return hmac.compare_digest(digest, self._digest(salt, password, rounds))

    def needs_rehash(self, password_hash: str) -> bool:
        parsed = self._parse(password_hash)
        return parsed is None or parsed[0] != self.rounds

    @staticmethod
    def _parse(password_hash: str) -> tuple[int, str, str] | None:
        parts = password_hash.split("$")
        if len(parts) != 5 or parts[1] != "fake" or not parts[2].startswith("r="):
            return None
        try:
            rounds = int(parts[2][2:])
        except ValueError:
            return None
        return (rounds, parts[3], parts[4]) if rounds > 0 else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FakeTokenService:
    """HMAC-signed tokens carrying user id, token version, jti and expiry, checked on a clock."""

    def __init__(
        self, clock: FakeClock, ttl: timedelta = timedelta(minutes=30), key: bytes | None = None
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._key = key or secrets.token_bytes(32)

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, user: User) -> IssuedToken:
        expires_at = self._clock.now() + self._ttl
        expiry_us = (expires_at - _EPOCH) // timedelta(microseconds=1)
        body = f"{user.id}.{user.token_version}.{secrets.token_hex(8)}.{expiry_us}"
        return IssuedToken(token=f"{body}.{self._sign(body)}", expires_at=expires_at)

    def decode(self, token: str) -> TokenClaims:
        body, _, signature = token.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            raise NotAuthenticated("Invalid token.")
        try:
            user_id, version, jti, expiry = body.split(".", 3)
            claims = TokenClaims(
                user_id=UUID(user_id),
                token_version=int(version),
                jti=jti,
                expires_at=_EPOCH + timedelta(microseconds=int(expiry)),
            )
        except ValueError:
            raise NotAuthenticated("Invalid token.") from None
        if self._clock.now() >= claims.expires_at:
            raise NotAuthenticated("The token has expired.")
        return claims


class FakePasswordStrength:
    """Scores 0 for a few well-known weak passwords and anything with fewer than six distinct
    characters or containing a hint of four characters or more, 4 otherwise."""

    WEAK = frozenset({"password1!", "password123", "qwerty123", "letmein!!"})

    def score(self, password: str, hints: Sequence[str]) -> int:
        lowered = password.lower()
        if lowered in self.WEAK or len(set(lowered)) < 6:
            return 0
        return 0 if any(len(hint) >= 4 and hint.lower() in lowered for hint in hints) else 4


class FakeLoginThrottle:
    """Locks an (email, client) pair after `max_failures`, an email after
    `account_max_failures` and a client address after `client_max_failures` failures within
    `window`, for `lockout`; a success clears the pair's and the account's counts.
    """

    def __init__(
        self,
        clock: FakeClock,
        max_failures: int = 5,
        client_max_failures: int = 20,
        account_max_failures: int = 50,
        lockout: timedelta = timedelta(minutes=15),
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self._clock = clock
        self._limits = {
            "pair": max_failures,
            "email": account_max_failures,
            "client": client_max_failures,
        }
        self._lockout = lockout
        self._window = window
        self._failures: dict[tuple[str, str], list[datetime]] = {}
        self._locked_until: dict[tuple[str, str], datetime] = {}

    @staticmethod
    def _keys(email: str, client: str | None) -> list[tuple[str, str]]:
        address = email.strip().lower()
        keys = [("pair", f"{address}\n{client or ''}"), ("email", address)]
        return keys + ([("client", client)] if client else [])

    async def check(self, email: str, client: str | None) -> None:
        now = self._clock.now()
        waits = [
            until - now
            for key in self._keys(email, client)
            if (until := self._locked_until.get(key)) is not None and now < until
        ]
        if waits:
            retry_after = max(1, math.ceil(max(waits).total_seconds()))
            raise TooManyAttempts(
                f"Too many failed sign-ins; try again in {retry_after} seconds.",
                retry_after=retry_after,
            )

    async def record_failure(self, email: str, client: str | None) -> None:
        now = self._clock.now()
        for key in self._keys(email, client):
            recent = [t for t in self._failures.get(key, []) if now - t < self._window]
            recent.append(now)
            self._failures[key] = recent
            if len(recent) >= self._limits[key[0]]:
                self._locked_until[key] = now + self._lockout
                self._failures[key] = []

    async def record_success(self, email: str, client: str | None) -> None:
        for key in self._keys(email, client)[:2]:
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)


# --- images and inference ----------------------------------------------------------------

_SHA256 = re.compile(r"[0-9a-f]{64}")
FAKE_IMAGE_MARKER = b"FAKEIMG"
FAKE_IMAGE_END = b"\nFAKEEND"
MODEL_INPUT_SIZE = 128


def fake_image(seed: str = "a", level: int = 128, width: int = 256, height: int = 256) -> bytes:
    """Bytes the FakeImageDecoder accepts; `level` (0-255) drives the fake model's output."""
    return FAKE_IMAGE_MARKER + f" {width} {height} {level}\n{seed}".encode() + FAKE_IMAGE_END


class FakeImageDecoder:
    """Accepts `fake_image()` bytes; refuses others like the real decoder refuses non-images."""

    def __init__(self, max_bytes: int = 10 * 1024 * 1024, max_pixels: int = 4096 * 4096) -> None:
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels

    async def decode(self, data: bytes, filename: str, frame: int | None = None) -> DecodedImage:
        if len(data) > self.max_bytes:
            raise ImageTooLarge(
                f"{filename}: the file exceeds {self.max_bytes} bytes.",
                ErrorCode.IMAGE_TOO_MANY_BYTES,
                filename=filename,
                size_mb=round(len(data) / 2**20, 1),
                limit_mb=round(self.max_bytes / 2**20),
            )
        if not data.startswith(FAKE_IMAGE_MARKER):
            raise UnsupportedImageFormat(
                f"{filename}: not a PNG or JPEG image.",
                ErrorCode.IMAGE_FORMAT_NOT_ACCEPTED,
                filename=filename,
                formats=("PNG", "JPEG"),
            )
        header, _, _seed = data[len(FAKE_IMAGE_MARKER) :].partition(b"\n")
        try:
            width, height, level = (int(v) for v in header.split())
        except ValueError:
            width = height = level = -1
        if not data.endswith(FAKE_IMAGE_END) or width <= 0 or height <= 0 or not 0 <= level <= 255:
            raise InvalidImage(
                f"{filename}: the image is truncated or corrupt.",
                ErrorCode.IMAGE_CORRUPT,
                filename=filename,
                reason="fake",
            )
        if width * height > self.max_pixels:
            raise ImageTooLarge(
                f"{filename}: {width}x{height} pixels is too many.",
                ErrorCode.IMAGE_TOO_MANY_PIXELS,
                filename=filename,
                width=width,
                height=height,
                limit=self.max_pixels,
            )
        if frame is not None and frame != 0:
            raise InvalidImage(
                f"{filename} is a still image: it has no frame {frame}.",
                ErrorCode.IMAGE_SINGLE_FRAME,
                filename=filename,
                frame=frame,
            )
        stored_image = b"\x89PNG\r\n\x1a\n" + data[len(FAKE_IMAGE_MARKER) :]
        return DecodedImage(
            model_input=bytes([level]) * (MODEL_INPUT_SIZE * MODEL_INPUT_SIZE * 3),
            stored_image=stored_image,
            sha256=hashlib.sha256(stored_image).hexdigest(),
            width=width,
            height=height,
            source_format="PNG",
        )


def fake_lesion(image: DecodedImage, p: float) -> LesionFinding:
    """The fake model's lesion: none below p = 0.5, else the middle quarter (by side) of the
    stored image's centre square, so area_fraction is 1/16."""
    if p < 0.5:
        return LesionFinding.none_found(max_probability=p)
    width, height = image.stored_size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    edge = max(1, side // 4)
    x, y = left + (side - edge) // 2, top + (side - edge) // 2
    spacing = image.pixel_spacing_mm
    return LesionFinding(
        found=True,
        area_fraction=1 / 16,
        max_probability=p,
        area_mm2=None if spacing is None else side * side / 16 * spacing[0] * spacing[1],
        bbox=BoundingBox(x, y, edge, edge),
        outline=((x, y), (x + edge, y), (x + edge, y + edge), (x, y + edge)),
    )


class FakeTumorClassifier:
    """P(malignant) = mean pixel intensity / 255: deterministic from the image bytes.

    With `lesion` (the default, like model 2.0) each result carries `fake_lesion`'s finding;
    without it, like model 1.x, none.
    """

    def __init__(
        self,
        version: str = "fake-1",
        threshold: float = 0.5,
        cam_size: int = 4,
        lesion: bool = True,
        sensitivity_floor: float | None = None,
    ) -> None:
        self.available = True
        self._cam_size = cam_size
        self._lesion = lesion
        self._model = ModelInfo(
            version=version,
            threshold=threshold,
            positive_class="malignant",
            input_size=MODEL_INPUT_SIZE,
            providers=("FakeExecutionProvider",),
            metadata={"model_version": version, "threshold": str(threshold), "val_auc": "0.9"},
            has_lesion_output=lesion,
            lesion_threshold=0.5 if lesion else None,
            sensitivity_floor=sensitivity_floor,
        )

    @property
    def model(self) -> ModelInfo:
        return self._model

    async def classify(self, images: Sequence[DecodedImage]) -> list[Classification]:
        if not self.available:
            raise ModelUnavailable("The model is not loaded.")
        results = []
        for image in images:
            expected = MODEL_INPUT_SIZE * MODEL_INPUT_SIZE * 3
            if len(image.model_input) != expected:
                raise InvalidImage(
                    f"Decoded image has {len(image.model_input)} bytes, expected {expected}."
                )
            p = sum(image.model_input) / (255 * len(image.model_input))
            lesion = fake_lesion(image, p) if self._lesion else None
            results.append(Classification(p_malignant=p, cam=self._cam(p), lesion=lesion))
        return results

    def _cam(self, p: float) -> CamGrid:
        size = self._cam_size
        return tuple(
            tuple(p * (r + c) / (2 * (size - 1)) for c in range(size)) for r in range(size)
        )

    async def infer(self, image: Tensor) -> tuple[Tensor, ...]:
        """Raw outputs as `classify` computes them; the lesion map is the red channel / 255."""
        if not self.available:
            raise ModelUnavailable("The model is not loaded.")
        size = MODEL_INPUT_SIZE * MODEL_INPUT_SIZE * 3
        images = [image.data[i : i + size] for i in range(0, len(image.data), size)]
        probs = [sum(pixels) / (255 * size) for pixels in images]
        cams = (v for p in probs for row in self._cam(p) for v in row)
        count, side = len(images), self._cam_size
        outputs = [
            Tensor("p_malignant", "FP32", (count,), array("f", probs).tobytes()),
            Tensor("cam", "FP32", (count, side, side), array("f", cams).tobytes()),
        ]
        if self._lesion:
            red = (v / 255 for pixels in images for v in pixels[::3])
            shape = (count, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE)
            outputs.append(Tensor("lesion", "FP32", shape, array("f", red).tobytes()))
        return tuple(outputs)


class FakeHeatmapRenderer:
    """Returns PNG-signed bytes naming the image, the CAM grid and the opacity it was given."""

    async def render(self, stored_image: bytes, cam: CamGrid, opacity: float = 0.45) -> bytes:
        if not cam or not cam[0]:
            raise ValueError("empty class-activation map")
        if not 0.0 <= opacity <= 1.0:
            raise ValueError("opacity must lie in [0, 1]")
        digest = hashlib.sha256(stored_image).hexdigest()
        grid = f"{len(cam)}x{len(cam[0])}"
        return b"\x89PNG\r\n\x1a\n" + f"overlay {digest} {grid} {opacity:.2f}".encode()


class FakeLesionRenderer:
    """Returns PNG-signed bytes naming the image and the box of the outline it was given."""

    async def render(self, stored_image: bytes, lesion: LesionFinding) -> bytes:
        if not lesion.found or lesion.bbox is None or len(lesion.outline) < 3:
            raise ValueError("Only a found lesion has an outline to draw.")
        digest = hashlib.sha256(stored_image).hexdigest()
        box = lesion.bbox
        text = f"lesion {digest} {box.x},{box.y} {box.width}x{box.height} {len(lesion.outline)}"
        return b"\x89PNG\r\n\x1a\n" + text.encode()


class FakeReportRenderer:
    """Keeps every report it is given; the "PDF" names the patient and the counts."""

    def __init__(self) -> None:
        self.reports: list[StudyReport] = []

    async def render(self, report: StudyReport) -> bytes:
        self.reports.append(report)
        counts = f"{len(report.lesions)} lesions {len(report.unplaced)} unplaced"
        return f"%PDF-fake {report.patient_ref} {report.language} {counts}".encode()


class FakeImageStore:
    """Content-addressed ImageStore in a dict; checks addresses like the filesystem store."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.written: dict[str, datetime] = {}  # when each was last put (tests may age them)

    @staticmethod
    def _check(sha256: str) -> str:
        if not _SHA256.fullmatch(sha256):
            raise InvalidInput("An image address must be 64 lower-case hexadecimal digits.")
        return sha256

    async def put(self, sha256: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != self._check(sha256):
            raise InvalidInput("The image bytes do not match their content address.")
        self.blobs[sha256] = data
        self.written[sha256] = datetime.now(UTC)

    async def get(self, sha256: str) -> bytes:
        try:
            return self.blobs[self._check(sha256)]
        except KeyError:
            raise NotFound("The stored image is missing.", ErrorCode.STORED_IMAGE_MISSING) from None

    async def delete(self, sha256: str) -> None:
        self.blobs.pop(self._check(sha256), None)

    async def exists(self, sha256: str) -> bool:
        return self._check(sha256) in self.blobs

    async def stored_before(self, cutoff: datetime) -> list[str]:
        return [sha for sha, at in self.written.items() if at < cutoff and sha in self.blobs]

    async def delete_if_stored_before(self, sha256: str, cutoff: datetime) -> bool:
        if self._check(sha256) not in self.blobs or self.written[sha256] >= cutoff:
            return False
        del self.blobs[sha256]
        return True


# --- PACS ------------------------------------------------------------------------------


class FakePacsClient:
    """An in-memory PACS: studies seeded with `hold`; `unreachable` fails every call,
    `withhold` keeps some instances out of a retrieve (a partial retrieve)."""

    def __init__(self) -> None:
        self.studies: dict[str, PacsStudy] = {}
        self.instances: dict[str, list[PacsInstance]] = {}
        # (study UID, manufacturer) -> the reports stored, oldest first
        self.reports: dict[tuple[str, str], list[bytes]] = {}
        self.stored: list[bytes] = []
        self.unreachable = False
        self.withhold: set[str] = set()

    def hold(self, study: PacsStudy, instances: Sequence[PacsInstance]) -> None:
        self.studies[study.study_instance_uid] = study
        self.instances[study.study_instance_uid] = list(instances)

    def _check(self) -> None:
        if self.unreachable:
            raise PacsUnavailable("The fake PACS cannot be reached.")

    async def find_studies(
        self, patient_id: str | None, accession_number: str | None, limit: int = 50
    ) -> list[PacsStudy]:
        self._check()
        return [
            s
            for s in self.studies.values()
            if (patient_id is None or s.patient_id == patient_id)
            and (accession_number is None or s.accession_number == accession_number)
        ][:limit]

    async def retrieve_study(self, study_instance_uid: str) -> RetrievedStudy:
        self._check()
        if study_instance_uid not in self.instances:
            raise NotFound("Not on the PACS.", ErrorCode.PACS_STUDY_NOT_FOUND)
        held = self.instances[study_instance_uid]
        return RetrievedStudy(
            study_instance_uid=study_instance_uid,
            instances=tuple(i for i in held if i.sop_instance_uid not in self.withhold),
            missing=tuple(i.sop_instance_uid for i in held if i.sop_instance_uid in self.withhold),
        )

    async def retrieve_instance(
        self, study_instance_uid: str, series_instance_uid: str, sop_instance_uid: str
    ) -> bytes:
        for instance in (await self.retrieve_study(study_instance_uid)).instances:
            if instance.sop_instance_uid == sop_instance_uid:
                return instance.data
        raise NotFound("Not on the PACS.", ErrorCode.PACS_STUDY_NOT_FOUND)

    async def find_results(self, study_instance_uid: str, manufacturer: str) -> list[bytes]:
        self._check()
        return list(self.reports.get((study_instance_uid, manufacturer), []))

    async def store(self, objects: Sequence[bytes]) -> None:
        self._check()
        self.stored.extend(objects)
        for data in objects:  # FakeResultDocumentBuilder's reports name study and maker
            if data.startswith(b"SR "):
                _, study, maker, *_ = data.decode().split()
                self.reports.setdefault((study, maker), []).append(data)


class FakeResultDocumentBuilder:
    """Writes b"SR <study uid> <manufacturer> <n> <report uid>" reports (n: the version) and
    one b"SEG" per outline; keeps what it was given."""

    manufacturer = "Breastscan"

    def __init__(self, study_uid: str) -> None:
        self.study_uid = study_uid
        self.calls: list[tuple[list[ImageFindings], list[bytes]]] = []

    async def build(
        self, findings: Sequence[ImageFindings], previous: Sequence[bytes]
    ) -> ResultObjects:
        self.calls.append((list(findings), list(previous)))
        uid = f"2.25.{len(self.calls)}"
        outlined = [f for f in findings if f.lesion is not None and f.lesion.found]
        return ResultObjects(
            report=f"SR {self.study_uid} {self.manufacturer} {len(previous) + 1} {uid}".encode(),
            report_uid=uid,
            segmentations=tuple(b"SEG" for _ in outlined),
        )
