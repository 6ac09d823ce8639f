"""Alembic, once per service: each service keeps its migrations and its version table in its
own schema, so services can evolve their tables independently."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.settings import to_sqlalchemy_url

# The order matters only for readability of the log; no service depends on another's tables.
SERVICES_WITH_TABLES = ("intake", "warranty", "dispatch", "followup")


def alembic_config(service: str, database_url: str) -> Config:
    root = Path(__file__).resolve().parent.parent / service / "migrations"
    config = Config()
    config.set_main_option("script_location", str(root))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(root / "versions"))
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = service
    return config


def upgrade_all(database_url: str) -> None:
    """Bring every service's schema to its newest migration (idempotent)."""
    for service in SERVICES_WITH_TABLES:
        command.upgrade(alembic_config(service, database_url), "head")


def run_env(metadata: MetaData) -> None:
    """The body of each service's `migrations/env.py` (online mode only)."""
    config = context.config
    schema = config.attributes["schema"]

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, kind, _parent: kind != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(
            to_sqlalchemy_url(config.attributes["database_url"]), poolclass=pool.NullPool
        )
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(main())
