"""Commands (imperative, frozen) and results the use cases accept and return."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import msgspec

from application.ports import CamGrid, DatabaseStatus, IssuedToken, ModelInfo, Tensor
from domain.bands import BandName
from domain.errors import ErrorCode, InvalidImage, InvalidInput
from domain.lesions import LesionFinding
from domain.outcomes import BiRads, OutcomeSource, PathologyResult
from domain.predictions import Assessment, Label, Prediction, Verdict
from domain.studies import ImagePosition
from domain.text import plain_text
from domain.users import Role, User


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """Base for commands; `client` is the caller's address where it matters (audit, throttling)."""

    client: str | None = None


# --- accounts --------------------------------------------------------------------------


class RegisterUser(Command, frozen=True, kw_only=True):
    email: str
    password: str
    display_name: str = ""
    role: Role = Role.CLINICIAN
    actor: User | None = None  # an admin creating someone; None = self-registration
    trusted: bool = False  # set by the CLI only: may create admins without an actor


class Authenticate(Command, frozen=True, kw_only=True):
    email: str
    password: str


class Session(msgspec.Struct, frozen=True):
    user: User
    token: IssuedToken


class ResolveCurrentUser(Command, frozen=True, kw_only=True):
    token: str


class Logout(Command, frozen=True, kw_only=True):
    actor: User


class ChangePassword(Command, frozen=True, kw_only=True):
    actor: User
    current_password: str
    new_password: str


class ListUsers(Command, frozen=True, kw_only=True):
    actor: User
    offset: int = 0
    limit: int = 50


class UpdateUser(Command, frozen=True, kw_only=True):
    """Change a role and/or the active flag; None leaves that field as it is."""

    actor: User
    user_id: UUID
    role: Role | None = None
    active: bool | None = None


class ListAuditLog(Command, frozen=True, kw_only=True):
    actor: User
    actor_id: UUID | None = None
    action: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None
    offset: int = 0
    limit: int = 50


# --- predictions -----------------------------------------------------------------------


class Upload(msgspec.Struct, frozen=True):
    filename: str
    data: bytes
    frame: int | None = None  # 0-based frame of a multi-frame DICOM file; None: the first


class Predict(Command, frozen=True, kw_only=True):
    """Analyse one image without storing anything."""

    actor: User
    upload: Upload


class Analysis(msgspec.Struct, frozen=True):
    """Result of Predict: the assessment plus what is needed to show the heatmap."""

    filename: str
    assessment: Assessment
    cam: CamGrid
    image_sha256: str
    width: int
    height: int
    lesion: LesionFinding | None = None  # None when the model has no lesion output
    frame_index: int | None = None  # DICOM: the frame analysed (0-based) out of frame_count
    frame_count: int | None = None


class InferTensors(Command, frozen=True, kw_only=True):
    """Run the model on raw tensors (the inference protocol); no `outputs`: every output."""

    actor: User
    inputs: tuple[Tensor, ...]
    outputs: tuple[str, ...] = ()


class TensorResult(msgspec.Struct, frozen=True):
    """Result of InferTensors: the model version that answered and the outputs asked for."""

    model_version: str
    outputs: tuple[Tensor, ...]


class PredictAndStore(Command, frozen=True, kw_only=True):
    """Analyse one or many images and store each result; a bad file never sinks the batch."""

    actor: User
    uploads: tuple[Upload, ...]


class StoredOutcome(msgspec.Struct, frozen=True):
    filename: str
    prediction: Prediction | None = None
    error: InvalidImage | None = None  # why the decoder refused this file (code, params)


def parse_instant(raw: str | None, field: str, *, end: bool = False) -> datetime | None:
    """An ISO date or date-time as typed by a person or a client; naive values are UTC.

    The one rule for ranges: a bare end date includes that whole day (`end` gives the
    exclusive bound, the next midnight); an empty value is no bound."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
        if end and len(text) == len("YYYY-MM-DD"):
            value += timedelta(days=1)
        # in UTC now, so an offset at the edge of the calendar fails here, not in a query
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"'{field}' must be an ISO date or date-time between the years 1 and 9999.",
            ErrorCode.DATE_INVALID,
            field=field,
        ) from None


class PredictionFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What narrows a listing, an export or the statistics; the end of the range is exclusive."""

    label: Label | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    reviewed: bool | None = None
    filename_contains: str | None = None
    bands: frozenset[BandName] = frozenset()  # in one of these bands; empty: any band

    @classmethod
    def parse(
        cls,
        *,
        label: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        reviewed: bool | None = None,
        search: str | None = None,
        bands: Sequence[str] = (),
    ) -> PredictionFilters:
        """The filters from their typed form, the same for the API's query and the UI's form."""
        try:
            chosen = Label(label) if label else None
        except ValueError:
            raise InvalidInput(f"Unknown label {label!r}.") from None
        return cls(
            label=chosen,
            created_from=parse_instant(date_from, "from"),
            created_to=parse_instant(date_to, "to", end=True),
            reviewed=reviewed,
            filename_contains=plain_text((search or "").strip(), "q") or None,
            bands=parse_bands(bands),
        )


