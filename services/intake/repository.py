"""SQL of the intake service. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.common.service_levels import DEFAULT_POLICY, ServiceLevelPolicy
from services.intake.models import (
    IdempotencyKey,
    OutboxEntry,
    Photo,
    ProjectIntakeSettings,
    Repair,
    RepairCall,
    RepairStep,
    ServiceItem,
    TicketCounter,
)
from workflows.repair.messages import Status

DEFAULT_DUPLICATE_WINDOW_HOURS = 72
CLOSED_STATES = Status.ENDED  # a new report of the place is a new repair


async def next_ticket_number(*, session: AsyncSession, project: str) -> int:
    """The next number of a project's tickets; the row lock serialises concurrent reports."""
    stmt = insert(TicketCounter).values(project=project, last_number=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project"], set_={"last_number": TicketCounter.last_number + 1}
    ).returning(TicketCounter.last_number)
    return (await session.execute(stmt)).scalar_one()


async def get_repair(*, session: AsyncSession, repair_id: str) -> Repair | None:
    return await session.get(Repair, repair_id)


async def claim_pending(
    *, session: AsyncSession, now: datetime, limit: int, repair_id: str | None = None
) -> list[OutboxEntry]:
    """Lock due, undelivered entries that are the first undelivered of their repair (a
    repair's entries go out in order); another relay skips what this one holds."""
    earlier = aliased(OutboxEntry)
    query = (
        select(OutboxEntry)
        .where(OutboxEntry.delivered_at.is_(None), OutboxEntry.next_attempt_at <= now,
               ~exists().where(earlier.repair_id == OutboxEntry.repair_id,
                               earlier.delivered_at.is_(None), earlier.id < OutboxEntry.id))
        .order_by(OutboxEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if repair_id is not None:
        query = query.where(OutboxEntry.repair_id == repair_id)
    return list((await session.scalars(query)).all())


async def mark_delivered(*, session: AsyncSession, entry_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxEntry).where(OutboxEntry.id == entry_id).values(delivered_at=now)
    )


async def mark_failed(
    *, session: AsyncSession, entry: OutboxEntry, now: datetime, error: str
) -> None:
    """Record the failure and back off: 1 s, 2 s, 4 s ... up to a minute."""
    delay = timedelta(seconds=min(60, 2 ** entry.attempts))
    await session.execute(
        update(OutboxEntry)
        .where(OutboxEntry.id == entry.id)
        .values(attempts=entry.attempts + 1, last_error=error[:2000], next_attempt_at=now + delay)
    )


async def lock(*, session: AsyncSession, key: str) -> None:
    """A transaction-scoped advisory lock: reports of one place, or retries of one
    Idempotency-Key, go one at a time."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def duplicate_window(*, session: AsyncSession, project: str) -> timedelta:
    settings = await session.get(ProjectIntakeSettings, project)
    return timedelta(hours=settings.duplicate_window_hours if settings
                     else DEFAULT_DUPLICATE_WINDOW_HOURS)


async def put_settings(*, session: AsyncSession, project: str, window_hours: int) -> None:
    stmt = insert(ProjectIntakeSettings).values(project=project,
                                                duplicate_window_hours=window_hours)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["project"], set_={"duplicate_window_hours": window_hours}))


async def service_levels(*, session: AsyncSession, project: str) -> ServiceLevelPolicy:
    """The project's service-level policy; the defaults where it has none."""
    stored = await session.scalar(select(ProjectIntakeSettings.service_levels)
                                  .where(ProjectIntakeSettings.project == project))
    return DEFAULT_POLICY if stored is None else ServiceLevelPolicy.model_validate(stored)


async def put_service_levels(*, session: AsyncSession, project: str,
                             document: dict[str, Any]) -> None:
    stmt = insert(ProjectIntakeSettings).values(
        project=project, duplicate_window_hours=DEFAULT_DUPLICATE_WINDOW_HOURS,
        service_levels=document)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["project"], set_={"service_levels": document}))


async def service_items(*, session: AsyncSession, project: str) -> list[ServiceItem]:
    """The project's standard service items (常规服务项目表) by code; empty: it has none."""
    query = (select(ServiceItem).where(ServiceItem.project == project)
             .order_by(ServiceItem.code).execution_options(populate_existing=True))
    return list((await session.scalars(query)).all())


