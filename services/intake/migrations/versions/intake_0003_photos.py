"""photos

Revision ID: intake_0003
Revises: intake_0002
Create Date: 2026-11-22 09:44:17.723887
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0003"
down_revision: str | None = "intake_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("store_key", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repair_id"],
            ["intake.repairs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="intake",
    )
    op.create_index(
        op.f("ix_intake_photos_repair_id"), "photos", ["repair_id"], unique=False, schema="intake"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_intake_photos_repair_id"), table_name="photos", schema="intake")
    op.drop_table("photos", schema="intake")
