"""Alembic environment of the follow-up service's schema."""

from services.common.migrations import run_env
from services.followup.models import Base

run_env(Base.metadata)
