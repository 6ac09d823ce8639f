"""All of follow-up's SQL. Keyword-only arguments; the handler owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.followup.models import (
    Complaint,
    CorrectiveAction,
    FollowedRepair,
    ProjectPolicy,
    ReturnVisit,
    SamplingCount,
)


async def remember_repair(*, session: AsyncSession, repair: FollowedRepair) -> None:
    """Keep a reported repair's facts (a redelivered event changes nothing)."""
    values = {c.name: getattr(repair, c.name) for c in FollowedRepair.__table__.columns}
    await session.execute(insert(FollowedRepair).values(**values).on_conflict_do_nothing())


async def get_repair(*, session: AsyncSession, repair_id: str) -> FollowedRepair | None:
    return await session.get(FollowedRepair, repair_id)


async def mark_closed(*, session: AsyncSession, repair_id: str, at: datetime) -> None:
    await session.execute(update(FollowedRepair).where(
        FollowedRepair.repair_id == repair_id).values(closed_at=at))


async def closed_repairs(*, session: AsyncSession, project: str, since: datetime,
                         until: datetime, unit: str | None = None,
                         category: str | None = None) -> list[FollowedRepair]:
    query = select(FollowedRepair).where(
        FollowedRepair.project == project, FollowedRepair.closed_at >= since,
        FollowedRepair.closed_at < until)
    if unit is not None:
        query = query.where(FollowedRepair.unit == unit)
    if category is not None:
        query = query.where(FollowedRepair.category == category)
    return list((await session.scalars(query.order_by(FollowedRepair.closed_at))).all())


async def get_policy(*, session: AsyncSession, project: str) -> ProjectPolicy | None:
    return await session.get(ProjectPolicy, project)


async def put_policy(*, session: AsyncSession, project: str, document: dict, at: datetime
                     ) -> None:
    statement = insert(ProjectPolicy).values(project=project, document=document, updated_at=at)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[ProjectPolicy.project],
        set_={"document": statement.excluded.document, "updated_at": at}))


async def open_visits_by_assignee(*, session: AsyncSession, project: str,
                                  assignees: list[str]) -> dict[str, int]:
    """How many visits each of these people still has to make in the project."""
    rows = await session.execute(select(ReturnVisit.assignee, func.count()).where(
        ReturnVisit.project == project, ReturnVisit.status == "due",
        ReturnVisit.assignee.in_(assignees)).group_by(ReturnVisit.assignee))
    counts = dict.fromkeys(assignees, 0)
    counts.update({name: count for name, count in rows.all()})
    return counts


async def count_for_sampling(*, session: AsyncSession, project: str, kind: str, period: str
                             ) -> SamplingCount:
    """The period's counts, locked until the transaction ends."""
    await session.execute(insert(SamplingCount).values(
        project=project, kind=kind, period=period, seen=0, selected=0).on_conflict_do_nothing())
    return (await session.scalars(select(SamplingCount).where(
        SamplingCount.project == project, SamplingCount.kind == kind,
        SamplingCount.period == period).with_for_update())).one()


async def add_visit(*, session: AsyncSession, visit: ReturnVisit) -> bool:
    """Insert a visit; False when it exists already (the job was decided before)."""
    values = {c.name: getattr(visit, c.name) for c in ReturnVisit.__table__.columns}
    values["escalations"] = values["escalations"] or []
    result = await session.execute(
        insert(ReturnVisit).values(**values).on_conflict_do_nothing().returning(ReturnVisit.id))
    return result.scalar_one_or_none() is not None


async def get_visit(*, session: AsyncSession, visit_id: str, lock: bool = False
                    ) -> ReturnVisit | None:
    query = select(ReturnVisit).where(ReturnVisit.id == visit_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def list_visits(*, session: AsyncSession, within: list[str] | None,
                      project: str | None, assignee: str | None,
                      closes_before: datetime | None, include_done: bool, limit: int
                      ) -> list[ReturnVisit]:
    query = select(ReturnVisit).where(ReturnVisit.archived_at.is_(None))
    query = query.where(ReturnVisit.status.in_(("due", "done") if include_done else ("due",)))
    if within is not None:
        query = query.where(ReturnVisit.project.in_(within))
    if project is not None:
        query = query.where(ReturnVisit.project == project)
    if assignee is not None:
        query = query.where(ReturnVisit.assignee == assignee)
    if closes_before is not None:
        query = query.where(ReturnVisit.closes_at < closes_before)
    query = query.order_by(ReturnVisit.closes_at, ReturnVisit.id).limit(limit)
    return list((await session.scalars(query)).all())


async def visits_closing(*, session: AsyncSession, project: str, since: datetime,
                         until: datetime) -> list[ReturnVisit]:
    """The visits whose window closes in [since, until): a period's statistics."""
    return list((await session.scalars(select(ReturnVisit).where(
        ReturnVisit.project == project, ReturnVisit.closes_at >= since,
        ReturnVisit.closes_at < until))).all())


async def add_complaint(*, session: AsyncSession, complaint: Complaint) -> None:
    values = {c.name: getattr(complaint, c.name) for c in Complaint.__table__.columns}
    await session.execute(insert(Complaint).values(**values).on_conflict_do_nothing())


async def get_complaint(*, session: AsyncSession, complaint_id: str, lock: bool = False
                        ) -> Complaint | None:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def open_corrective_action(*, session: AsyncSession, project: str, unit: str,
                                 category: str) -> CorrectiveAction | None:
    return (await session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.project == project, CorrectiveAction.unit == unit,
        CorrectiveAction.category == category, CorrectiveAction.closed_on.is_(None)
    ).with_for_update())).one_or_none()


async def corrective_actions_of(*, session: AsyncSession, project: str
                                ) -> list[CorrectiveAction]:
    return list((await session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.project == project).order_by(CorrectiveAction.detected_on,
                                                      CorrectiveAction.id))).all())
