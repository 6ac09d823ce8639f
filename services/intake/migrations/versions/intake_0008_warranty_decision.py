"""the warranty decision in the read model

Revision ID: intake_0008
Revises: intake_0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "intake_0008"
down_revision: str | None = "intake_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("repairs", sa.Column("warranty", postgresql.JSONB(astext_type=sa.Text()),
                                       nullable=True), schema="intake")


def downgrade() -> None:
    op.drop_column("repairs", "warranty", schema="intake")
