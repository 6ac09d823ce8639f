"""Configuration shared by every RepairFlow process, read from the environment.

Each service subclasses `CommonSettings` with its own fields. The three server addresses
use the conventional names (`DATABASE_URL`, `NATS_URL`, `TEMPORAL_ADDRESS`) so that a
production deployment points at its own clusters; everything else is `REPAIRFLOW_*`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    """The state directory: `.repairflow/` in the current checkout unless REPAIRFLOW_HOME is set."""
    return Path.cwd() / ".repairflow"


class CommonSettings(BaseSettings):
    """Where the servers are and how this process names its NATS subjects and task queue."""

    # populate_by_name: tests and tools may pass `database_url=` as well as the env names.
    model_config = SettingsConfigDict(
        env_prefix="REPAIRFLOW_", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default_factory=default_home)
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:55432/repairflow",
        validation_alias=AliasChoices("DATABASE_URL", "REPAIRFLOW_DATABASE_URL"),
    )
    nats_url: str = Field(
        "nats://127.0.0.1:4222", validation_alias=AliasChoices("NATS_URL", "REPAIRFLOW_NATS_URL")
    )
    temporal_address: str = Field(
        "127.0.0.1:7233",
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "REPAIRFLOW_TEMPORAL_ADDRESS"),
    )
    temporal_namespace: str = "default"
    task_queue: str = "repairs"
    # Prepended to every subject and stream name: lets tests (and several environments on one
    # NATS cluster) live side by side without seeing each other's messages.
    nats_prefix: str = ""
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("nats_prefix")
    @classmethod
    def _prefix_is_a_token(cls, value: str) -> str:
        if value and not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError("REPAIRFLOW_NATS_PREFIX must be letters, digits, '-' or '_'")
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the asyncpg driver, whatever scheme the operator wrote."""
        return to_sqlalchemy_url(self.database_url)


def to_sqlalchemy_url(url: str) -> str:
    """`postgresql://…` or `postgres://…` → `postgresql+asyncpg://…`."""
    for scheme in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url[len(scheme):]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {url!r}")


def to_asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://…` → `postgresql://…` for asyncpg and libpq tools."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
