"""Lesion findings (model 2.0): the outlined lesion of a prediction, one row per prediction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lesion_findings",
        sa.Column("prediction_id", sa.Uuid(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("area_fraction", sa.Double(), nullable=False),
        sa.Column("area_mm2", sa.Double(), nullable=True),
        sa.Column("max_probability", sa.Double(), nullable=False),
        sa.Column("bbox_x", sa.Integer(), nullable=True),
        sa.Column("bbox_y", sa.Integer(), nullable=True),
        sa.Column("bbox_width", sa.Integer(), nullable=True),
        sa.Column("bbox_height", sa.Integer(), nullable=True),
        sa.Column("outline_json", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "area_fraction >= 0 AND area_fraction <= 1",
            name=op.f("ck_lesion_findings_area_fraction_range"),
        ),
        sa.CheckConstraint(
            "max_probability >= 0 AND max_probability <= 1",
            name=op.f("ck_lesion_findings_probability_range"),
        ),
        sa.CheckConstraint(
            "area_mm2 IS NULL OR area_mm2 >= 0", name=op.f("ck_lesion_findings_area_mm2_range")
        ),
        sa.CheckConstraint(
            "(bbox_x IS NULL AND bbox_y IS NULL AND bbox_width IS NULL AND bbox_height IS NULL"
            " AND outline_json IS NULL)"
            " OR (bbox_x >= 0 AND bbox_y >= 0 AND bbox_width > 0 AND bbox_height > 0"
            " AND outline_json IS NOT NULL)",
            name=op.f("ck_lesion_findings_box_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["predictions.id"],
            name=op.f("fk_lesion_findings_prediction_id_predictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_lesion_findings")),
    )


def downgrade() -> None:
    op.drop_table("lesion_findings")
