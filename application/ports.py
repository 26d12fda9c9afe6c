"""Ports: what the use cases need from the outside world, implemented by adapters.

Every port is a runtime-checkable Protocol (Litestar checks injected instances against them).
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Generic, Literal, Protocol, Self, TypeVar, runtime_checkable
from uuid import UUID

from domain.bands import DEFAULT_BORDERLINE_MARGIN, FALLBACK_BANDS, Band, BandName, Likelihood
from domain.lesions import LesionFinding
from domain.performance import OutcomePoint
from domain.predictions import Label, Prediction, Review, Statistics
from domain.studies import ImagePosition, Laterality, Study, StudySummary
from domain.users import Role, User

T = TypeVar("T")

# Class-activation map on the model's last convolutional grid, rows of non-negative floats.
CamGrid = tuple[tuple[float, ...], ...]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


# --- persistence -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PredictionQuery:
    """Owner-scoped, filtered, newest-first listing. owner_id None means everyone (admins)."""

    owner_id: UUID | None
    offset: int = 0
    limit: int = 20
    label: Label | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    reviewed: bool | None = None
    filename_contains: str | None = None
    bands: frozenset[BandName] = frozenset()  # in one of these bands; empty: any band


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: UUID
    at: datetime
    actor_id: UUID | None
    action: str  # e.g. "login.success", "prediction.created"
    target_type: str | None = None  # "user" | "prediction"
    target_id: str | None = None
    detail: str = ""  # short, human readable; never passwords, tokens or image bytes
    client: str | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor_id: UUID | None = None
    action: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None
    offset: int = 0
    limit: int = 50


@runtime_checkable
class UserRepository(Protocol):
    """Stores users; never commits."""

    async def add(self, user: User) -> None: ...
    async def get(self, user_id: UUID) -> User | None: ...
    async def get_by_email(self, email: str) -> User | None: ...
    async def update(self, user: User) -> None: ...
    async def list(self, offset: int, limit: int) -> Page[User]: ...
    async def count(self) -> int: ...


@runtime_checkable
class PredictionRepository(Protocol):
    """Stores predictions and their reviews; never commits."""

    async def add(self, prediction: Prediction, cam: CamGrid | None) -> None: ...
    async def get(self, prediction_id: UUID) -> Prediction | None: ...
    async def get_cam(self, prediction_id: UUID) -> CamGrid | None: ...
    async def update_review(self, prediction: Prediction) -> None: ...
    async def update_outcome(self, prediction: Prediction) -> None:
        """Store the prediction's outcome (delete it when None); NotFound when absent."""
        ...

    async def delete(self, prediction_id: UUID) -> None: ...
    async def list(self, query: PredictionQuery) -> Page[Prediction]: ...
    async def all_matching(self, query: PredictionQuery) -> builtins.list[Prediction]:
        """Every prediction the query's filters select, ignoring offset/limit."""
        ...

    async def count_with_image(self, image_sha256: str) -> int:
        """Predictions whose stored image or DICOM copy has this address."""
        ...

    async def images_in_use(self, digests: Sequence[str]) -> set[str]:
        """Which of `digests` some prediction refers to (as its image or its DICOM copy)."""
        ...


@dataclass(frozen=True, slots=True)
class StudyQuery:
    """Owner-scoped, filtered study listing, newest visit first. owner_id None: everyone's."""

    owner_id: UUID | None
    offset: int = 0
    limit: int = 20
    patient_ref_contains: str | None = None
    accession_contains: str | None = None
    date_from: date | None = None  # study date, inclusive
    date_to: date | None = None  # inclusive
    band: str | None = None  # some image of the study is in this band
    reviewed: bool | None = None  # True: every image reviewed; False: some image is not


@runtime_checkable
class StudyRepository(Protocol):
    """Stores studies and reads the images filed in them; never commits."""

    async def add(self, study: Study) -> None: ...
    async def get(self, study_id: UUID) -> Study | None: ...
    async def get_many(self, study_ids: Sequence[UUID]) -> dict[UUID, Study]:
        """The studies with these ids, by id (absent ones left out)."""
        ...

    async def get_by_uid(self, owner_id: UUID, study_instance_uid: str) -> Study | None: ...
    async def update(self, study: Study) -> None: ...
    async def delete(self, study_id: UUID) -> None:
        """Remove the study; predictions still filed in it become loose."""
        ...

    async def place(self, prediction_id: UUID, position: ImagePosition | None) -> None:
        """Set (or clear) where a filed image was taken; NotFound when it is not filed."""
        ...

    async def list(self, query: StudyQuery) -> Page[StudySummary]: ...
    async def of_patient(self, patient_ref: str, owner_id: UUID | None) -> builtins.list[Study]:
        """Every study with exactly this patient reference (of one owner, or everyone's)."""
        ...

    async def images(self, study_ids: Sequence[UUID]) -> dict[UUID, builtins.list[Prediction]]:
        """The predictions filed in each study, oldest first (every id is a key)."""
        ...


