"""an earlier repair's guarantee on the repair

Revision ID: intake_0009
Revises: intake_0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0009"
down_revision: str | None = "intake_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("repairs", sa.Column("guarantee", postgresql.JSONB(astext_type=sa.Text()),
                                       nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("repairs", "guarantee", schema="intake")
