"""Wire formats of the HTTP API (msgspec structs) and their mapping from domain objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import msgspec

from application.commands import Analysis, Readiness, Session, StoredOutcome
from application.ports import AuditEntry, ModelInfo, Page
from domain.bands import Band, BandName
from domain.lesions import LesionFinding
from domain.outcomes import MAX_HISTOLOGY_LENGTH, BiRads, Outcome, OutcomeSource, PathologyResult
from domain.performance import (
    AreaUnderCurve,
    DiagnosticStats,
    Performance,
    PerformanceGroup,
    Proportion,
)
from domain.predictions import Label, Prediction, Review, Statistics, Verdict
from domain.studies import (
    MAX_ACCESSION_LENGTH,
    MAX_PATIENT_REF_LENGTH,
    MAX_UID_LENGTH,
    ImagePosition,
    Laterality,
    LesionAssessment,
    Study,
    StudyDetail,
    StudyRecord,
    StudySummary,
    View,
)
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
    band: BandName  # likelihood band (GET /api/model lists the cut-points and wording)
    borderline: bool  # within the model's calibration error of the threshold
    image_sha256: str
    width: int
    height: int
    cam: list[list[float]]
    lesion: LesionOut | None  # null when the model has no lesion output
    frame_index: int | None  # DICOM: the frame analysed (0-based); null for PNG/JPEG
    frame_count: int | None  # DICOM: the frames in the file; null for PNG/JPEG

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
            band=a.likelihood.band,
            borderline=a.likelihood.borderline,
            image_sha256=analysis.image_sha256,
            width=analysis.width,
            height=analysis.height,
            cam=[list(row) for row in analysis.cam],
            lesion=LesionOut.of(analysis.lesion),
            frame_index=analysis.frame_index,
            frame_count=analysis.frame_count,
        )


class ReviewOut(Struct):
    verdict: Verdict
    note: str
    reviewer_id: UUID
    reviewed_at: datetime
    birads: BiRads | None  # the reviewer's BI-RADS category; null in reviews without one

    @classmethod
    def of(cls, review: Review | None) -> ReviewOut | None:
        if review is None:
            return None
        return cls(
            verdict=review.verdict,
            note=review.note,
            reviewer_id=review.reviewer_id,
            reviewed_at=review.reviewed_at,
            birads=review.birads,
        )


class PathologyOut(Struct):
    """The recorded outcome of the analysed image (pathology, or benign by follow-up)."""

    result: PathologyResult
    source: OutcomeSource
    date: date
    histology: str
    recorded_by: UUID
    recorded_at: datetime

    @classmethod
    def of(cls, outcome: Outcome | None) -> PathologyOut | None:
        if outcome is None:
            return None
        return cls(
            result=outcome.result,
            source=outcome.source,
            date=outcome.outcome_date,
            histology=outcome.histology,
            recorded_by=outcome.recorded_by,
            recorded_at=outcome.recorded_at,
        )


class PositionOut(Struct):
    """Where the image was taken: side, clock position ("10:30"), distance, view, lesion."""

    laterality: Laterality
    clock_position: str | None
    distance_from_nipple_cm: float | None
    view: View
    lesion_number: int

    @classmethod
    def of(cls, position: ImagePosition | None) -> PositionOut | None:
        if position is None:
            return None
        return cls(
            laterality=position.laterality,
            clock_position=position.clock_label,
            distance_from_nipple_cm=position.distance_from_nipple_cm,
            view=position.view,
            lesion_number=position.lesion_number,
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
    band: BandName  # as stored with the prediction: a later model never rewrites it
    borderline: bool
    created_at: datetime
    review: ReviewOut | None
    outcome: PathologyOut | None  # null until recorded
    image_url: str
    heatmap_url: str
    study_id: UUID | None  # null for a loose upload (POST /api/predictions)
    position: PositionOut | None  # null when not given
    lesion: LesionOut | None  # null when the model had no lesion output
    lesion_url: str | None  # the outline drawn on the image; null when no lesion was found
    # DICOM uploads: the de-identified copy (application/dicom) and the frame analysed
    # (0-based) of frame_count; all three null for PNG/JPEG
    dicom_url: str | None
    frame_index: int | None
    frame_count: int | None

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
            band=p.likelihood.band,
            borderline=p.likelihood.borderline,
            created_at=p.created_at,
            review=ReviewOut.of(p.review),
            outcome=PathologyOut.of(p.outcome),
            image_url=f"{API_PREFIX}/predictions/{p.id}/image",
            heatmap_url=f"{API_PREFIX}/predictions/{p.id}/heatmap",
            study_id=p.study_id,
            position=PositionOut.of(p.position),
            lesion=LesionOut.of(p.lesion),
            lesion_url=f"{API_PREFIX}/predictions/{p.id}/lesion" if found else None,
            dicom_url=f"{API_PREFIX}/predictions/{p.id}/dicom" if p.dicom_sha256 else None,
            frame_index=p.frame_index,
            frame_count=p.frame_count,
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
    birads: BiRads | None = None  # "0".."6" with "4A", "4B", "4C"


class OutcomeIn(Struct):
    result: PathologyResult
    source: OutcomeSource
    date: date  # of the biopsy, surgery or follow-up conclusion; not in the future
    histology: Annotated[str, msgspec.Meta(max_length=MAX_HISTOLOGY_LENGTH)] = ""


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
    with_outcome: int  # predictions with a recorded outcome
    malignant_outcomes: int

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
            with_outcome=s.with_outcome,
            malignant_outcomes=s.malignant_outcomes,
        )


class BandOut(Struct):
    """One likelihood band: [lower, upper) on the probability (the last includes 1), with the
    validation malignancy rate and count when the model reports them."""

    name: BandName
    lower: Probability
    upper: Probability
    wording: str
    observed_rate: Probability | None
    observed_count: int | None

    @classmethod
    def of(cls, band: Band) -> BandOut:
        return cls(
            name=band.name,
            lower=band.lower,
            upper=band.upper,
            wording=band.wording,
            observed_rate=band.observed_rate,
            observed_count=band.observed_count,
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
    bands: list[BandOut]
    borderline_margin: Probability  # |p - threshold| at or under it is borderline
    sensitivity_floor: Probability | None  # what the threshold was validated to reach

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
            bands=[BandOut.of(band) for band in info.bands],
            borderline_margin=info.borderline_margin,
            sensitivity_floor=info.sensitivity_floor,
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


# --- real-world performance ------------------------------------------------------------


class ProportionOut(Struct):
    """successes / total with its Wilson 95 % interval; value null when total is 0."""

    value: Probability | None
    lower: Probability | None
    upper: Probability | None
    successes: int
    total: int

    @classmethod
    def of(cls, p: Proportion) -> ProportionOut:
        return cls(
            value=p.value, lower=p.lower, upper=p.upper, successes=p.successes, total=p.total
        )


class AucOut(Struct):
    """ROC AUC with its Hanley-McNeil 95 % interval."""

    value: Probability
    lower: Probability
    upper: Probability
    positives: int
    negatives: int

    @classmethod
    def of(cls, auc: AreaUnderCurve | None) -> AucOut | None:
        if auc is None:
            return None
        return cls(
            value=auc.value,
            lower=auc.lower,
            upper=auc.upper,
            positives=auc.positives,
            negatives=auc.negatives,
        )


class DiagnosticOut(Struct):
    """Calls against outcomes: counts, rates with intervals; auc null without both classes
    (and always for the clinicians, whose BI-RADS is a category, not a score)."""

    cases: int
    malignant: int
    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: ProportionOut
    specificity: ProportionOut
    ppv: ProportionOut
    npv: ProportionOut
    auc: AucOut | None

    @classmethod
    def of(cls, s: DiagnosticStats) -> DiagnosticOut:
        c = s.confusion
        return cls(
            cases=s.cases,
            malignant=s.malignant,
            tp=c.tp,
            fp=c.fp,
            tn=c.tn,
            fn=c.fn,
            sensitivity=ProportionOut.of(s.sensitivity),
            specificity=ProportionOut.of(s.specificity),
            ppv=ProportionOut.of(s.ppv),
            npv=ProportionOut.of(s.npv),
            auc=AucOut.of(s.auc),
        )


class PerformanceGroupOut(Struct):
    key: str  # the model version, or the month "YYYY-MM" of the analyses
    model: DiagnosticOut
    clinicians: DiagnosticOut
    below_floor: bool


class PerformanceOut(Struct):
    """GET /api/stats/performance: the model (at each prediction's own threshold) and the
    reviewers' BI-RADS (4A and above positive) against recorded outcomes."""

    model: DiagnosticOut
    clinicians: DiagnosticOut
    sensitivity_floor: Probability | None
    below_floor: bool  # the sensitivity's lower 95 % bound is under the floor: investigate
    by_model_version: list[PerformanceGroupOut]
    by_month: list[PerformanceGroupOut]

    @classmethod
    def of(cls, p: Performance) -> PerformanceOut:
        def groups(found: tuple[PerformanceGroup, ...]) -> list[PerformanceGroupOut]:
            return [
                PerformanceGroupOut(
                    key=g.key,
                    model=DiagnosticOut.of(g.model),
                    clinicians=DiagnosticOut.of(g.clinicians),
                    below_floor=g.below_floor,
                )
                for g in found
            ]

        return cls(
            model=DiagnosticOut.of(p.model),
            clinicians=DiagnosticOut.of(p.clinicians),
            sensitivity_floor=p.sensitivity_floor,
            below_floor=p.below_floor,
            by_model_version=groups(p.by_model_version),
            by_month=groups(p.by_month),
        )


# --- studies ---------------------------------------------------------------------------

PatientRef = Annotated[str, msgspec.Meta(max_length=MAX_PATIENT_REF_LENGTH, examples=["MRN-0042"])]
Accession = Annotated[str, msgspec.Meta(max_length=MAX_ACCESSION_LENGTH)]
StudyUid = Annotated[str, msgspec.Meta(max_length=MAX_UID_LENGTH, pattern=r"^[0-9.]*$")]


class StudyIn(Struct):
    """A new study; `study_date` defaults to today."""

    patient_ref: PatientRef
    study_date: date | None = None
    accession_number: Accession | None = None
    study_instance_uid: StudyUid | None = None


class StudyPatch(Struct):
    """Fields to correct; omitted fields stay as they are, "" clears an optional one."""

    patient_ref: PatientRef | None = None
    study_date: date | None = None
    accession_number: Accession | None = None
    study_instance_uid: StudyUid | None = None


class PositionIn(Struct):
    """Where one image was taken (an item of the `positions` query parameter)."""

    laterality: Annotated[str, msgspec.Meta(max_length=5, examples=["L", "R"])]
    lesion_number: Annotated[int, msgspec.Meta(ge=1, le=99)] = 1
    view: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    clock: Annotated[str, msgspec.Meta(max_length=5, examples=["10:30"])] | None = None
    distance_cm: float | None = None

    def position(self) -> ImagePosition:
        return ImagePosition.parse(
            self.laterality,
            lesion_number=self.lesion_number,
            view=self.view,
            clock=self.clock,
            distance_cm=self.distance_cm,
        )


class PlacementIn(Struct):
    """PATCH /api/studies/{id}/images/{prediction_id}: the image's position, null to clear."""

    position: PositionIn | None


class StudyOut(Struct):
    id: UUID
    owner_id: UUID
    patient_ref: str
    accession_number: str | None
    study_date: date
    study_instance_uid: str | None
    created_at: datetime
    url: str

    @classmethod
    def of(cls, s: Study) -> StudyOut:
        return cls(
            id=s.id,
            owner_id=s.owner_id,
            patient_ref=s.patient_ref,
            accession_number=s.accession_number,
            study_date=s.study_date,
            study_instance_uid=s.study_instance_uid,
            created_at=s.created_at,
            url=f"{API_PREFIX}/studies/{s.id}",
        )


class StudySummaryOut(Struct):
    """A line of the study list: the study, its image and review counts, the highest
    probability among its images (null when it has none)."""

    study: StudyOut
    image_count: int
    reviewed_count: int
    max_probability: Probability | None

    @classmethod
    def of(cls, s: StudySummary) -> StudySummaryOut:
        return cls(
            study=StudyOut.of(s.study),
            image_count=s.image_count,
            reviewed_count=s.reviewed_count,
            max_probability=s.max_p_malignant,
        )


class LesionAssessmentOut(Struct):
    """The views of one lesion (side + lesion number) combined: the lesion takes the most
    suspicious view's probability, label, band and threshold."""

    laterality: Laterality
    lesion_number: int
    probability: Probability
    label: Label
    threshold: Probability
    band: str
    borderline: bool
    driving_prediction_id: UUID
    prediction_ids: list[UUID]

    @classmethod
    def of(cls, a: LesionAssessment) -> LesionAssessmentOut:
        driving = a.driving
        return cls(
            laterality=a.laterality,
            lesion_number=a.lesion_number,
            probability=a.p_malignant,
            label=a.label,
            threshold=a.threshold,
            band=driving.likelihood.band.value,
            borderline=driving.likelihood.borderline,
            driving_prediction_id=driving.id,
            prediction_ids=[p.id for p in a.views],
        )


class StudyRecordOut(Struct):
    """A study with its images (oldest first) and lesion assessments; images without a
    position are listed but combined with nothing."""

    study: StudyOut
    images: list[PredictionOut]
    lesions: list[LesionAssessmentOut]

    @classmethod
    def of(cls, r: StudyRecord) -> StudyRecordOut:
        return cls(
            study=StudyOut.of(r.study),
            images=[PredictionOut.of(p) for p in r.images],
            lesions=[LesionAssessmentOut.of(a) for a in r.lesions],
        )


class StudyDetailOut(StudyRecordOut):
    """GET /api/studies/{id}: the study, and the same patient's earlier studies (priors,
    newest first) with their results."""

    priors: list[StudyRecordOut]

    @classmethod
    def of_detail(cls, d: StudyDetail) -> StudyDetailOut:
        current = StudyRecordOut.of(d.current)
        return cls(
            study=current.study,
            images=current.images,
            lesions=current.lesions,
            priors=[StudyRecordOut.of(r) for r in d.priors],
        )
