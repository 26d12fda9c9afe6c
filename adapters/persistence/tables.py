"""Tables of the persistence adapter (SQLAlchemy Core) and the UTC timestamp type.

Repositories map rows to domain entities explicitly; nothing here is imported by the core.
Migrations in `migrations/versions` create exactly this schema (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
    true,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, UTC datetimes out, on every backend.

    PostgreSQL stores `timestamptz`. SQLite has no time zones and would silently drop the
    offset, so values are converted to UTC and stored naive; the UTC tzinfo is re-attached
    on the way out. Naive datetimes are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite hands back text for values written by CURRENT_TIMESTAMP defaults
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


NOW = text("CURRENT_TIMESTAMP")

users = Table(
    "users",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(512), nullable=False),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean(), nullable=False, server_default=true()),
    Column("token_version", Integer(), nullable=False, server_default=text("0")),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False, server_default=NOW),
    CheckConstraint("role IN ('clinician', 'admin')", name="role"),
)

_BANDS = "'very_low', 'low', 'intermediate', 'high', 'very_high'"
_BIRADS = "'0', '1', '2', '3', '4A', '4B', '4C', '5', '6'"

predictions = Table(
    "predictions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("owner_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("image_sha256", String(64), nullable=False),
    Column("p_malignant", Double(), nullable=False),
    Column("threshold", Double(), nullable=False),
    Column("model_version", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False, server_default=NOW),
    # class-activation map on the model's grid, JSON list of rows; NULL when not kept
    Column("cam_json", Text(), nullable=True),
    Column("review_verdict", String(16), nullable=True),
    Column("review_note", Text(), nullable=True),
    Column("reviewer_id", Uuid(), ForeignKey("users.id"), nullable=True),
    Column("reviewed_at", UtcDateTime(), nullable=True),
    # likelihood band and borderline as the model of the day put them (domain.bands)
    Column("band", String(16), nullable=False),
    Column("borderline", Boolean(), nullable=False),
    Column("review_birads", String(2), nullable=True),
    # DICOM uploads: the de-identified copy in the image store, and the frame analysed
    Column("dicom_sha256", String(64), nullable=True),
    Column("frame_index", Integer(), nullable=True),
    Column("frame_count", Integer(), nullable=True),
    CheckConstraint("p_malignant >= 0 AND p_malignant <= 1", name="p_malignant_range"),
    CheckConstraint("threshold >= 0 AND threshold <= 1", name="threshold_range"),
    CheckConstraint(
        "review_verdict IS NULL OR review_verdict IN ('agree', 'disagree')", name="verdict"
    ),
    CheckConstraint(
        "(review_verdict IS NULL AND reviewer_id IS NULL AND reviewed_at IS NULL)"
        " OR (review_verdict IS NOT NULL AND reviewer_id IS NOT NULL AND reviewed_at IS NOT NULL)",
        name="review_complete",
    ),
    CheckConstraint(f"band IN ({_BANDS})", name="band"),
    CheckConstraint(
        f"review_birads IS NULL OR (review_verdict IS NOT NULL AND review_birads IN ({_BIRADS}))",
        name="birads",
    ),
    CheckConstraint(
        "(frame_index IS NULL AND frame_count IS NULL)"
        " OR (frame_index >= 0 AND frame_count > frame_index)",
        name="frame",
    ),
    Index("ix_predictions_owner_id_created_at", "owner_id", "created_at"),
    Index("ix_predictions_created_at", "created_at"),
    Index("ix_predictions_image_sha256", "image_sha256"),
    Index("ix_predictions_dicom_sha256", "dicom_sha256"),
)

# The lesion the model outlined for a prediction (model 2.0 on); no row when the model had
# no lesion output. Box and outline are in the stored image's pixels; the outline is a JSON
# list of [x, y] points. Deleted with its prediction.
lesion_findings = Table(
    "lesion_findings",
    metadata,
    Column(
        "prediction_id",
        Uuid(),
        ForeignKey("predictions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("found", Boolean(), nullable=False),
    Column("area_fraction", Double(), nullable=False),
    Column("area_mm2", Double(), nullable=True),
    Column("max_probability", Double(), nullable=False),
    Column("bbox_x", Integer(), nullable=True),
    Column("bbox_y", Integer(), nullable=True),
    Column("bbox_width", Integer(), nullable=True),
    Column("bbox_height", Integer(), nullable=True),
    Column("outline_json", Text(), nullable=True),
    CheckConstraint("area_fraction >= 0 AND area_fraction <= 1", name="area_fraction_range"),
    CheckConstraint("max_probability >= 0 AND max_probability <= 1", name="probability_range"),
    CheckConstraint("area_mm2 IS NULL OR area_mm2 >= 0", name="area_mm2_range"),
    CheckConstraint(
        "(bbox_x IS NULL AND bbox_y IS NULL AND bbox_width IS NULL AND bbox_height IS NULL"
        " AND outline_json IS NULL)"
        " OR (bbox_x >= 0 AND bbox_y >= 0 AND bbox_width > 0 AND bbox_height > 0"
        " AND outline_json IS NOT NULL)",
        name="box_complete",
    ),
)

# One patient visit; the study instance UID (when known) is unique per owner, so DICOM
# uploads of one study file into one record.
studies = Table(
    "studies",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("owner_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("patient_ref", String(64), nullable=False),
    Column("accession_number", String(16), nullable=True),
    Column("study_date", Date(), nullable=False),
    Column("study_instance_uid", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False, server_default=NOW),
    UniqueConstraint("owner_id", "study_instance_uid", name="uq_studies_owner_id_uid"),
    Index("ix_studies_owner_id_patient_ref", "owner_id", "patient_ref"),
    Index("ix_studies_study_date", "study_date"),
    Index("ix_studies_patient_ref", "patient_ref"),
)

# A prediction filed in a study, and where the image was taken (position columns all NULL
# when not given). No row: a loose upload. Deleted with its prediction or its study.
study_images = Table(
    "study_images",
    metadata,
    Column(
        "prediction_id",
        Uuid(),
        ForeignKey("predictions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("study_id", Uuid(), ForeignKey("studies.id", ondelete="CASCADE"), nullable=False),
    Column("laterality", String(1), nullable=True),
    Column("lesion_number", Integer(), nullable=True),
    Column("view", String(16), nullable=True),
    Column("clock_position", Double(), nullable=True),
    Column("distance_cm", Double(), nullable=True),
    CheckConstraint(
        "(laterality IS NULL AND lesion_number IS NULL AND view IS NULL"
        " AND clock_position IS NULL AND distance_cm IS NULL)"
        " OR (laterality IN ('L', 'R') AND lesion_number >= 1 AND view IS NOT NULL)",
        name="position_complete",
    ),
    CheckConstraint(
        "clock_position IS NULL OR (clock_position >= 1 AND clock_position < 13)",
        name="clock_range",
    ),
    CheckConstraint("distance_cm IS NULL OR distance_cm >= 0", name="distance_range"),
    Index("ix_study_images_study_id", "study_id"),
)

# The pathology (or follow-up) outcome of the image a prediction analysed: one per prediction,
# deleted with it.
outcomes = Table(
    "outcomes",
    metadata,
    Column(
        "prediction_id",
        Uuid(),
        ForeignKey("predictions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("result", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("outcome_date", Date(), nullable=False),
    Column("histology", Text(), nullable=False, server_default=""),
    Column("recorded_by", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    CheckConstraint("result IN ('benign', 'malignant')", name="result"),
    CheckConstraint("source IN ('biopsy', 'surgery', 'follow_up')", name="source"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("at", UtcDateTime(), nullable=False, server_default=NOW),
    # no foreign key: the record must outlive the user it mentions
    Column("actor_id", Uuid(), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("detail", Text(), nullable=False, server_default=""),
    Column("client", String(64), nullable=True),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor_id_at", "actor_id", "at"),
)

# Failed sign-in throttling shared by every API process. Keys are SHA-256 digests of the
# normalised email or the client address (never the raw values); times of recent failures
# and of checked attempts still awaiting their outcome are space-separated epoch microseconds.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Text(), nullable=False, server_default=""),
    Column("pending", Text(), nullable=False, server_default=""),
    Column("lockouts", Integer(), nullable=False, server_default=text("0")),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("last_failure_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=False),  # forgettable after this
    Index("ix_login_throttle_expires_at", "expires_at"),
)
