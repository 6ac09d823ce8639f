"""intake tables

Revision ID: intake_0001
Revises:
Create Date: 2026-11-22 08:25:09.402322
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="intake",
    )
    op.create_index(
        op.f("ix_intake_outbox_repair_id"), "outbox", ["repair_id"], unique=False, schema="intake"
    )
    op.create_index(
        "outbox_pending",
        "outbox",
        ["next_attempt_at"],
        unique=False,
        schema="intake",
        postgresql_where="delivered_at IS NULL",
    )
    op.create_table(
        "repairs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ticket", sa.String(length=48), nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("common_area", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("reporter_name", sa.String(length=100), nullable=False),
        sa.Column("reporter_phone", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preferred_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrive_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrive_rule", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket"),
        schema="intake",
    )
    op.create_index(
        op.f("ix_intake_repairs_project"), "repairs", ["project"], unique=False, schema="intake"
    )
    op.create_table(
        "ticket_counters",
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project"),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_table("ticket_counters", schema="intake")
    op.drop_index(op.f("ix_intake_repairs_project"), table_name="repairs", schema="intake")
    op.drop_table("repairs", schema="intake")
    op.drop_index(
        "outbox_pending",
        table_name="outbox",
        schema="intake",
        postgresql_where="delivered_at IS NULL",
    )
    op.drop_index(op.f("ix_intake_outbox_repair_id"), table_name="outbox", schema="intake")
    op.drop_table("outbox", schema="intake")
