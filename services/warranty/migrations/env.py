"""Alembic environment of the warranty service's schema."""

from services.common.migrations import run_env
from services.warranty.models import Base

run_env(Base.metadata)
