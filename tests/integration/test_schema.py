"""The migrations build exactly the tables the models describe, and demo data loads once."""

from __future__ import annotations

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.settings import to_asyncpg_dsn, to_sqlalchemy_url
from services.dispatch.models import Base as DispatchBase
from services.followup.models import Base as FollowupBase
from services.intake.models import Base as IntakeBase
from services.stack.demo import load_demo, read_demo
from services.warranty.models import Base as WarrantyBase


async def test_migrations_match_the_models(database_url: str):
    engine = create_async_engine(to_sqlalchemy_url(database_url))
    try:
        async with engine.connect() as connection:
            for base, schema in ((IntakeBase, "intake"), (WarrantyBase, "warranty"),
                                 (DispatchBase, "dispatch"), (FollowupBase, "followup")):
                def diff(sync_connection, base=base, schema=schema):
                    context = MigrationContext.configure(sync_connection, opts={
                        "include_schemas": True,
                        "include_name": lambda name, kind, _p: (
                            name == schema if kind == "schema" else name != "alembic_version"
                        ),
                    })
                    return compare_metadata(context, base.metadata)
                assert await connection.run_sync(diff) == [], f"{schema} drifted"
    finally:
        await engine.dispose()


async def test_demo_data_loads_once(database_url: str):
    assert await load_demo(database_url) is True
    assert await load_demo(database_url) is False
    demo = read_demo()
    conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        projects = await conn.fetch("SELECT code, city FROM warranty.projects ORDER BY code")
        units = await conn.fetchval("SELECT count(*) FROM warranty.units")
        technicians = await conn.fetchval("SELECT count(*) FROM dispatch.technicians")
    finally:
        await conn.close()
    assert [(p["code"], p["city"]) for p in projects] == [
        ("BJ-YH", "Beijing"), ("SH-LJ", "Shanghai")
    ]
    assert units == sum(len(b.units) for p in demo.group.projects for b in p.buildings)
    assert technicians == len(demo.technicians)
