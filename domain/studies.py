"""Studies (one patient visit), where each image was taken, and lesion assessments.

A study groups the analysed images of one visit under the clinic's patient reference (its
MRN, stored as given), an accession number and a study date. Each image of a study may carry
an `ImagePosition`: side, clock position, distance from the nipple, view and a lesion number;
the views of one lesion (same side, same lesion number) combine into a `LesionAssessment`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from domain.text import plain_text
from domain.users import User

if TYPE_CHECKING:  # predictions import this module for ImagePosition
    from domain.predictions import Label, Prediction

MAX_PATIENT_REF_LENGTH = 64  # DICOM LO, the VR of PatientID
MAX_ACCESSION_LENGTH = 16  # DICOM SH, the VR of AccessionNumber
MAX_UID_LENGTH = 64  # DICOM UI
MAX_LESION_NUMBER = 99
MAX_DISTANCE_CM = 30.0
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_CLOCK = re.compile(r"(\d{1,2})(?:[:h.](\d{1,2}))?")


class Laterality(StrEnum):
    LEFT = "L"
    RIGHT = "R"


_SIDES = {
    "L": Laterality.LEFT,
    "LEFT": Laterality.LEFT,
    "R": Laterality.RIGHT,
    "RIGHT": Laterality.RIGHT,
}


class View(StrEnum):
    """The probe's plane: radial/antiradial (about the nipple) or transverse/longitudinal."""

    RADIAL = "radial"
    ANTIRADIAL = "antiradial"
    TRANSVERSE = "transverse"
    LONGITUDINAL = "longitudinal"
    OTHER = "other"


def study_not_found() -> NotFound:
    """A study that is absent or someone else's: the two read alike."""
    return NotFound("No such study.", ErrorCode.STUDY_NOT_FOUND)