@runtime_checkable
class StatisticsReader(Protocol):
    """Read port of the dashboard: the statistics of the predictions a query selects
    (offset/limit ignored), aggregated where they are stored; nothing is loaded one by one.
    Outside any unit of work: it reads what is committed."""

    async def summarise(self, query: PredictionQuery, bins: int = 10) -> Statistics: ...


@runtime_checkable
class PerformanceReader(Protocol):
    """Read port of the real-world performance panel: one narrow point per prediction the
    query selects that has an outcome (the AUC needs each probability, so no further
    aggregation); offset/limit ignored, outside any unit of work."""

    async def outcome_points(self, query: PredictionQuery) -> list[OutcomePoint]: ...


@runtime_checkable
class AuditLog(Protocol):
    """Append-only record of who did what to which record, and when."""

    async def record(self, entry: AuditEntry) -> None: ...
    async def list(self, query: AuditQuery) -> Page[AuditEntry]: ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction: leaving the block without commit() rolls back."""

    users: UserRepository
    predictions: PredictionRepository
    studies: StudyRepository
    audit: AuditLog

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    """A database that answered: its backend and its schema revision against this code's."""

    backend: str  # "sqlite" | "postgresql" | ...
    revision: str | None  # None: never migrated
    head: str

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    @property
    def migrations(self) -> Literal["head", "behind", "missing"]:
        if self.at_head:
            return "head"
        return "missing" if self.revision is None else "behind"


@runtime_checkable
class HealthProbe(Protocol):
    """Tells whether the database is reachable (else DatabaseUnavailable) and migrated."""

    async def check(self) -> DatabaseStatus: ...


# --- security --------------------------------------------------------------------------


@runtime_checkable
class PasswordHasher(Protocol):
    """Hashes and verifies passwords off the event loop."""

    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


@runtime_checkable
class PasswordStrength(Protocol):
    """Scores how guessable a password is, 0 (trivially) to 4 (very hard); `hints` are words
    the account itself gives away (its email, its name)."""

    def score(self, password: str, hints: Sequence[str]) -> int: ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: UUID
    token_version: int
    jti: str
    expires_at: datetime


@runtime_checkable
class TokenService(Protocol):
    """Issues and verifies access tokens; decode raises NotAuthenticated on any defect."""

    def issue(self, user: User) -> IssuedToken: ...
    def decode(self, token: str) -> TokenClaims: ...


@runtime_checkable
class LoginThrottle(Protocol):
    """Slows down password guessing per account and per client address."""

    async def check(self, email: str, client: str | None) -> None:
        """Raise TooManyAttempts when this email or client is locked out."""
        ...

    async def record_failure(self, email: str, client: str | None) -> None: ...
    async def record_success(self, email: str, client: str | None) -> None: ...


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


# --- images and inference --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DicomInfo:
    """What a DICOM upload says about where it came from (identifying tags kept only as needed)."""

    patient_id: str | None  # (0010,0020) PatientID: the clinic's MRN = study patient reference
    accession_number: str | None  # (0008,0050)
    # Retained (DICOM PS3.15 Retain UIDs option) so results can reference PACS objects.
    study_instance_uid: str | None
    series_instance_uid: str | None
    sop_instance_uid: str | None
    sop_class_uid: str | None
    study_date: date | None  # (0008,0020)
    laterality: str | None  # "L" / "R" from ImageLaterality/Laterality, else None
    view: str | None  # free text from ViewCodeSequence / ViewPosition / SeriesDescription
    frame_index: int  # 0-based frame analysed
    frame_count: int
    # Part 10 de-identified copy (basic profile, retain UIDs): what is stored; kept out of reprs.
    deidentified: bytes = field(repr=False)
    # Its content address, computed where the DicomInfo is made: in the decoder's worker
    # thread, not on the event loop of the use case that stores it.
    deidentified_sha256: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256(self.deidentified).hexdigest()
        object.__setattr__(self, "deidentified_sha256", digest)


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """An accepted upload: the model input and a metadata-free copy for storage."""

    model_input: bytes  # uint8 RGB, MODEL_INPUT_SIZE x MODEL_INPUT_SIZE x 3, row-major
    # Metadata stripped, orientation applied: PNG, or the upload's own JPEG stream when it
    # needs no rotation (no re-encode). The media type follows from the bytes.
    stored_image: bytes
    sha256: str  # of stored_image: the content address
    width: int  # of the upload, orientation applied
    height: int
    source_format: str  # "PNG" | "JPEG" | ...
    # Size of stored_image (the upload may be downscaled for storage); None: same as the upload.
    stored_width: int | None = None
    stored_height: int | None = None
    # Millimetres per stored-image pixel (row, column) when the source says so (DICOM).
    pixel_spacing_mm: tuple[float, float] | None = None
    dicom: DicomInfo | None = None  # None for PNG/JPEG

    @property
    def stored_size(self) -> tuple[int, int]:
        return (self.stored_width or self.width, self.stored_height or self.height)


