"""followup tables

Revision ID: followup_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "followup_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("source_visit_id", sa.String(length=80), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee_role", sa.String(length=40), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="followup",
    )
    op.create_index(
        op.f("ix_followup_complaints_project"),
        "complaints",
        ["project"],
        unique=False,
        schema="followup",
    )
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("repair_ids", postgresql.ARRAY(sa.String(length=36)), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("detected_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="followup",
    )
    op.create_index(
        op.f("ix_followup_corrective_actions_project"),
        "corrective_actions",
        ["project"],
        unique=False,
        schema="followup",
    )
    op.create_table(
        "repairs",
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("ticket", sa.String(length=40), nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("common_area", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("repair_id"),
        schema="followup",
    )
    op.create_index(
        op.f("ix_followup_repairs_project"), "repairs", ["project"], unique=False, schema="followup"
    )
    op.create_table(
        "sampling",
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("selected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project", "kind", "period"),
        schema="followup",
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("repair_id", sa.String(length=36), nullable=True),
        sa.Column("complaint_id", sa.String(length=80), nullable=True),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("selected_by", sa.String(length=40), nullable=False),
        sa.Column("in_unit", sa.Boolean(), nullable=False),
        sa.Column("assignee_role", sa.String(length=40), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="followup",
    )
    op.create_index(
        op.f("ix_followup_visits_closes_at"),
        "visits",
        ["closes_at"],
        unique=False,
        schema="followup",
    )
    op.create_index(
        op.f("ix_followup_visits_project"), "visits", ["project"], unique=False, schema="followup"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_followup_visits_project"), table_name="visits", schema="followup")
    op.drop_index(op.f("ix_followup_visits_closes_at"), table_name="visits", schema="followup")
    op.drop_table("visits", schema="followup")
    op.drop_table("sampling", schema="followup")
    op.drop_index(op.f("ix_followup_repairs_project"), table_name="repairs", schema="followup")
    op.drop_table("repairs", schema="followup")
    op.drop_index(
        op.f("ix_followup_corrective_actions_project"),
        table_name="corrective_actions",
        schema="followup",
    )
    op.drop_table("corrective_actions", schema="followup")
    op.drop_index(
        op.f("ix_followup_complaints_project"), table_name="complaints", schema="followup"
    )
    op.drop_table("complaints", schema="followup")