def parse_clock(text: str) -> float:
    """A clock position as typed ("10", "10:30", "10.5", "10h30") in hours, half hours allowed."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise _clock_invalid()
    hours, minutes = int(match[1]), match[2]
    if minutes is None:
        return float(hours)
    if "." in text and minutes == "5":
        return hours + 0.5
    if int(minutes) not in (0, 30):
        raise _clock_invalid()
    return hours + int(minutes) / 60


def format_clock(value: float) -> str:
    """10.0 -> "10:00", 10.5 -> "10:30": the way a reader says it."""
    return f"{int(value)}:{'30' if value % 1 else '00'}"


def _clock_invalid() -> InvalidInput:
    return InvalidInput(
        "The clock position must be a time from 1:00 to 12:30, in half hours.",
        ErrorCode.CLOCK_POSITION_INVALID,
    )


@dataclass(frozen=True, slots=True)
class ImagePosition:
    """Where one image of a study was taken, and which lesion it shows."""

    laterality: Laterality
    lesion_number: int = 1
    view: View = View.OTHER
    clock_position: float | None = None  # hours, 1.0 .. 12.5 in half-hour steps
    distance_from_nipple_cm: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.lesion_number <= MAX_LESION_NUMBER:
            raise InvalidInput(
                f"The lesion number must lie between 1 and {MAX_LESION_NUMBER}.",
                ErrorCode.LESION_NUMBER_INVALID,
                count=MAX_LESION_NUMBER,
            )
        clock = self.clock_position
        if clock is not None and not (1.0 <= clock < 13.0 and (clock * 2).is_integer()):
            raise _clock_invalid()
        distance = self.distance_from_nipple_cm
        if distance is not None and not (
            math.isfinite(distance) and 0.0 <= distance <= MAX_DISTANCE_CM
        ):
            raise InvalidInput(
                f"The distance from the nipple must lie between 0 and {MAX_DISTANCE_CM:g} cm.",
                ErrorCode.DISTANCE_INVALID,
                count=int(MAX_DISTANCE_CM),
            )

    @classmethod
    def parse(
        cls,
        laterality: str,
        *,
        lesion_number: int = 1,
        view: str | None = None,
        clock: str | None = None,
        distance_cm: float | None = None,
    ) -> ImagePosition:
        """A position from its typed form (API query, UI form), refusing unknown words."""
        side = _SIDES.get((laterality or "").strip().upper())
        if side is None:
            raise InvalidInput(
                "The side must be L (left) or R (right).", ErrorCode.LATERALITY_INVALID
            )
        try:
            chosen = View(view.strip().lower()) if view and view.strip() else View.OTHER
        except ValueError:
            raise InvalidInput(
                "The view must be one of " + ", ".join(v.value for v in View) + ".",
                ErrorCode.VIEW_INVALID,
                formats=tuple(v.value for v in View),
            ) from None
        return cls(
            laterality=side,
            lesion_number=lesion_number,
            view=chosen,
            clock_position=parse_clock(clock) if clock and clock.strip() else None,
            distance_from_nipple_cm=distance_cm,
        )

    @property
    def clock_label(self) -> str | None:
        return None if self.clock_position is None else format_clock(self.clock_position)


# Words of a DICOM header's view text: each view's abbreviations, and the start of its name.
_VIEW_WORDS = (
    (View.ANTIRADIAL, {"arad", "antirad"}, "antiradial"),
    (View.RADIAL, {"rad"}, "radial"),
    (View.TRANSVERSE, {"trans", "trv", "tr", "axial"}, "transverse"),
    (View.LONGITUDINAL, {"long", "lon", "sag", "sagittal"}, "longitudinal"),
)


def view_from_dicom(text: str | None) -> View:
    """The view a DICOM header names in free text (e.g. "RADIAL", "Anti-radial", "TRANS")."""
    words = re.findall(r"[a-z]+", re.sub(r"anti[\s_-]*", "anti", (text or "").lower()))
    for word in words:
        for view, abbreviations, name in _VIEW_WORDS:
            if word in abbreviations or (len(word) >= 5 and name.startswith(word)):
                return view
    return View.OTHER


def _bounded(value: str | None, limit: int, code: ErrorCode, what: str) -> str | None:
    text = plain_text((value or "").strip(), what)
    if len(text) > limit:
        raise InvalidInput(f"The {what} must be at most {limit} characters.", code, count=limit)
    return text or None


def check_patient_ref(value: str) -> str:
    """The patient reference (the clinic's MRN) stripped, required, at most 64 characters."""
    text = _bounded(
        value, MAX_PATIENT_REF_LENGTH, ErrorCode.PATIENT_REF_INVALID, "patient reference"
    )
    if text is None:
        raise InvalidInput(
            "A study needs a patient reference.",
            ErrorCode.PATIENT_REF_INVALID,
            count=MAX_PATIENT_REF_LENGTH,
        )
    return text


def check_accession(value: str | None) -> str | None:
    return _bounded(value, MAX_ACCESSION_LENGTH, ErrorCode.ACCESSION_INVALID, "accession number")


def check_study_uid(value: str | None) -> str | None:
    """A DICOM UID (digits and dots, at most 64 characters), or None when empty."""
    text = (value or "").strip().rstrip("\x00")
    if not text:
        return None
    if len(text) > MAX_UID_LENGTH or not _UID.fullmatch(text):
        raise InvalidInput(
            "The study instance UID must be a DICOM UID (digits and dots, at most 64).",
            ErrorCode.STUDY_UID_INVALID,
        )
    return text


@dataclass(frozen=True, slots=True)
class Study:
    """One patient visit; its images are predictions that name it."""

    id: UUID
    owner_id: UUID
    patient_ref: str
    study_date: date
    created_at: datetime
    accession_number: str | None = None
    study_instance_uid: str | None = None

    def __post_init__(self) -> None:
        # normalised here so every way in (API, UI, DICOM tags) obeys the same rules
        object.__setattr__(self, "patient_ref", check_patient_ref(self.patient_ref))
        object.__setattr__(self, "accession_number", check_accession(self.accession_number))
        object.__setattr__(self, "study_instance_uid", check_study_uid(self.study_instance_uid))

    def ensure_visible_to(self, user: User) -> None:
        """Owners and admins may see a study; callers turn this into NotFound."""
        if not (user.is_admin or user.id == self.owner_id):
            raise Forbidden("This study belongs to another user.")

    def changed(
        self,
        *,
        patient_ref: str | None = None,
        study_date: date | None = None,
        accession_number: str | None = None,
        study_instance_uid: str | None = None,
    ) -> Study:
        """The study with the given fields; None keeps a field, "" clears an optional one."""
        return replace(
            self,
            patient_ref=self.patient_ref if patient_ref is None else patient_ref,
            study_date=study_date or self.study_date,
            accession_number=(
                self.accession_number if accession_number is None else accession_number
            ),
            study_instance_uid=(
                self.study_instance_uid if study_instance_uid is None else study_instance_uid
            ),
        )

    def is_before(self, other: Study) -> bool:
        """Whether this visit came earlier than `other` (a prior of it)."""
        return (self.study_date, self.created_at) < (other.study_date, other.created_at)


@dataclass(frozen=True, slots=True)
class LesionAssessment:
    """The views of one lesion (same side, same lesion number) combined.

    The lesion takes the highest calibrated probability of malignancy among its views: a
    reader calls a lesion by its most suspicious appearance, since a malignant feature seen
    in one plane is not cancelled by a plane where it is out of view, and averaging would
    dilute exactly the view that matters. The driving view also gives the threshold, model
    version and label.
    """

    laterality: Laterality
    lesion_number: int
    views: tuple[Prediction, ...]

    @property
    def driving(self) -> Prediction:
        """The most suspicious view (the earliest of equals)."""
        return max(self.views, key=lambda p: (p.p_malignant, -p.created_at.timestamp()))

    @property
    def p_malignant(self) -> float:
        return self.driving.p_malignant

    @property
    def threshold(self) -> float:
        return self.driving.threshold

    @property
    def label(self) -> Label:
        return self.driving.label


def assess_lesions(images: list[Prediction]) -> tuple[LesionAssessment, ...]:
    """One assessment per lesion, right side first then left, by lesion number; images
    without a position are not combined with anything."""
    groups: dict[tuple[Laterality, int], list[Prediction]] = {}
    for image in images:
        if image.position is not None:
            key = (image.position.laterality, image.position.lesion_number)
            groups.setdefault(key, []).append(image)
    order = {Laterality.RIGHT: 0, Laterality.LEFT: 1}
    return tuple(
        LesionAssessment(side, number, tuple(views))
        for (side, number), views in sorted(groups.items(), key=lambda g: (order[g[0][0]], g[0][1]))
    )


@dataclass(frozen=True, slots=True)
class StudyRecord:
    """A study with its images (oldest first) and their lesion assessments."""

    study: Study
    images: tuple[Prediction, ...]

    @property
    def lesions(self) -> tuple[LesionAssessment, ...]:
        return assess_lesions(list(self.images))

    @property
    def unplaced(self) -> tuple[Prediction, ...]:
        """Images without a position (combined with nothing)."""
        return tuple(p for p in self.images if p.position is None)


@dataclass(frozen=True, slots=True)
class StudyDetail:
    """A study as a reader opens it: the current visit and the same patient's earlier ones."""

    current: StudyRecord
    priors: tuple[StudyRecord, ...]  # newest first


@dataclass(frozen=True, slots=True)
class StudySummary:
    """A line of the study list: the study and counts over its images."""

    study: Study
    image_count: int
    reviewed_count: int
    max_p_malignant: float | None  # None when it has no image yet