@runtime_checkable
class ImageDecoder(Protocol):
    """Turns uploaded bytes into a DecodedImage, or raises an InvalidImage subclass; `frame`
    (0-based) picks a multi-frame file's frame (None: the first)."""

    async def decode(
        self, data: bytes, filename: str, frame: int | None = None
    ) -> DecodedImage: ...


@runtime_checkable
class HeatmapRenderer(Protocol):
    """Overlays a class-activation map on a stored image and returns PNG bytes."""

    async def render(self, stored_image: bytes, cam: CamGrid, opacity: float = 0.45) -> bytes: ...


@runtime_checkable
class LesionRenderer(Protocol):
    """Draws a lesion finding's outline on a stored image and returns PNG bytes."""

    async def render(self, stored_image: bytes, lesion: LesionFinding) -> bytes: ...


# --- reports ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportView:
    """One analysed image in a study report: the model's result, its overlays, the review."""

    filename: str
    position: ImagePosition | None
    p_malignant: float
    threshold: float
    model_version: str
    likelihood: Likelihood  # the band and borderline mark stored with the prediction
    outline_png: bytes | None  # the stored image with the lesion outline; None: none found
    heatmap_png: bytes | None  # the stored image with the class-activation map
    review: Review | None = None
    reviewer: str | None = None  # the reviewer's name (or email)


@dataclass(frozen=True, slots=True)
class ReportLesion:
    """The views of one lesion; the lesion's result is its most suspicious view's."""

    laterality: Laterality
    lesion_number: int
    driving: ReportView
    views: tuple[ReportView, ...]


@dataclass(frozen=True, slots=True)
class StudyReport:
    """What a study's printable report says, in `language` ("en" | "fr")."""

    patient_ref: str
    accession_number: str | None
    study_date: date
    generated_at: datetime
    generated_by: str
    language: str
    lesions: tuple[ReportLesion, ...]
    unplaced: tuple[ReportView, ...]  # images without a position


@runtime_checkable
class ReportRenderer(Protocol):
    """Lays a study report out as a printable PDF, off the event loop."""

    async def render(self, report: StudyReport) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ModelInfo:
    version: str
    threshold: float
    positive_class: str
    input_size: int
    providers: tuple[str, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)
    # Whether the model outlines lesions (its `lesion` output, from model 2.0), and the
    # probability at which a pixel counts as lesion (metadata `lesion_threshold`).
    has_lesion_output: bool = False
    lesion_threshold: float | None = None
    # Likelihood bands (metadata `likelihood_bands`, else domain.bands.FALLBACK_BANDS), the
    # borderline margin around the threshold, and the sensitivity the threshold was chosen
    # to reach in validation (None when the model does not say).
    bands: tuple[Band, ...] = FALLBACK_BANDS
    borderline_margin: float = DEFAULT_BORDERLINE_MARGIN
    sensitivity_floor: float | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    p_malignant: float
    cam: CamGrid
    lesion: LesionFinding | None = None  # None when the model has no lesion output


@dataclass(frozen=True, slots=True)
class Tensor:
    """A dense row-major tensor as raw little-endian bytes, the way the inference protocol
    (KServe V2) carries it."""

    name: str
    datatype: str  # the protocol's names: "UINT8" | "FP32"
    shape: tuple[int, ...]
    data: bytes


@runtime_checkable
class TumorClassifier(Protocol):
    """Estimates the probability of malignancy, off the event loop."""

    @property
    def model(self) -> ModelInfo: ...

    async def classify(self, images: Sequence[DecodedImage]) -> list[Classification]: ...

    async def infer(self, image: Tensor) -> tuple[Tensor, ...]:
        """The graph's raw outputs for a checked UINT8 [N,128,128,3] `image` tensor, in one
        run: FP32 `p_malignant` [N], `cam` [N,h,w] and, when the model has it, `lesion`."""
        ...


