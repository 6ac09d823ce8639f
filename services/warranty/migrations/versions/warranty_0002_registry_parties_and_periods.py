"""registry parties and periods

Revision ID: warranty_0002
Revises: warranty_0001
Create Date: 2026-11-22 08:59:50.300571
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "warranty_0002"
down_revision: str | None = "warranty_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "buildings",
        sa.Column("completion_reported_on", sa.Date(), nullable=True),
        schema="warranty",
    )
    op.add_column(
        "buildings",
        sa.Column(
            "acceptance_delayed_by_developer", sa.Boolean(), server_default="false", nullable=False
        ),
        schema="warranty",
    )
    op.add_column(
        "buildings", sa.Column("possession_on", sa.Date(), nullable=True), schema="warranty"
    )
    op.add_column(
        "buildings",
        sa.Column("design_service_life_years", sa.Integer(), server_default="50", nullable=False),
        schema="warranty",
    )
    op.add_column(
        "buildings",
        sa.Column("general_contractor", sa.String(length=200), nullable=True),
        schema="warranty",
    )
    op.add_column(
        "buildings",
        sa.Column(
            "subcontractors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        schema="warranty",
    )
    op.add_column(
        "buildings",
        sa.Column(
            "manufacturers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        schema="warranty",
    )
    op.add_column(
        "buildings",
        sa.Column("common_areas_delivered_on", sa.Date(), nullable=True),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column("jurisdiction", sa.String(length=16), server_default="CN", nullable=False),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column("heating_season", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column("cooling_season", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column("count_season_in_progress", sa.Boolean(), server_default="false", nullable=False),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column(
            "period_convention", sa.String(length=24), server_default="civil_code", nullable=False
        ),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column(
            "extra_days_off",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column(
            "extra_working_days",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column(
            "contract_terms",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        schema="warranty",
    )
    op.add_column(
        "projects",
        sa.Column(
            "categories",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        schema="warranty",
    )


def downgrade() -> None:
    op.drop_column("projects", "categories", schema="warranty")
    op.drop_column("projects", "contract_terms", schema="warranty")
    op.drop_column("projects", "extra_working_days", schema="warranty")
    op.drop_column("projects", "extra_days_off", schema="warranty")
    op.drop_column("projects", "period_convention", schema="warranty")
    op.drop_column("projects", "count_season_in_progress", schema="warranty")
    op.drop_column("projects", "cooling_season", schema="warranty")
    op.drop_column("projects", "heating_season", schema="warranty")
    op.drop_column("projects", "jurisdiction", schema="warranty")
    op.drop_column("buildings", "common_areas_delivered_on", schema="warranty")
    op.drop_column("buildings", "manufacturers", schema="warranty")
    op.drop_column("buildings", "subcontractors", schema="warranty")
    op.drop_column("buildings", "general_contractor", schema="warranty")
    op.drop_column("buildings", "design_service_life_years", schema="warranty")
    op.drop_column("buildings", "possession_on", schema="warranty")
    op.drop_column("buildings", "acceptance_delayed_by_developer", schema="warranty")
    op.drop_column("buildings", "completion_reported_on", schema="warranty")
