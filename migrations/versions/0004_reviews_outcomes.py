"""Likelihood band and borderline stored per prediction, BI-RADS on the review, outcomes.

Rows from before the bands get the fallback BI-RADS cut-points (2/10/50/95 %, the same as
model 2.0's) and the default borderline margin (0.05) around their own threshold.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS = "'very_low', 'low', 'intermediate', 'high', 'very_high'"
BIRADS = "'0', '1', '2', '3', '4A', '4B', '4C', '5', '6'"
BACKFILL = """
UPDATE predictions SET
  band = CASE
    WHEN p_malignant < 0.02 THEN 'very_low'
    WHEN p_malignant < 0.1 THEN 'low'
    WHEN p_malignant < 0.5 THEN 'intermediate'
    WHEN p_malignant < 0.95 THEN 'high'
    ELSE 'very_high' END,
  borderline = (ABS(p_malignant - threshold) <= 0.05)
"""


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("band", sa.String(16), nullable=True))
        batch.add_column(sa.Column("borderline", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("review_birads", sa.String(2), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("predictions") as batch:
        batch.alter_column("band", existing_type=sa.String(16), nullable=False)
        batch.alter_column("borderline", existing_type=sa.Boolean(), nullable=False)
        batch.create_check_constraint(op.f("ck_predictions_band"), f"band IN ({BANDS})")
        batch.create_check_constraint(
            op.f("ck_predictions_birads"),
            "review_birads IS NULL"
            f" OR (review_verdict IS NOT NULL AND review_birads IN ({BIRADS}))",
        )
    op.create_table(
        "outcomes",
        sa.Column("prediction_id", sa.Uuid(), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("outcome_date", sa.Date(), nullable=False),
        sa.Column("histology", sa.Text(), nullable=False, server_default=""),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("result IN ('benign', 'malignant')", name=op.f("ck_outcomes_result")),
        sa.CheckConstraint(
            "source IN ('biopsy', 'surgery', 'follow_up')", name=op.f("ck_outcomes_source")
        ),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["predictions.id"],
            name=op.f("fk_outcomes_prediction_id_predictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_outcomes_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("prediction_id", name=op.f("pk_outcomes")),
    )


def downgrade() -> None:
    op.drop_table("outcomes")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_constraint(op.f("ck_predictions_birads"), type_="check")
        batch.drop_constraint(op.f("ck_predictions_band"), type_="check")
        batch.drop_column("review_birads")
        batch.drop_column("borderline")
        batch.drop_column("band")
