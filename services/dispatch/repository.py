"""SQL for dispatch's tables. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import any_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.dispatch_contracts import ProjectHoursIn, RosterIn, TeamIn, TechnicianIn
from services.dispatch.models import (
    DutyLeader,
    Leave,
    Need,
    OfferRecord,
    OnCall,
    ProjectHours,
    Team,
    Technician,
)

OPEN = ("offered", "accepted")


async def _upsert(session: AsyncSession, model, values: dict, key: str) -> bool:
    """Insert or update by `key`; True when the row is new."""
    existed = await session.get(model, values[key]) is not None
    stmt = insert(model).values(**values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=values))
    return not existed


def _document(document: BaseModel, kind: type[BaseModel], **dump) -> dict:
    """The document's own fields: a command built on it (`PutTeam`) also carries `within`."""
    return document.model_dump(mode="json", include=set(kind.model_fields), **dump)


async def upsert_team(*, session: AsyncSession, team: TeamIn) -> bool:
    return await _upsert(session, Team, _document(team, TeamIn), "id")


async def get_team(*, session: AsyncSession, team_id: str) -> Team | None:
    return await session.get(Team, team_id)


async def list_teams(*, session: AsyncSession, project: str | None,
                     within: list[str] | None = None) -> list[Team]:
    """Teams, of one project if given, serving any of `within` if given."""
    query = select(Team).order_by(Team.id)
    if project:
        query = query.where(any_(Team.projects) == project)
    if within is not None:
        query = query.where(Team.projects.overlap(within))
    return list((await session.scalars(query)).all())


async def upsert_technician(*, session: AsyncSession, technician: TechnicianIn) -> bool:
    """Create, replace or bring back a technician; True when new."""
    values = _document(technician, TechnicianIn, exclude={"team"})
    return await _upsert(session, Technician,
                         {**values, "team_id": technician.team, "active": True}, "id")


async def deactivate_technician(*, session: AsyncSession, technician_id: str,
                                now: datetime) -> None:
    """Off every roster from now on; the offers' history keeps the technician."""
    await session.execute(update(Technician).where(Technician.id == technician_id)
                          .values(active=False))
    await session.execute(delete(OnCall).where(OnCall.technician_id == technician_id,
                                               OnCall.ends_at > now))
    await session.execute(delete(Leave).where(Leave.technician_id == technician_id))
    await session.execute(delete(DutyLeader).where(DutyLeader.technician_id == technician_id,
                                                   DutyLeader.day >= now.date()))


async def delete_team(*, session: AsyncSession, team_id: str) -> None:
    """Remove a team that has no active technicians; inactive ones lose their team."""
    await session.execute(update(Technician).where(Technician.team_id == team_id)
                          .values(team_id=None))
    await session.execute(delete(Team).where(Team.id == team_id))


async def get_technician(*, session: AsyncSession, technician_id: str) -> Technician | None:
    return await session.get(Technician, technician_id)


async def find_technicians(*, session: AsyncSession, project: str | None = None,
                           trade: str | None = None, team: str | None = None,
                           within: list[str] | None = None) -> list[Technician]:
    query = select(Technician).where(Technician.active).order_by(Technician.id)
    if within is not None:
        query = query.where(Technician.projects.overlap(within))
    if project:
        query = query.where(any_(Technician.projects) == project)
    if trade:
        query = query.where(any_(Technician.trades) == trade)
    if team:
        query = query.where(Technician.team_id == team)
    return list((await session.scalars(query)).all())


async def put_hours(*, session: AsyncSession, hours: ProjectHoursIn) -> bool:
    values = _document(hours, ProjectHoursIn)
    values["day_start"], values["day_end"] = hours.day_start, hours.day_end
    return await _upsert(session, ProjectHours, values, "project")


async def get_hours(*, session: AsyncSession, project: str) -> ProjectHours | None:
    return await session.get(ProjectHours, project)


async def replace_roster(*, session: AsyncSession, roster: RosterIn) -> None:
    """The team's on-call rota, leave and duty leaders become exactly the roster given."""
    members = select(Technician.id).where(Technician.team_id == roster.team)
    await session.execute(delete(OnCall).where(OnCall.technician_id.in_(members)))
    await session.execute(delete(Leave).where(Leave.technician_id.in_(members)))
    await session.execute(delete(DutyLeader).where(DutyLeader.team_id == roster.team))
    session.add_all(OnCall(technician_id=o.technician, starts_at=o.starts_at, ends_at=o.ends_at)
                    for o in roster.on_call)
    session.add_all(Leave(technician_id=v.technician, first_day=v.first_day, last_day=v.last_day)
                    for v in roster.leave)
    session.add_all(DutyLeader(team_id=roster.team, day=d.day, technician_id=d.technician)
                    for d in roster.duty_leaders)
    await session.flush()


