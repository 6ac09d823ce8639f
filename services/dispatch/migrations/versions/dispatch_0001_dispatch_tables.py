"""dispatch tables

Revision ID: dispatch_0001
Revises:
Create Date: 2026-11-22 08:25:09.764438
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "dispatch_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "technicians",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("trades", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("projects", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="dispatch",
    )


def downgrade() -> None:
    op.drop_table("technicians", schema="dispatch")
