"""Studies (patient visits) and the images filed in them, with where each was taken.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("patient_ref", sa.String(64), nullable=False),
        sa.Column("accession_number", sa.String(16), nullable=True),
        sa.Column("study_date", sa.Date(), nullable=False),
        sa.Column("study_instance_uid", sa.String(64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_studies_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("owner_id", "study_instance_uid", name=op.f("uq_studies_owner_id_uid")),
    )
    op.create_index("ix_studies_owner_id_patient_ref", "studies", ["owner_id", "patient_ref"])
    op.create_index("ix_studies_patient_ref", "studies", ["patient_ref"])
    op.create_index("ix_studies_study_date", "studies", ["study_date"])
    op.create_table(
        "study_images",
        sa.Column("prediction_id", sa.Uuid(), nullable=False),
        sa.Column("study_id", sa.Uuid(), nullable=False),
        sa.Column("laterality", sa.String(1), nullable=True),
        sa.Column("lesion_number", sa.Integer(), nullable=True),
        sa.Column("view", sa.String(16), nullable=True),
        sa.Column("clock_position", sa.Double(), nullable=True),
        sa.Column("distance_cm", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "(laterality IS NULL AND lesion_number IS NULL AND view IS NULL"
            " AND clock_position IS NULL AND distance_cm IS NULL)"
            " OR (laterality IN ('L', 'R') AND lesion_number >= 1 AND view IS NOT NULL)",
            name=op.f("ck_study_images_position_complete"),
        ),
        sa.CheckConstraint(
            "clock_position IS NULL OR (clock_position >= 1 AND clock_position < 13)",
            name=op.f("ck_study_images_clock_range"),
        ),
        sa.CheckConstraint(
            "distance_cm IS NULL OR distance_cm >= 0", name=op.f("ck_study_images_distance_range")
        ),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["predictions.id"],
            name=op.f("fk_study_images_prediction_id_predictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_study_images_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_study_images")),
    )
    op.create_index("ix_study_images_study_id", "study_images", ["study_id"])


def downgrade() -> None:
    op.drop_index("ix_study_images_study_id", table_name="study_images")
    op.drop_table("study_images")
    op.drop_index("ix_studies_study_date", table_name="studies")
    op.drop_index("ix_studies_patient_ref", table_name="studies")
    op.drop_index("ix_studies_owner_id_patient_ref", table_name="studies")
    op.drop_table("studies")
