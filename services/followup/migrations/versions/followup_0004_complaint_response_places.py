"""complaint response, common-area repeats, completion

Revision ID: followup_0004
Revises: followup_0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "followup_0004"
down_revision: str | None = "followup_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A complaint is answered within 24 hours of being opened (the policy's default):
    # complaints stored before get that deadline.
    op.add_column(
        "complaints",
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=True),
        schema="followup",
    )
    op.execute("UPDATE followup.complaints SET respond_by = opened_at + interval '24 hours'")
    op.alter_column("complaints", "respond_by", nullable=False, schema="followup")
    op.add_column(
        "complaints",
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        schema="followup",
    )
    op.add_column(
        "complaints",
        sa.Column("late_at", sa.DateTime(timezone=True), nullable=True),
        schema="followup",
    )
    op.add_column(
        "complaints",
        sa.Column(
            "escalations",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
        schema="followup",
    )
    op.alter_column("complaints", "escalations", server_default=None, schema="followup")
    op.add_column(
        "corrective_actions",
        sa.Column("common_area", sa.String(length=100), nullable=True),
        schema="followup",
    )
    op.alter_column(
        "corrective_actions",
        "id",
        existing_type=sa.VARCHAR(length=120),
        type_=sa.String(length=240),
        existing_nullable=False,
        schema="followup",
    )
    op.alter_column(
        "corrective_actions",
        "unit",
        existing_type=sa.VARCHAR(length=32),
        nullable=True,
        schema="followup",
    )
    op.add_column(
        "repairs",
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        schema="followup",
    )
    op.create_index(
        op.f("ix_followup_visits_served_at"),
        "visits",
        ["served_at"],
        unique=False,
        schema="followup",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_followup_visits_served_at"), table_name="visits", schema="followup")
    op.drop_column("repairs", "completed_at", schema="followup")
    # A common area's corrective actions have no unit: they cannot go back.
    op.execute("DELETE FROM followup.corrective_actions WHERE unit IS NULL")
    op.alter_column(
        "corrective_actions",
        "unit",
        existing_type=sa.VARCHAR(length=32),
        nullable=False,
        schema="followup",
    )
    op.alter_column(
        "corrective_actions",
        "id",
        existing_type=sa.String(length=240),
        type_=sa.VARCHAR(length=120),
        existing_nullable=False,
        schema="followup",
    )
    op.drop_column("corrective_actions", "common_area", schema="followup")
    op.drop_column("complaints", "escalations", schema="followup")
    op.drop_column("complaints", "late_at", schema="followup")
    op.drop_column("complaints", "reminded_at", schema="followup")
    op.drop_column("complaints", "respond_by", schema="followup")
