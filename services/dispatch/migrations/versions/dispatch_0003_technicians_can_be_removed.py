"""technicians can be removed

Revision ID: dispatch_0003
Revises: dispatch_0002
Create Date: 2026-11-22 09:22:10.238970
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dispatch_0003"
down_revision: str | None = "dispatch_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "technicians",
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        schema="dispatch",
    )


def downgrade() -> None:
    op.drop_column("technicians", "active", schema="dispatch")
