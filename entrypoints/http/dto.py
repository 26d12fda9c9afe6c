"""Wire formats of the HTTP API (msgspec structs) and their mapping from domain objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import msgspec

from application.commands import Analysis, Readiness, Session, StoredOutcome
from application.ports import AuditEntry, ModelInfo, Page
from domain.lesions import LesionFinding
from domain.predictions import Label, Prediction, Review, Statistics, Verdict
from domain.users import Role, User
from entrypoints.http.errors import ErrorBody, domain_error_body
from entrypoints.settings import API_PREFIX

T = TypeVar("T")
E = TypeVar("E")
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class Struct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base: request bodies refuse unknown fields instead of silently ignoring them."""


class PageOut(Struct, Generic[T]):
    """One page of any listing: the items, how many there are in all, and where it starts."""

    items: list[T]
    total: int
    offset: int
    limit: int

    @classmethod
    def of(cls, page: Page[E], item: Callable[[E], T]) -> PageOut[T]:
        return cls(
            items=[item(e) for e in page.items],
            total=page.total,
            offset=page.offset,
            limit=page.limit,
        )


# --- accounts --------------------------------------------------------------------------


class RegisterIn(Struct):
    email: Annotated[str, msgspec.Meta(max_length=254, examples=["dr.martin@example.org"])]
    password: Annotated[str, msgspec.Meta(max_length=256)]
    display_name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class LoginIn(Struct):
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=256)]


class UserOut(Struct):
    id: UUID
    email: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
        )


class TokenOut(Struct):
    access_token: str
    expires_at: datetime
    expires_in: int
    user: UserOut
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)

    @classmethod
    def of(cls, session: Session, now: datetime) -> TokenOut:
        return cls(
            access_token=session.token.token,
            expires_at=session.token.expires_at,
            expires_in=max(0, int((session.token.expires_at - now).total_seconds())),
            user=UserOut.of(session.user),
        )


class PasswordChangeIn(Struct):
    current_password: Annotated[str, msgspec.Meta(max_length=256)]
    new_password: Annotated[str, msgspec.Meta(max_length=256)]


REGISTRATION_ACCEPTED = (
    "If this email can be used, its account is ready: sign in with the password you chose."
)


class RegistrationOut(Struct):
    """The one answer to self-registration, whether or not the email already had an account
    (so the endpoint cannot be used to find out who has one)."""

    status: str = "accepted"
    detail: str = REGISTRATION_ACCEPTED


class UserPatch(Struct):
    """Change a user's role and/or active flag; omitted fields stay as they are."""

    role: Role | None = None
    is_active: bool | None = None


class AuditEntryOut(Struct):
    id: UUID
    at: datetime
    actor_id: UUID | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: str
    client: str | None

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            id=e.id,
            at=e.at,
            actor_id=e.actor_id,
            action=e.action,
            target_type=e.target_type,
            target_id=e.target_id,
            detail=e.detail,
            client=e.client,
        )


# --- predictions -----------------------------------------------------------------------


class BoxOut(Struct):
    """Bounding box in the stored image's pixels (origin top-left, x right, y down)."""

    x: int
    y: int
    width: int
    height: int


class LesionOut(Struct):
    """The lesion the model outlined: the largest region at or above its lesion threshold.

    `area_fraction` is its share of the analysed centre square of the stored image (the model's
    input); `area_mm2` is present only when the pixel size is known; `bbox` and `outline`
    ([x, y] points of a closed polygon) are in stored-image pixels, null/empty when not found.
    """

    found: bool
    area_fraction: Probability
    area_mm2: float | None
    max_probability: Probability
    bbox: BoxOut | None
    outline: list[list[int]]

    @classmethod
    def of(cls, lesion: LesionFinding | None) -> LesionOut | None:
        if lesion is None:
            return None
        box = lesion.bbox
        return cls(
            found=lesion.found,
            area_fraction=lesion.area_fraction,
            area_mm2=lesion.area_mm2,
            max_probability=lesion.max_probability,
            bbox=BoxOut(x=box.x, y=box.y, width=box.width, height=box.height) if box else None,
            outline=[[x, y] for x, y in lesion.outline],
        )


class AnalysisOut(Struct):
    """POST /api/predict: the model's answer for one image; nothing is stored."""

    filename: str
    probability: Probability
    label: Label
    confidence: Probability
    threshold: Probability
    model_version: str
    image_sha256: str
    width: int
    height: int
    cam: list[list[float]]
    lesion: LesionOut | None  # null when the model has no lesion output

    @classmethod
    def of(cls, analysis: Analysis) -> AnalysisOut:
        a = analysis.assessment
        return cls(
            filename=analysis.filename,
            probability=a.p_malignant,
            label=a.label,
            confidence=a.confidence,
            threshold=a.threshold,
            model_version=a.model_version,
            image_sha256=analysis.image_sha256,
            width=analysis.width,
            height=analysis.height,
            cam=[list(row) for row in analysis.cam],
            lesion=LesionOut.of(analysis.lesion),
        )


class ReviewOut(Struct):
    verdict: Verdict
    note: str
    reviewer_id: UUID
    reviewed_at: datetime

    @classmethod
    def of(cls, review: Review | None) -> ReviewOut | None:
        if review is None:
            return None
        return cls(
            verdict=review.verdict,
            note=review.note,
            reviewer_id=review.reviewer_id,
            reviewed_at=review.reviewed_at,
        )


