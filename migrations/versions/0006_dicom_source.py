"""DICOM uploads: the de-identified copy's content address and the frame analysed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FRAME = (
    "(frame_index IS NULL AND frame_count IS NULL)"
    " OR (frame_index >= 0 AND frame_count > frame_index)"
)


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("dicom_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("frame_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("frame_count", sa.Integer(), nullable=True))
        batch.create_check_constraint(op.f("ck_predictions_frame"), FRAME)
        batch.create_index("ix_predictions_dicom_sha256", ["dicom_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_index("ix_predictions_dicom_sha256")
        batch.drop_constraint(op.f("ck_predictions_frame"), type_="check")
        batch.drop_column("frame_count")
        batch.drop_column("frame_index")
        batch.drop_column("dicom_sha256")