async def replace_service_items(*, session: AsyncSession, project: str,
                                items: Sequence[Mapping[str, Any]], now: datetime
                                ) -> list[ServiceItem]:
    """Make `items` (code, name, unit, unit_price_fen, trade) the project's whole table; an
    item left as it was keeps its `updated_at`. Replacements of one project go one at a
    time."""
    await lock(session=session, key=f"service-items|{project}")
    fields = ("name", "unit", "unit_price_fen", "trade")
    before = {item.code: ([getattr(item, f) for f in fields], item.updated_at)
              for item in await service_items(session=session, project=project)}
    await session.execute(delete(ServiceItem).where(ServiceItem.project == project))
    rows = []
    for item in items:
        values = {f: item.get(f) for f in fields}
        old_values, old_time = before.get(item["code"], (None, now))
        rows.append({"project": project, "code": item["code"], **values,
                     "updated_at": old_time if list(values.values()) == old_values else now})
    if rows:
        await session.execute(insert(ServiceItem), rows)
    return await service_items(session=session, project=project)


async def open_repair_of_place(
    *, session: AsyncSession, project: str, building: str, unit: str | None,
    common_area: str | None, category: str, since: datetime,
) -> Repair | None:
    """The newest open repair of the same place and category reported since `since`."""
    query = (select(Repair).where(
        Repair.project == project, Repair.building == building, Repair.category == category,
        Repair.unit.is_(None) if unit is None else Repair.unit == unit,
        Repair.common_area.is_(None) if common_area is None else Repair.common_area == common_area,
        Repair.status.not_in(CLOSED_STATES), Repair.received_at >= since,
    ).order_by(Repair.received_at.desc()).limit(1))
    return (await session.scalars(query)).first()


async def last_accepted_repair(
    *, session: AsyncSession, project: str, building: str, unit: str | None,
    common_area: str | None, category: str,
) -> tuple[Repair, datetime] | None:
    """The repair of the same place and category the owner accepted last, and when (its
    `closed` step: the owner's sign-off)."""
    query = (select(Repair, RepairStep.at).join(RepairStep, RepairStep.repair_id == Repair.id)
             .where(Repair.project == project, Repair.building == building,
                    Repair.category == category,
                    Repair.unit.is_(None) if unit is None else Repair.unit == unit,
                    Repair.common_area.is_(None) if common_area is None
                    else Repair.common_area == common_area,
                    Repair.status == Status.CLOSED, RepairStep.kind == "closed")
             .order_by(RepairStep.at.desc()).limit(1))
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def calls_of(*, session: AsyncSession, repair_id: str) -> list[RepairCall]:
    return list((await session.scalars(select(RepairCall).where(RepairCall.repair_id == repair_id)
                                       .order_by(RepairCall.received_at))).all())


async def count_calls(*, session: AsyncSession, repair_ids: list[str]) -> dict[str, int]:
    rows = await session.execute(select(RepairCall.repair_id, func.count())
                                 .where(RepairCall.repair_id.in_(repair_ids))
                                 .group_by(RepairCall.repair_id))
    return dict(rows.all())


async def get_idempotency(*, session: AsyncSession, scope: str, key: str
                          ) -> IdempotencyKey | None:
    return await session.get(IdempotencyKey, (scope, key))