class PredictionOut(Struct):
    id: UUID
    owner_id: UUID
    filename: str
    image_sha256: str
    probability: Probability
    label: Label
    confidence: Probability
    threshold: Probability
    model_version: str
    created_at: datetime
    review: ReviewOut | None
    image_url: str
    heatmap_url: str
    lesion: LesionOut | None  # null when the model had no lesion output
    lesion_url: str | None  # the outline drawn on the image; null when no lesion was found

    @classmethod
    def of(cls, p: Prediction) -> PredictionOut:
        found = p.lesion is not None and p.lesion.found
        return cls(
            id=p.id,
            owner_id=p.owner_id,
            filename=p.filename,
            image_sha256=p.image_sha256,
            probability=p.p_malignant,
            label=p.label,
            confidence=p.confidence,
            threshold=p.threshold,
            model_version=p.model_version,
            created_at=p.created_at,
            review=ReviewOut.of(p.review),
            image_url=f"{API_PREFIX}/predictions/{p.id}/image",
            heatmap_url=f"{API_PREFIX}/predictions/{p.id}/heatmap",
            lesion=LesionOut.of(p.lesion),
            lesion_url=f"{API_PREFIX}/predictions/{p.id}/lesion" if found else None,
        )


class OutcomeOut(Struct):
    """One uploaded file: either its stored prediction or why it was refused."""

    filename: str
    stored: bool
    prediction: PredictionOut | None = None
    error: ErrorBody | None = None  # the refusal, as any error response would say it


class BatchOut(Struct):
    """POST /api/predictions. 201: all stored; 207: some stored, see each result;
    otherwise the status of the first refusal (413/415/422) with every result listed."""

    stored: int
    failed: int
    results: list[OutcomeOut]


class ReviewIn(Struct):
    verdict: Verdict
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


# --- statistics and model --------------------------------------------------------------


class DayCountOut(Struct):
    day: date
    total: int
    malignant: int


class StatisticsOut(Struct):
    total: int
    malignant: int
    benign: int
    malignant_share: float
    mean_probability: float
    reviewed: int
    agreed: int
    agreement_rate: float | None
    per_day: list[DayCountOut]
    probability_histogram: list[int]

    @classmethod
    def of(cls, s: Statistics) -> StatisticsOut:
        return cls(
            total=s.total,
            malignant=s.malignant,
            benign=s.benign,
            malignant_share=s.malignant_share,
            mean_probability=s.mean_probability,
            reviewed=s.reviewed,
            agreed=s.agreed,
            agreement_rate=s.agreement_rate,
            per_day=[
                DayCountOut(day=d.day, total=d.total, malignant=d.malignant) for d in s.per_day
            ],
            probability_histogram=list(s.probability_histogram),
        )


class ModelOut(Struct):
    version: str
    threshold: Probability
    positive_class: str
    input_size: int
    providers: list[str]
    metadata: dict[str, str]  # includes likelihood_bands (JSON) from model 2.0
    has_lesion_output: bool
    lesion_threshold: Probability | None  # null when the model has no lesion output

    @classmethod
    def of(cls, info: ModelInfo) -> ModelOut:
        return cls(
            version=info.version,
            threshold=info.threshold,
            positive_class=info.positive_class,
            input_size=info.input_size,
            providers=list(info.providers),
            metadata=dict(info.metadata),
            has_lesion_output=info.has_lesion_output,
            lesion_threshold=info.lesion_threshold,
        )


class HealthOut(Struct):
    status: str


class ReadyOut(Struct, omit_defaults=True):
    """Readiness: only the status for anonymous callers; the checks and reasons for
    administrators and the metrics token."""

    status: str  # "ready" | "not_ready"
    checks: dict[str, dict[str, Any]] | None = None
    reasons: list[str] | None = None

    @classmethod
    def status_of(cls, r: Readiness) -> ReadyOut:
        return cls(status="ready" if r.ready else "not_ready")

    @classmethod
    def of(cls, r: Readiness) -> ReadyOut:
        db, model = r.database, r.model
        database: dict[str, Any] = (
            {"ok": False, "database": "unreachable", "error": r.database_error}
            if db is None
            else {
                "ok": db.at_head,
                "database": "ok",
                "migrations": db.migrations,
                "at_head": db.at_head,
                "revision": db.revision,
                "head": db.head,
                "backend": db.backend,
            }
        )
        model_check: dict[str, Any] = (
            {"ok": False, "error": r.model_error}
            if model is None
            else {"ok": True, "version": model.version, "providers": list(model.providers)}
        )
        return cls(
            status="ready" if r.ready else "not_ready",
            checks={"database": database, "model": model_check},
            reasons=r.reasons,
        )


def outcome_of(outcome: StoredOutcome) -> OutcomeOut:
    """Map a per-file outcome: its stored prediction, or its refusal like any error body."""
    if outcome.prediction is not None:
        return OutcomeOut(
            filename=outcome.filename, stored=True, prediction=PredictionOut.of(outcome.prediction)
        )
    assert outcome.error is not None, "an outcome is either stored or refused"
    error = domain_error_body(outcome.error)
    return OutcomeOut(filename=outcome.filename, stored=False, error=error)
