"""`repairflow dispatch who`: the assignment rule, asked without offering anything."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import make_engine, make_sessionmaker
from services.common.dispatch_contracts import Trade
from services.dispatch import repository
from services.dispatch.assignment import Candidate, Choice, Need, ProjectHours, choose
from services.dispatch.roster import candidates, hours_of


async def load_pool(session: AsyncSession, *, project: str, trade: str, at: datetime
                    ) -> tuple[list[Candidate], ProjectHours]:
    """The candidates for a project and trade as the roster stands around `at`, and the
    project's working hours."""
    technicians = await repository.find_technicians(session=session, project=project,
                                                    trade=trade)
    ids = [t.id for t in technicians]
    teams = {t.id: t for t in await repository.list_teams(session=session, project=project)}
    pool = candidates(
        technicians, teams,
        await repository.on_call_near(session=session, technician_ids=ids, at=at),
        await repository.leave_near(session=session, technician_ids=ids, at=at),
        await repository.workload(session=session, technician_ids=ids))
    return pool, hours_of(await repository.get_hours(session=session, project=project))


async def who_would_go(database_url: str, *, project: str, trade: str, at: str | None,
                       emergency: bool = False, delegate_to: str | None = None
                       ) -> tuple[Choice, datetime]:
    """The choice dispatch would make, and the moment it was judged at (project zone)."""
    try:
        Trade(trade)
    except ValueError:
        raise ValueError(f"unknown trade {trade!r}; one of: "
                         f"{', '.join(t.value for t in Trade)}") from None
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            hours = hours_of(await repository.get_hours(session=session, project=project))
            zone = ZoneInfo(hours.time_zone)
            moment = datetime.fromisoformat(at) if at else datetime.now(zone)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
            pool, hours = await load_pool(session, project=project, trade=trade, at=moment)
    finally:
        await engine.dispose()
    need = Need(project=project, trade=trade, at=moment, emergency=emergency,
                delegate_to=delegate_to)
    return choose(pool, need, hours), moment.astimezone(zone)
