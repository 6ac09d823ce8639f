"""Managing API keys: create, list, revoke (`repairflow apikey ...`), straight on intake's
tables. The secret of a new key is printed once; only its hash is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from services.common.bus import Bus
from services.common.contracts import WARRANTY_LIST_PROJECTS
from services.common.db import make_engine, make_sessionmaker
from services.common.registry_contracts import ListProjects, ProjectList
from services.intake.auth import DEFAULT_RATE_PER_MINUTE, IssuedKey, issue_key
from services.intake.models import ApiKey


@dataclass(frozen=True)
class KeyLine:
    """A key as listed: never its secret."""

    id: str
    name: str
    group: str | None
    projects: list[str] | None
    rate_per_minute: int
    created_at: datetime
    revoked_at: datetime | None

    def describe(self) -> str:
        scope = "every group (operator)" if self.group is None else (
            f"group {self.group}, " + (f"projects {','.join(self.projects)}" if self.projects
                                       else "all its projects"))
        state = f"revoked {self.revoked_at:%Y-%m-%d %H:%M}" if self.revoked_at else "active"
        return (f"{self.id}  {self.name:<24} {scope}; {self.rate_per_minute}/min; "
                f"created {self.created_at:%Y-%m-%d %H:%M}; {state}")


async def group_projects(nats_url: str, prefix: str, group: str) -> frozenset[str]:
    """The group's project codes, asked of the warranty service, which owns the registry."""
    bus = await Bus.connect(nats_url, prefix=prefix, name="repairflow-apikey", reconnect=False)
    try:
        listed = await bus.ask(WARRANTY_LIST_PROJECTS, ListProjects(group=group), ProjectList)
    finally:
        await bus.close()
    return frozenset(p.code for p in listed.projects)


async def create_key(database_url: str, *, name: str, group: str | None,
                     projects: list[str] | None,
                     rate_per_minute: int = DEFAULT_RATE_PER_MINUTE) -> IssuedKey:
    issued = issue_key(name=name, group=group, projects=projects,
                       rate_per_minute=rate_per_minute)
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            session.add(issued.key)
    finally:
        await engine.dispose()
    return issued


async def list_keys(database_url: str, *, group: str | None = None) -> list[KeyLine]:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            query = select(ApiKey).order_by(ApiKey.created_at)
            if group is not None:
                query = query.where(ApiKey.group == group)
            keys = (await session.scalars(query)).all()
    finally:
        await engine.dispose()
    return [KeyLine(k.id, k.name, k.group, k.projects, k.rate_per_minute, k.created_at,
                    k.revoked_at) for k in keys]


async def revoke_key(database_url: str, key_id: str) -> bool:
    """Revoke at once (the next request with it is a 401); False if no such live key."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            result = await session.execute(
                update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC)))
            return result.rowcount == 1
    finally:
        await engine.dispose()
