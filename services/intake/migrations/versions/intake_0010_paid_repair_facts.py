"""a paid repair's quote, its state and the amount waived in the read model

Revision ID: intake_0010
Revises: intake_0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "intake_0010"
down_revision: str | None = "intake_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("repairs", sa.Column("quote_total_fen", sa.Integer(), nullable=True),
                  schema="intake")
    op.add_column("repairs", sa.Column("quote_state", sa.String(length=16), nullable=True),
                  schema="intake")
    op.add_column("repairs", sa.Column("waived_fen", sa.Integer(), nullable=True),
                  schema="intake")


def downgrade() -> None:
    op.drop_column("repairs", "waived_fen", schema="intake")
    op.drop_column("repairs", "quote_state", schema="intake")
    op.drop_column("repairs", "quote_total_fen", schema="intake")