def parse_bands(names: Sequence[str]) -> frozenset[BandName]:
    """Band names as typed; an unknown one is refused with the names that exist."""
    known = {b.value: b for b in BandName}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InvalidInput(f"Unknown band {unknown[0]!r}: use {', '.join(known)}.")
    return frozenset(known[n] for n in names)


class ListPredictions(Command, frozen=True, kw_only=True):
    actor: User
    filters: PredictionFilters = PredictionFilters()
    offset: int = 0
    limit: int = 20


class ExportPredictions(Command, frozen=True, kw_only=True):
    """CSV of every prediction the filters select (owner-scoped)."""

    actor: User
    filters: PredictionFilters = PredictionFilters()


class GetPrediction(Command, frozen=True, kw_only=True):
    actor: User
    prediction_id: UUID


class GetPredictionImage(Command, frozen=True, kw_only=True):
    """The stored image as PNG, or its heatmap overlay when `heatmap` is set."""

    actor: User
    prediction_id: UUID
    heatmap: bool = False
    opacity: float = 0.45


class GetPredictionDicom(Command, frozen=True, kw_only=True):
    """The de-identified DICOM copy an analysis was made from."""

    actor: User
    prediction_id: UUID
    client: str | None = None


class GetLesionOverlay(Command, frozen=True, kw_only=True):
    """The stored image with the outline of the lesion the model found, as PNG."""

    actor: User
    prediction_id: UUID


class ReviewPrediction(Command, frozen=True, kw_only=True):
    actor: User
    prediction_id: UUID
    verdict: Verdict
    note: str = ""
    birads: BiRads | None = None


class RecordOutcome(Command, frozen=True, kw_only=True):
    """Record (or replace) what pathology or follow-up showed for an analysed image."""

    actor: User
    prediction_id: UUID
    result: PathologyResult
    source: OutcomeSource
    outcome_date: date
    histology: str = ""


class WithdrawOutcome(Command, frozen=True, kw_only=True):
    """Remove an outcome recorded by mistake."""

    actor: User
    prediction_id: UUID


class DeletePrediction(Command, frozen=True, kw_only=True):
    actor: User
    prediction_id: UUID


# --- studies ---------------------------------------------------------------------------


class CreateStudy(Command, frozen=True, kw_only=True):
    """Open a study (one patient visit); the study date defaults to today."""

    actor: User
    patient_ref: str
    study_date: date | None = None
    accession_number: str | None = None
    study_instance_uid: str | None = None


class UpdateStudy(Command, frozen=True, kw_only=True):
    """Correct a study's fields; None leaves a field as it is, "" clears an optional one."""

    actor: User
    study_id: UUID
    patient_ref: str | None = None
    study_date: date | None = None
    accession_number: str | None = None
    study_instance_uid: str | None = None


class AddImagesToStudy(Command, frozen=True, kw_only=True):
    """Analyse and store images into a study. `positions`: none, or one (maybe None) per
    upload. With no `study_id`, each DICOM upload files into the caller's study of its
    StudyInstanceUID, opened from its tags when there is none yet."""

    actor: User
    study_id: UUID | None
    uploads: tuple[Upload, ...]
    positions: tuple[ImagePosition | None, ...] = ()


def parse_day(raw: str | None, field: str) -> date | None:
    """An ISO date (2025-01-31) as typed; an empty value is no date."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"'{field}' must be an ISO date such as 2025-01-31.",
            ErrorCode.DATE_INVALID,
            field=field,
        ) from None


class StudyFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What narrows the study list; both ends of the date range are included."""

    patient_ref: str | None = None  # contains, case-insensitive
    accession: str | None = None  # contains, case-insensitive
    date_from: date | None = None
    date_to: date | None = None
    band: BandName | None = None  # some image of the study is in this band
    reviewed: bool | None = None  # True: all images reviewed; False: some are not

    @classmethod
    def parse(
        cls,
        *,
        patient_ref: str | None = None,
        accession: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        band: str | None = None,
        reviewed: bool | None = None,
    ) -> StudyFilters:
        """The filters from their typed form, the same for the API's query and the UI's form."""
        try:
            chosen = BandName(band) if band else None
        except ValueError:
            raise InvalidInput(f"Unknown band {band!r}.") from None
        return cls(
            patient_ref=plain_text((patient_ref or "").strip(), "patient_ref") or None,
            accession=plain_text((accession or "").strip(), "accession") or None,
            date_from=parse_day(date_from, "from"),
            date_to=parse_day(date_to, "to"),
            band=chosen,
            reviewed=reviewed,
        )


