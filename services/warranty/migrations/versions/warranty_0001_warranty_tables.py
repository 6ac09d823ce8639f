"""warranty tables

Revision ID: warranty_0001
Revises:
Create Date: 2026-11-22 08:25:09.590475
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "warranty_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "property_groups",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        schema="warranty",
    )
    op.create_table(
        "projects",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("developer", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["warranty.property_groups.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
        schema="warranty",
    )
    op.create_table(
        "buildings",
        sa.Column("project_code", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("completion_accepted_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["project_code"], ["warranty.projects.code"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_code", "code"),
        schema="warranty",
    )
    op.create_table(
        "common_areas",
        sa.Column("project_code", sa.String(length=32), nullable=False),
        sa.Column("building_code", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_code", "building_code"],
            ["warranty.buildings.project_code", "warranty.buildings.code"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_code", "building_code", "code"),
        schema="warranty",
    )
    op.create_table(
        "units",
        sa.Column("project_code", sa.String(length=32), nullable=False),
        sa.Column("building_code", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("owner_name", sa.String(length=100), nullable=True),
        sa.Column("owner_phone", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_code", "building_code"],
            ["warranty.buildings.project_code", "warranty.buildings.code"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_code", "building_code", "code"),
        schema="warranty",
    )


def downgrade() -> None:
    op.drop_table("units", schema="warranty")
    op.drop_table("common_areas", schema="warranty")
    op.drop_table("buildings", schema="warranty")
    op.drop_table("projects", schema="warranty")
    op.drop_table("property_groups", schema="warranty")
