"""a repair's response deadline

Revision ID: intake_0011
Revises: intake_0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0011"
down_revision: str | None = "intake_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("repairs", sa.Column("respond_by", sa.DateTime(timezone=True), nullable=True),
                  schema="intake")
    op.add_column("repairs", sa.Column("respond_rule", sa.Text(), nullable=True),
                  schema="intake")


def downgrade() -> None:
    op.drop_column("repairs", "respond_rule", schema="intake")
    op.drop_column("repairs", "respond_by", schema="intake")