class ListStudies(Command, frozen=True, kw_only=True):
    actor: User
    filters: StudyFilters = StudyFilters()
    offset: int = 0
    limit: int = 20


class PlaceStudyImage(Command, frozen=True, kw_only=True):
    """Set (or, with None, clear) where an image of a study was taken."""

    actor: User
    study_id: UUID
    prediction_id: UUID
    position: ImagePosition | None


class DeleteStudy(Command, frozen=True, kw_only=True):
    """Delete a study with the analyses of its images (and their files once unreferenced)."""

    actor: User
    study_id: UUID


class GetStudy(Command, frozen=True, kw_only=True):
    """A study with its images, lesion assessments and the same patient's earlier studies."""

    actor: User
    study_id: UUID


class GetStudyReport(Command, frozen=True, kw_only=True):
    """The study's printable report, in `language` ("en" | "fr"; others read as "en")."""

    actor: User
    study_id: UUID
    language: str = "en"


class GetStatistics(Command, frozen=True, kw_only=True):
    actor: User
    filters: PredictionFilters = PredictionFilters()


class GetPerformance(Command, frozen=True, kw_only=True):
    """Real-world performance of the visible predictions that have outcomes."""

    actor: User
    filters: PredictionFilters = PredictionFilters()


class SweepImages(Command, frozen=True, kw_only=True):
    """Delete image files no prediction refers to, once untouched for `grace_seconds`."""

    grace_seconds: int = 3600


class DescribeModel(Command, frozen=True, kw_only=True):
    pass


class CheckReadiness(Command, frozen=True, kw_only=True):
    pass


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """What stops this process from taking traffic, if anything."""

    database: DatabaseStatus | None  # None: unreachable, see database_error
    database_error: str | None = None
    model: ModelInfo | None  # None: not loadable, see model_error
    model_error: str | None = None

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.database is None:
            found.append("database unreachable")
        elif not self.database.at_head:
            found.append(
                f"database migrations {self.database.migrations}: run `breastscan migrate`"
            )
        if self.model is None:
            found.append(self.model_error or "model not loaded")
        return found

    @property
    def ready(self) -> bool:
        return not self.reasons


# --- PACS ------------------------------------------------------------------------------


class SearchPacs(Command, frozen=True, kw_only=True):
    """Find studies on the PACS by patient reference and/or accession number."""

    actor: User
    patient_ref: str | None = None
    accession_number: str | None = None
    limit: int = 50


class ImportStudyFromPacs(Command, frozen=True, kw_only=True):
    """Retrieve a PACS study and analyse its images into a study. A partial retrieve stores
    nothing unless `accept_partial`, when what arrived is analysed and the rest named."""

    actor: User
    study_instance_uid: str
    accept_partial: bool = False


class SkippedObject(msgspec.Struct, frozen=True):
    """A retrieved or received object that was not analysed, and why."""

    sop_instance_uid: str
    sop_class_uid: str
    reason: str  # "not_an_image" | an InvalidImage code


class PacsImport(msgspec.Struct, frozen=True):
    """Result of ImportStudyFromPacs: what was analysed, skipped and (when partial) missing."""

    study_instance_uid: str
    study_ids: tuple[UUID, ...]
    predictions: tuple[Prediction, ...]
    skipped: tuple[SkippedObject, ...]
    missing: tuple[str, ...]


class SendResultsToPacs(Command, frozen=True, kw_only=True):
    """Store a study's findings on the PACS as a new SR (+ SEGs), after earlier versions."""

    actor: User
    study_id: UUID
    client: str | None = None


class PacsSendReceipt(msgspec.Struct, frozen=True):
    """Result of SendResultsToPacs."""

    study_instance_uid: str
    report_uid: str
    segmentations: int
    images: int
    previous_reports: int  # earlier reports the new one names as its predecessors


class DicomObject(msgspec.Struct, frozen=True):
    """A DICOM object received or retrieved: its identity and its Part 10 bytes."""

    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    data: bytes


class ReceivePacsImages(Command, frozen=True, kw_only=True):
    """File images a DICOM node sent (C-STORE) into studies under the service account."""

    service_account: str  # email of the account the listener files under
    objects: tuple[DicomObject, ...]
