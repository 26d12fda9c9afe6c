"""Structured review and outcomes: the clinician's BI-RADS and the pathology that settles it.

One outcome per prediction (per analysed image): the views of one lesion each get the outcome
of that lesion. It is what the real-world performance figures compare the model against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.errors import ErrorCode, InvalidInput

MAX_HISTOLOGY_LENGTH = 500


class BiRads(StrEnum):
    """ACR BI-RADS assessment categories (ultrasound), 4 split into 4A/4B/4C."""

    INCOMPLETE = "0"
    NEGATIVE = "1"
    BENIGN = "2"
    PROBABLY_BENIGN = "3"
    LOW_SUSPICION = "4A"
    MODERATE_SUSPICION = "4B"
    HIGH_SUSPICION = "4C"
    HIGHLY_SUGGESTIVE = "5"
    KNOWN_MALIGNANCY = "6"

    @property
    def positive(self) -> bool | None:
        """Biopsy recommended (4A and above); None for 0 (needs more imaging) and 6 (known
        cancer), which say nothing about the clinician's call."""
        if self in (BiRads.INCOMPLETE, BiRads.KNOWN_MALIGNANCY):
            return None
        return self in (
            BiRads.LOW_SUSPICION,
            BiRads.MODERATE_SUSPICION,
            BiRads.HIGH_SUSPICION,
            BiRads.HIGHLY_SUGGESTIVE,
        )


class PathologyResult(StrEnum):
    BENIGN = "benign"
    MALIGNANT = "malignant"


class OutcomeSource(StrEnum):
    BIOPSY = "biopsy"
    SURGERY = "surgery"
    FOLLOW_UP = "follow_up"  # benign by imaging follow-up (e.g. 2 years stable)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What pathology (or follow-up) later showed for the image a prediction analysed."""

    result: PathologyResult
    source: OutcomeSource
    outcome_date: date
    recorded_by: UUID
    recorded_at: datetime
    histology: str = ""

    def __post_init__(self) -> None:
        if len(self.histology) > MAX_HISTOLOGY_LENGTH:
            raise InvalidInput(
                f"Histology must be at most {MAX_HISTOLOGY_LENGTH} characters.",
                ErrorCode.HISTOLOGY_TOO_LONG,
                count=MAX_HISTOLOGY_LENGTH,
            )
        # a day of slack: the clinic's today may be UTC's tomorrow
        if self.outcome_date > self.recorded_at.date() + timedelta(days=1):
            raise InvalidInput(
                "The outcome date cannot lie in the future.", ErrorCode.OUTCOME_DATE_IN_FUTURE
            )

    @property
    def malignant(self) -> bool:
        return self.result is PathologyResult.MALIGNANT
