"""webhooks

Revision ID: intake_0005
Revises: intake_0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0005"
down_revision: str | None = "intake_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("group", sa.String(length=32), nullable=True),
        sa.Column("projects", postgresql.ARRAY(sa.String(length=32)), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="intake",
    )
    op.create_index(
        op.f("ix_intake_webhooks_group"), "webhooks", ["group"], unique=False, schema="intake"
    )
    op.create_index(
        op.f("ix_intake_webhooks_key_id"), "webhooks", ["key_id"], unique=False, schema="intake"
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("stream_seq", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["intake.webhooks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("webhook_id", "event_id"),
        schema="intake",
    )
    op.create_index(
        "webhook_deliveries_by_webhook",
        "webhook_deliveries",
        ["webhook_id", "id"],
        unique=False,
        schema="intake",
    )
    op.create_index(
        "webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        unique=False,
        schema="intake",
        postgresql_where="delivered_at IS NULL AND failed_at IS NULL",
    )
    op.create_index(
        "webhook_deliveries_open",
        "webhook_deliveries",
        ["webhook_id", "repair_id", "stream_seq"],
        unique=False,
        schema="intake",
        postgresql_where="delivered_at IS NULL AND failed_at IS NULL",
    )


def downgrade() -> None:
    op.drop_index(
        "webhook_deliveries_open",
        table_name="webhook_deliveries",
        schema="intake",
        postgresql_where="delivered_at IS NULL AND failed_at IS NULL",
    )
    op.drop_index(
        "webhook_deliveries_due",
        table_name="webhook_deliveries",
        schema="intake",
        postgresql_where="delivered_at IS NULL AND failed_at IS NULL",
    )
    op.drop_index("webhook_deliveries_by_webhook", table_name="webhook_deliveries", schema="intake")
    op.drop_table("webhook_deliveries", schema="intake")
    op.drop_index(op.f("ix_intake_webhooks_key_id"), table_name="webhooks", schema="intake")
    op.drop_index(op.f("ix_intake_webhooks_group"), table_name="webhooks", schema="intake")
    op.drop_table("webhooks", schema="intake")