async def roster_of(*, session: AsyncSession, team: str
                    ) -> tuple[list[OnCall], list[Leave], list[DutyLeader]]:
    members = select(Technician.id).where(Technician.team_id == team)
    on_call = (await session.scalars(select(OnCall).where(OnCall.technician_id.in_(members))
                                     .order_by(OnCall.starts_at))).all()
    leave = (await session.scalars(select(Leave).where(Leave.technician_id.in_(members))
                                   .order_by(Leave.first_day))).all()
    leaders = (await session.scalars(select(DutyLeader).where(DutyLeader.team_id == team)
                                     .order_by(DutyLeader.day))).all()
    return list(on_call), list(leave), list(leaders)


async def on_call_near(*, session: AsyncSession, technician_ids: list[str], at: datetime
                       ) -> list[OnCall]:
    """On-call intervals that matter at `at` or in the month after it."""
    return list((await session.scalars(select(OnCall).where(
        OnCall.technician_id.in_(technician_ids), OnCall.ends_at > at,
        OnCall.starts_at < at + timedelta(days=32)))).all())


async def leave_near(*, session: AsyncSession, technician_ids: list[str], at: datetime
                     ) -> list[Leave]:
    return list((await session.scalars(select(Leave).where(
        Leave.technician_id.in_(technician_ids), Leave.last_day >= (at - timedelta(days=1)).date(),
        Leave.first_day <= (at + timedelta(days=32)).date()))).all())


async def workload(*, session: AsyncSession, technician_ids: list[str]
                   ) -> dict[str, tuple[int, datetime | None]]:
    """Open orders and the last offer time of each technician."""
    rows = (await session.execute(
        select(OfferRecord.technician_id,
               func.count().filter(OfferRecord.state.in_(OPEN),
                                   OfferRecord.closed_at.is_(None)),
               func.max(OfferRecord.offered_at))
        .where(OfferRecord.technician_id.in_(technician_ids))
        .group_by(OfferRecord.technician_id))).all()
    return {tid: (n, last) for tid, n, last in rows}


async def duty_leader(*, session: AsyncSession, team: str, day) -> DutyLeader | None:
    return await session.get(DutyLeader, (team, day))


async def remember_need(*, session: AsyncSession, need: Need) -> Need:
    existing = await session.get(Need, need.repair_id)
    if existing is None:
        session.add(need)
        await session.flush()
        return need
    return existing


async def get_need(*, session: AsyncSession, repair_id: str) -> Need | None:
    return await session.get(Need, repair_id)


async def offers_of(*, session: AsyncSession, repair_id: str, lock: bool = False
                    ) -> list[OfferRecord]:
    query = select(OfferRecord).where(OfferRecord.repair_id == repair_id).order_by(OfferRecord.id)
    if lock:
        query = query.with_for_update()
    return list((await session.scalars(query)).all())


async def add_offer(*, session: AsyncSession, offer: OfferRecord) -> OfferRecord:
    session.add(offer)
    await session.flush()
    return offer


async def get_offer(*, session: AsyncSession, offer_id: int, lock: bool = False
                    ) -> OfferRecord | None:
    return await session.get(OfferRecord, offer_id, with_for_update=lock)


async def decide_offer(*, session: AsyncSession, offer_id: int, state: str, at: datetime,
                       reason: str | None) -> None:
    closed = at if state in ("declined", "timed_out") else None
    await session.execute(update(OfferRecord).where(OfferRecord.id == offer_id).values(
        state=state, decided_at=at, reason=reason, closed_at=closed))


async def close_offers_of(*, session: AsyncSession, repair_id: str, at: datetime) -> int:
    """Close a finished repair's open offers (idempotent: closed ones stay as they are)."""
    result = await session.execute(update(OfferRecord).where(
        OfferRecord.repair_id == repair_id, OfferRecord.closed_at.is_(None)).values(closed_at=at))
    return result.rowcount


async def open_orders(*, session: AsyncSession, technician_id: str,
                      within: list[str] | None = None) -> list[OfferRecord]:
    """A technician's open work, the nearest arrival deadline last: newest first; only of
    repairs in `within` if given."""
    query = select(OfferRecord).where(OfferRecord.technician_id == technician_id,
                                      OfferRecord.state.in_(OPEN),
                                      OfferRecord.closed_at.is_(None))
    if within is not None:
        query = query.join(Need, Need.repair_id == OfferRecord.repair_id).where(
            Need.project.in_(within))
    return list((await session.scalars(query.order_by(
        OfferRecord.arrive_by.desc().nulls_last(), OfferRecord.id.desc()))).all())
