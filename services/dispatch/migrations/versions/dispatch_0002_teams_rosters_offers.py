"""teams rosters offers

Revision ID: dispatch_0002
Revises: dispatch_0001
Create Date: 2026-11-22 09:16:40.315357
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "dispatch_0002"
down_revision: str | None = "dispatch_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "needs",
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("trade", sa.String(length=32), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("delegate_to", sa.String(length=200), nullable=True),
        sa.Column("arrive_by", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("repair_id"),
        schema="dispatch",
    )
    op.create_table(
        "project_hours",
        sa.Column("project", sa.String(length=32), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("day_start", sa.Time(), nullable=False),
        sa.Column("day_end", sa.Time(), nullable=False),
        sa.Column(
            "extra_days_off",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column(
            "extra_working_days",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("project"),
        schema="dispatch",
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("party_name", sa.String(length=200), nullable=True),
        sa.Column("projects", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="dispatch",
    )
    op.create_table(
        "duty_leaders",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("technician_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["dispatch.teams.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["technician_id"], ["dispatch.technicians.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "day"),
        schema="dispatch",
    )
    op.create_table(
        "leave",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("technician_id", sa.String(length=32), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["technician_id"], ["dispatch.technicians.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_dispatch_leave_technician_id"),
        "leave",
        ["technician_id"],
        unique=False,
        schema="dispatch",
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("repair_id", sa.String(length=36), nullable=False),
        sa.Column("technician_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrive_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["dispatch.technicians.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_dispatch_offers_repair_id"),
        "offers",
        ["repair_id"],
        unique=False,
        schema="dispatch",
    )
    op.create_index(
        "offers_open",
        "offers",
        ["technician_id"],
        unique=False,
        schema="dispatch",
        postgresql_where="closed_at IS NULL",
    )
    op.create_table(
        "on_call",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("technician_id", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["technician_id"], ["dispatch.technicians.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_dispatch_on_call_technician_id"),
        "on_call",
        ["technician_id"],
        unique=False,
        schema="dispatch",
    )
    op.add_column(
        "technicians", sa.Column("team_id", sa.String(length=32), nullable=True), schema="dispatch"
    )
    op.add_column(
        "technicians",
        sa.Column("day_shift", sa.Boolean(), server_default="true", nullable=False),
        schema="dispatch",
    )
    op.add_column(
        "technicians",
        sa.Column("max_open_orders", sa.Integer(), server_default="3", nullable=False),
        schema="dispatch",
    )
    op.create_foreign_key(
        None,
        "technicians",
        "teams",
        ["team_id"],
        ["id"],
        source_schema="dispatch",
        referent_schema="dispatch",
    )


def downgrade() -> None:
    # WARNING: constraint name is None; this directive will fail as
    # rendered.  Add a name, or use a naming convention; see
    # https://alembic.sqlalchemy.org/en/latest/naming.html
    op.drop_constraint(None, "technicians", schema="dispatch", type_="foreignkey")
    op.drop_column("technicians", "max_open_orders", schema="dispatch")
    op.drop_column("technicians", "day_shift", schema="dispatch")
    op.drop_column("technicians", "team_id", schema="dispatch")
    op.drop_index(
        op.f("ix_dispatch_on_call_technician_id"), table_name="on_call", schema="dispatch"
    )
    op.drop_table("on_call", schema="dispatch")
    op.drop_index(
        "offers_open", table_name="offers", schema="dispatch", postgresql_where="closed_at IS NULL"
    )
    op.drop_index(op.f("ix_dispatch_offers_repair_id"), table_name="offers", schema="dispatch")
    op.drop_table("offers", schema="dispatch")
    op.drop_index(op.f("ix_dispatch_leave_technician_id"), table_name="leave", schema="dispatch")
    op.drop_table("leave", schema="dispatch")
    op.drop_table("duty_leaders", schema="dispatch")
    op.drop_table("teams", schema="dispatch")
    op.drop_table("project_hours", schema="dispatch")
    op.drop_table("needs", schema="dispatch")
