"""lifecycle read model and service levels

Revision ID: intake_0006
Revises: intake_0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0006"
down_revision: str | None = "intake_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "repair_steps",
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["repair_id"],
            ["intake.repairs.id"],
        ),
        sa.PrimaryKeyConstraint("repair_id", "sequence"),
        schema="intake",
    )
    op.add_column(
        "project_settings",
        sa.Column("service_levels", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="intake",
    )
    op.add_column(
        "repairs", sa.Column("trade", sa.String(length=32), nullable=True), schema="intake"
    )
    op.add_column(
        "repairs",
        sa.Column("finish_by", sa.DateTime(timezone=True), nullable=True),
        schema="intake",
    )
    op.add_column("repairs", sa.Column("finish_rule", sa.Text(), nullable=True), schema="intake")
    op.add_column(
        "repairs", sa.Column("technician_id", sa.String(length=32), nullable=True), schema="intake"
    )
    op.add_column(
        "repairs",
        sa.Column("reworks", sa.Integer(), server_default="0", nullable=False),
        schema="intake",
    )
    op.add_column(
        "repairs",
        sa.Column("warranty_outcome", sa.String(length=16), nullable=True),
        schema="intake",
    )
    op.add_column(
        "repairs",
        sa.Column("last_sequence", sa.Integer(), server_default="0", nullable=False),
        schema="intake",
    )


def downgrade() -> None:
    op.drop_column("repairs", "last_sequence", schema="intake")
    op.drop_column("repairs", "warranty_outcome", schema="intake")
    op.drop_column("repairs", "reworks", schema="intake")
    op.drop_column("repairs", "technician_id", schema="intake")
    op.drop_column("repairs", "finish_rule", schema="intake")
    op.drop_column("repairs", "finish_by", schema="intake")
    op.drop_column("repairs", "trade", schema="intake")
    op.drop_column("project_settings", "service_levels", schema="intake")
    op.drop_table("repair_steps", schema="intake")
