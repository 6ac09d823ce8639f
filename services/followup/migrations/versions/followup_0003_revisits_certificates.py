"""revisits certificates

Revision ID: followup_0003
Revises: followup_0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "followup_0003"
down_revision: str | None = "followup_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("issued_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("project", "building", "unit"),
        schema="followup",
    )
    op.create_table(
        "revisits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=100), nullable=True),
        sa.Column("found_repair_ids", postgresql.ARRAY(sa.String(length=36)), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "project", "year", "kind", "due_on", "building", "scope", name="uq_revisits_plan_item"
        ),
        schema="followup",
    )
    op.create_index(
        "ix_followup_revisits_project_due_on",
        "revisits",
        ["project", "due_on"],
        unique=False,
        schema="followup",
    )
    op.add_column(
        "complaints",
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        schema="followup",
    )


def downgrade() -> None:
    op.drop_column("complaints", "archived_at", schema="followup")
    op.drop_index("ix_followup_revisits_project_due_on", table_name="revisits", schema="followup")
    op.drop_table("revisits", schema="followup")
    op.drop_table("certificates", schema="followup")