@runtime_checkable
class ImageStore(Protocol):
    """Content-addressed storage of re-encoded images and de-identified DICOM copies."""

    async def put(self, sha256: str, data: bytes) -> None: ...
    async def get(self, sha256: str) -> bytes:
        """Raise NotFound when absent."""
        ...

    async def delete(self, sha256: str) -> None: ...
    async def exists(self, sha256: str) -> bool: ...
    async def stored_before(self, cutoff: datetime) -> list[str]:
        """Digests of the images last written (or re-put) before `cutoff`."""
        ...

    async def delete_if_stored_before(self, sha256: str, cutoff: datetime) -> bool:
        """Delete the image unless it was written or re-put since `cutoff`; True if deleted."""
        ...


# --- PACS (DICOM networking and DICOMweb) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class PacsStudy:
    """A study the PACS holds, as its search (QIDO-RS) describes it."""

    study_instance_uid: str
    patient_id: str | None
    accession_number: str | None
    study_date: date | None
    description: str | None
    modalities: tuple[str, ...]
    instance_count: int | None


@dataclass(frozen=True, slots=True)
class PacsInstance:
    """One DICOM object retrieved from the PACS: its identity and its Part 10 bytes."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    data: bytes


@dataclass(frozen=True, slots=True)
class RetrievedStudy:
    """What a retrieve brought back; `missing` names the instances the PACS listed but did
    not deliver (a partial retrieve)."""

    study_instance_uid: str
    instances: tuple[PacsInstance, ...]
    missing: tuple[str, ...] = ()


@runtime_checkable
class PacsClient(Protocol):
    """The clinic's PACS: search studies, retrieve their instances, store result objects.
    Raises PacsUnavailable when it cannot be reached (after retrying) and NotFound for a
    study it does not hold."""

    async def find_studies(
        self, patient_id: str | None, accession_number: str | None, limit: int = 50
    ) -> builtins.list[PacsStudy]: ...
    async def retrieve_study(self, study_instance_uid: str) -> RetrievedStudy: ...
    async def retrieve_instance(
        self, study_instance_uid: str, series_instance_uid: str, sop_instance_uid: str
    ) -> bytes: ...
    async def find_results(
        self, study_instance_uid: str, manufacturer: str
    ) -> builtins.list[bytes]:
        """The structured reports `manufacturer` stored earlier in this study (Part 10)."""
        ...

    async def store(self, objects: Sequence[bytes]) -> None: ...


@dataclass(frozen=True, slots=True)
class ImageFindings:
    """One analysed PACS image's findings, as they go back to the PACS."""

    source: bytes  # the analysed image (Part 10): its UIDs, geometry, patient and study
    frame_index: int  # 0-based
    p_malignant: float
    threshold: float
    band: str | None  # domain.bands.BandName value
    model_name: str
    model_version: str
    laterality: str | None  # "L" | "R"
    clock_position: float | None  # hours, 1.0 .. 12.5 (domain.studies.ImagePosition)
    distance_cm: float | None  # from the nipple
    birads: str | None  # the reviewer's BI-RADS category ("0".."6", "4A".."4C") when reviewed
    lesion: LesionFinding | None
    outline_size: tuple[int, int]  # (width, height) of the image the outline coordinates use


@dataclass(frozen=True, slots=True)
class ResultObjects:
    """The DICOM objects written for one study's analyses (Part 10 bytes)."""

    report: bytes  # Comprehensive SR of the findings
    report_uid: str
    segmentations: tuple[bytes, ...]  # a binary SEG per image with an outlined lesion


@runtime_checkable
class ResultDocumentBuilder(Protocol):
    """Writes analyses as DICOM objects a PACS viewer shows; `previous` (earlier reports for
    the same study) become the new report's predecessor documents, never replaced."""

    manufacturer: str

    async def build(
        self, findings: Sequence[ImageFindings], previous: Sequence[bytes]
    ) -> ResultObjects: ...


__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditQuery",
    "CamGrid",
    "Classification",
    "Clock",
    "DatabaseStatus",
    "DecodedImage",
    "DicomInfo",
    "HealthProbe",
    "HeatmapRenderer",
    "ImageDecoder",
    "ImageFindings",
    "ImageStore",
    "IssuedToken",
    "LesionRenderer",
    "LoginThrottle",
    "ModelInfo",
    "PacsClient",
    "PacsInstance",
    "PacsStudy",
    "Page",
    "PasswordHasher",
    "PerformanceReader",
    "PredictionQuery",
    "PredictionRepository",
    "ReportLesion",
    "ReportRenderer",
    "ReportView",
    "ResultDocumentBuilder",
    "ResultObjects",
    "RetrievedStudy",
    "Role",
    "StatisticsReader",
    "StudyQuery",
    "StudyReport",
    "StudyRepository",
    "Tensor",
    "TokenClaims",
    "TokenService",
    "TumorClassifier",
    "UnitOfWork",
    "UserRepository",
]
