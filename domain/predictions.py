"""Predictions (stored analyses), clinician reviews and the statistics derived from them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from domain.bands import DEFAULT_BORDERLINE_MARGIN, FALLBACK_BANDS, Band, Likelihood, likelihood_of
from domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from domain.lesions import LesionFinding
from domain.outcomes import BiRads, Outcome
from domain.studies import ImagePosition
from domain.users import User

MAX_NOTE_LENGTH = 2000


class Label(StrEnum):
    MALIGNANT = "malignant"
    BENIGN = "benign"


class Verdict(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"


def prediction_not_found() -> NotFound:
    """An analysis that is absent or someone else's: the two read alike."""
    return NotFound("No such analysis.", ErrorCode.PREDICTION_NOT_FOUND)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the model said about one image at its operating point."""

    p_malignant: float
    threshold: float
    model_version: str
    bands: tuple[Band, ...] = FALLBACK_BANDS
    borderline_margin: float = DEFAULT_BORDERLINE_MARGIN

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_malignant <= 1.0:
            raise InvalidInput("Probability must lie in [0, 1].")
        if not 0.0 <= self.threshold <= 1.0:
            raise InvalidInput("Threshold must lie in [0, 1].")

    @property
    def label(self) -> Label:
        return Label.MALIGNANT if self.p_malignant >= self.threshold else Label.BENIGN

    @property
    def confidence(self) -> float:
        """Probability of the predicted label (0.5 .. 1 for a calibrated model)."""
        return self.p_malignant if self.label is Label.MALIGNANT else 1.0 - self.p_malignant

    @property
    def likelihood(self) -> Likelihood:
        return likelihood_of(self.p_malignant, self.threshold, self.bands, self.borderline_margin)


@dataclass(frozen=True, slots=True)
class Review:
    verdict: Verdict
    note: str
    reviewer_id: UUID
    reviewed_at: datetime
    birads: BiRads | None = None  # the clinician's own assessment; None in older reviews

    def __post_init__(self) -> None:
        if len(self.note) > MAX_NOTE_LENGTH:
            raise InvalidInput(
                f"Note must be at most {MAX_NOTE_LENGTH} characters.",
                ErrorCode.NOTE_TOO_LONG,
                count=MAX_NOTE_LENGTH,
            )


@dataclass(frozen=True, slots=True)
class Prediction:
    id: UUID
    owner_id: UUID
    filename: str
    image_sha256: str
    p_malignant: float
    threshold: float
    model_version: str
    created_at: datetime
    review: Review | None = None
    # None when the model had no lesion output; otherwise what it outlined (maybe nothing)
    lesion: LesionFinding | None = None
    # Band and borderline as the model of the day put them, stored with the prediction so a
    # later model never rewrites history; when not given, the fallback bands decide.
    stored_likelihood: Likelihood | None = None
    outcome: Outcome | None = None  # pathology or follow-up, recorded later
    # the study (patient visit) it was filed in, and where on the breast; None: a loose upload
    study_id: UUID | None = None
    position: ImagePosition | None = None
    # DICOM uploads: the de-identified copy's content address, and which frame was analysed
    # (0-based) out of how many; None for PNG/JPEG
    dicom_sha256: str | None = None
    frame_index: int | None = None
    frame_count: int | None = None

    def __post_init__(self) -> None:
        if self.stored_likelihood is None:
            object.__setattr__(self, "stored_likelihood", self.assessment.likelihood)

    @property
    def assessment(self) -> Assessment:
        return Assessment(self.p_malignant, self.threshold, self.model_version)

    @property
    def label(self) -> Label:
        return self.assessment.label

    @property
    def confidence(self) -> float:
        return self.assessment.confidence

    @property
    def likelihood(self) -> Likelihood:
        return self.stored_likelihood or self.assessment.likelihood

    @property
    def stored_files(self) -> tuple[str, ...]:
        """Content addresses of what the image store holds for it: the image, the DICOM copy."""
        return (self.image_sha256,) + ((self.dicom_sha256,) if self.dicom_sha256 else ())

    def ensure_visible_to(self, user: User) -> None:
        """Owners and admins may see a prediction; callers turn this into NotFound."""
        if not (user.is_admin or user.id == self.owner_id):
            raise Forbidden("This analysis belongs to another user.")

    def reviewed(self, review: Review) -> Prediction:
        """Record a clinician review; the model's own output is never changed."""
        return replace(self, review=review)

    def with_outcome(self, outcome: Outcome | None) -> Prediction:
        """Record (or, with None, withdraw) the outcome; the model's output is never changed."""
        return replace(self, outcome=outcome)


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    total: int
    malignant: int


@dataclass(frozen=True, slots=True)
class Statistics:
    total: int
    malignant: int
    benign: int
    malignant_share: float
    mean_probability: float
    reviewed: int
    agreed: int
    agreement_rate: float | None
    per_day: tuple[DayCount, ...]
    probability_histogram: tuple[int, ...]
    with_outcome: int = 0  # predictions whose pathology/follow-up outcome is recorded
    malignant_outcomes: int = 0


def summarise(predictions: list[Prediction], bins: int = 10) -> Statistics:
    """Derive statistics from predictions; nothing here is stored separately."""
    total = len(predictions)
    malignant = sum(1 for p in predictions if p.label is Label.MALIGNANT)
    reviewed = [p for p in predictions if p.review is not None]
    agreed = sum(1 for p in reviewed if p.review and p.review.verdict is Verdict.AGREE)
    per_day_total: Counter[date] = Counter(p.created_at.date() for p in predictions)
    per_day_malignant: Counter[date] = Counter(
        p.created_at.date() for p in predictions if p.label is Label.MALIGNANT
    )
    histogram = [0] * bins
    for p in predictions:
        histogram[min(int(p.p_malignant * bins), bins - 1)] += 1
    return Statistics(
        total=total,
        malignant=malignant,
        benign=total - malignant,
        malignant_share=malignant / total if total else 0.0,
        mean_probability=sum(p.p_malignant for p in predictions) / total if total else 0.0,
        reviewed=len(reviewed),
        agreed=agreed,
        agreement_rate=agreed / len(reviewed) if reviewed else None,
        per_day=tuple(
            DayCount(day, per_day_total[day], per_day_malignant[day])
            for day in sorted(per_day_total)
        ),
        probability_histogram=tuple(histogram),
        with_outcome=sum(1 for p in predictions if p.outcome is not None),
        malignant_outcomes=sum(1 for p in predictions if p.outcome and p.outcome.malignant),
    )