async def search(*, session: AsyncSession, filters: dict, after: tuple[datetime, str] | None,
                 limit: int) -> list[Repair]:
    """Repairs matching the filters, newest first, after a cursor position."""
    query = select(Repair)
    if filters.get("projects") is not None:  # the caller's key scope
        query = query.where(Repair.project.in_(filters["projects"]))
    for column in ("project", "building", "unit", "common_area", "status", "priority",
                   "category", "reporter_phone"):
        if filters.get(column) is not None:
            query = query.where(getattr(Repair, column) == filters[column])
    if filters.get("overdue") is not None:
        query = query.where(Repair.overdue_at.is_not(None) if filters["overdue"]
                            else Repair.overdue_at.is_(None))
    if filters.get("created_from") is not None:
        query = query.where(Repair.received_at >= filters["created_from"])
    if filters.get("created_to") is not None:
        query = query.where(Repair.received_at < filters["created_to"])
    if after is not None:
        query = query.where(tuple_(Repair.received_at, Repair.id) < tuple_(*after))
    query = query.order_by(Repair.received_at.desc(), Repair.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def mark_overdue(*, session: AsyncSession, repair_id: str, due_at: datetime) -> None:
    await session.execute(update(Repair).where(Repair.id == repair_id,
                                               Repair.overdue_at.is_(None))
                          .values(overdue_at=due_at))


async def photos_of(*, session: AsyncSession, repair_id: str) -> list[Photo]:
    return list((await session.scalars(select(Photo).where(Photo.repair_id == repair_id)
                                       .order_by(Photo.uploaded_at))).all())


async def steps_of(*, session: AsyncSession, repair_id: str) -> list[RepairStep]:
    return list((await session.scalars(select(RepairStep).where(RepairStep.repair_id == repair_id)
                                       .order_by(RepairStep.sequence))).all())


# Before acceptance a step's technician is the one offered the repair, not its assignee.
UNASSIGNED_STATES = (Status.REPORTED, Status.UNASSIGNED, Status.OFFERED)


async def apply_step(*, session: AsyncSession, step: RepairStep, facts: dict,
                     overdue: bool) -> bool:
    """Apply one workflow step to the read model; False when its repair is not intake's.

    Idempotent and order-proof: the step is kept once (its repair and sequence); the facts
    every event carries (status, reworks, warranty outcome, deadlines) and the assignee
    move only forward (`last_sequence`); the overdue flag, once set, stays.
    """
    if await session.scalar(select(Repair.id).where(Repair.id == step.repair_id)) is None:
        return False
    await session.execute(
        insert(RepairStep).values(
            repair_id=step.repair_id, sequence=step.sequence, at=step.at, kind=step.kind,
            by=step.by, detail=step.detail, technician_id=step.technician_id)
        .on_conflict_do_nothing(index_elements=["repair_id", "sequence"]))
    newer = {**{k: v for k, v in facts.items() if v is not None or k == "finish_by"},
             "last_sequence": step.sequence}
    if facts["status"] not in UNASSIGNED_STATES:
        newer["technician_id"] = step.technician_id
    await session.execute(update(Repair).where(Repair.id == step.repair_id,
                                               Repair.last_sequence < step.sequence)
                          .values(**newer))
    if overdue:
        await mark_overdue(session=session, repair_id=step.repair_id, due_at=step.at)
    return True


async def received_between(*, session: AsyncSession, project: str, start: datetime,
                           end: datetime) -> list[Repair]:
    """The project's repairs received in [start, end), oldest first."""
    return list((await session.scalars(select(Repair).where(
        Repair.project == project, Repair.received_at >= start, Repair.received_at < end,
    ).order_by(Repair.received_at, Repair.id))).all())


async def steps_before(*, session: AsyncSession, repair_ids: Sequence[str], end: datetime
                       ) -> dict[str, list[RepairStep]]:
    """Each repair's workflow steps before `end`, in order."""
    found: dict[str, list[RepairStep]] = {r: [] for r in repair_ids}
    if not repair_ids:
        return found
    for step in (await session.scalars(select(RepairStep).where(
            RepairStep.repair_id.in_(repair_ids), RepairStep.at < end,
    ).order_by(RepairStep.repair_id, RepairStep.sequence))).all():
        found[step.repair_id].append(step)
    return found


async def completed_between(*, session: AsyncSession, project: str, start: datetime,
                            end: datetime) -> list[tuple[Repair, datetime]]:
    """The project's repairs whose work was completed (完工) in [start, end), with the
    first completion's time, in that order."""
    first = (select(RepairStep.repair_id, func.min(RepairStep.at).label("at"))
             .where(RepairStep.kind == "completed").group_by(RepairStep.repair_id).subquery())
    rows = await session.execute(
        select(Repair, first.c.at).join(first, first.c.repair_id == Repair.id)
        .where(Repair.project == project, first.c.at >= start, first.c.at < end)
        .order_by(first.c.at, Repair.id))
    return [(repair, at) for repair, at in rows.all()]
