"""Making fresh servers ready for RepairFlow: the database, the schemas, the streams and the
search attributes. Every step is idempotent; `repairflow up` and the tests run the same."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from temporalio.client import Client

from services.common.bus import Bus
from services.common.migrations import upgrade_all
from services.common.settings import to_asyncpg_dsn
from workflows.search_attributes import register_search_attributes


async def ensure_database(database_url: str) -> None:
    """Create the URL's database if the server lacks it (a fresh embedded cluster does)."""
    dsn = to_asyncpg_dsn(database_url)
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/") or "postgres"
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def migrate(database_url: str) -> None:
    """Alembic upgrade of every service's schema (Alembic's env runs its own event loop)."""
    await asyncio.to_thread(upgrade_all, database_url)


async def declare_streams(nats_url: str, prefix: str = "") -> None:
    bus = await Bus.connect(nats_url, prefix=prefix, name="repairflow-bootstrap",
                            reconnect=False)
    try:
        await bus.declare_streams()
    finally:
        await bus.close()


async def prepare_temporal(address: str, namespace: str) -> list[str]:
    client = await Client.connect(address, namespace=namespace)
    return await register_search_attributes(client)
