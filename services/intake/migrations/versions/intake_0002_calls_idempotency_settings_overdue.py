"""calls, idempotency, settings, overdue

Revision ID: intake_0002
Revises: intake_0001
Create Date: 2026-11-22 09:23:29.204766
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0002"
down_revision: str | None = "intake_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_settings",
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("duplicate_window_hours", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project"),
        schema="intake",
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["repair_id"],
            ["intake.repairs.id"],
        ),
        sa.PrimaryKeyConstraint("scope", "key"),
        schema="intake",
    )
    op.create_table(
        "repair_calls",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reporter_name", sa.String(length=100), nullable=False),
        sa.Column("reporter_phone", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repair_id"],
            ["intake.repairs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="intake",
    )
    op.create_index(
        op.f("ix_intake_repair_calls_repair_id"),
        "repair_calls",
        ["repair_id"],
        unique=False,
        schema="intake",
    )
    op.add_column(
        "repairs",
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        schema="intake",
    )
    op.create_index(
        "repairs_by_phone", "repairs", ["reporter_phone"], unique=False, schema="intake"
    )
    op.create_index(
        "repairs_by_place",
        "repairs",
        ["project", "building", "unit", "common_area", "category"],
        unique=False,
        schema="intake",
    )
    op.create_index(
        "repairs_by_time",
        "repairs",
        [sa.literal_column("received_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        schema="intake",
    )


def downgrade() -> None:
    op.drop_index("repairs_by_time", table_name="repairs", schema="intake")
    op.drop_index("repairs_by_place", table_name="repairs", schema="intake")
    op.drop_index("repairs_by_phone", table_name="repairs", schema="intake")
    op.drop_column("repairs", "overdue_at", schema="intake")
    op.drop_index(
        op.f("ix_intake_repair_calls_repair_id"), table_name="repair_calls", schema="intake"
    )
    op.drop_table("repair_calls", schema="intake")
    op.drop_table("idempotency_keys", schema="intake")
    op.drop_table("project_settings", schema="intake")
