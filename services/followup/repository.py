"""All of follow-up's SQL. Keyword-only arguments; the handler owns the transaction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, union, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.followup.models import (
    Certificate,
    Complaint,
    CorrectiveAction,
    FollowedRepair,
    ProjectPolicy,
    ReturnVisit,
    Revisit,
    SamplingCount,
)


async def remember_repair(*, session: AsyncSession, repair: FollowedRepair) -> None:
    """Keep a reported repair's facts (a redelivered event changes nothing)."""
    values = {c.name: getattr(repair, c.name) for c in FollowedRepair.__table__.columns}
    await session.execute(insert(FollowedRepair).values(**values).on_conflict_do_nothing())


async def get_repair(*, session: AsyncSession, repair_id: str) -> FollowedRepair | None:
    return await session.get(FollowedRepair, repair_id)


async def mark_completed(*, session: AsyncSession, repair_id: str, at: datetime) -> None:
    """The repair's work completed at `at`: its latest completion is kept (after a rework
    the repair is completed again; a redelivered older event changes nothing)."""
    await session.execute(update(FollowedRepair).where(
        FollowedRepair.repair_id == repair_id).values(completed_at=func.greatest(
            func.coalesce(FollowedRepair.completed_at, at), at)))


async def mark_closed(*, session: AsyncSession, repair_id: str, at: datetime) -> None:
    await session.execute(update(FollowedRepair).where(
        FollowedRepair.repair_id == repair_id).values(closed_at=at))


async def closed_repairs(*, session: AsyncSession, project: str, since: datetime,
                         until: datetime, unit: str | None = None,
                         building: str | None = None, common_area: str | None = None,
                         category: str | None = None) -> list[FollowedRepair]:
    """Repairs closed in [since, until); at one unit, or at one common area of a building
    (`building` and `common_area`, no unit), when given."""
    query = select(FollowedRepair).where(
        FollowedRepair.project == project, FollowedRepair.closed_at >= since,
        FollowedRepair.closed_at < until)
    if unit is not None:
        query = query.where(FollowedRepair.unit == unit)
    elif common_area is not None:
        query = query.where(FollowedRepair.unit.is_(None),
                            FollowedRepair.building == building,
                            FollowedRepair.common_area == common_area)
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


async def visits_served(*, session: AsyncSession, project: str, since: datetime,
                        until: datetime) -> list[ReturnVisit]:
    """The jobs served (repair completed, complaint handled) in [since, until): a period's
    statistics, by the same quarter as the sampler's counts."""
    return list((await session.scalars(select(ReturnVisit).where(
        ReturnVisit.project == project, ReturnVisit.served_at >= since,
        ReturnVisit.served_at < until))).all())


async def add_complaint(*, session: AsyncSession, complaint: Complaint) -> None:
    values = {c.name: getattr(complaint, c.name) for c in Complaint.__table__.columns}
    values["escalations"] = values["escalations"] or []
    await session.execute(insert(Complaint).values(**values).on_conflict_do_nothing())


async def get_complaint(*, session: AsyncSession, complaint_id: str, lock: bool = False
                        ) -> Complaint | None:
    query = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def list_complaints(*, session: AsyncSession, within: list[str] | None,
                          project: str | None, include_handled: bool, late_only: bool,
                          limit: int) -> list[Complaint]:
    """Complaints not archived (open ones only, unless `include_handled`), soonest
    response deadline first."""
    query = select(Complaint).where(Complaint.archived_at.is_(None))
    if not include_handled:
        query = query.where(Complaint.handled_at.is_(None))
    if late_only:
        query = query.where(Complaint.late_at.is_not(None)
                            | (Complaint.handled_at >= Complaint.respond_by))
    if within is not None:
        query = query.where(Complaint.project.in_(within))
    if project is not None:
        query = query.where(Complaint.project == project)
    query = query.order_by(Complaint.respond_by, Complaint.id).limit(limit)
    return list((await session.scalars(query)).all())


async def complaints_opened(*, session: AsyncSession, project: str, since: datetime,
                            until: datetime) -> list[Complaint]:
    return list((await session.scalars(select(Complaint).where(
        Complaint.project == project, Complaint.opened_at >= since,
        Complaint.opened_at < until))).all())


async def open_corrective_action(*, session: AsyncSession, project: str, unit: str | None,
                                 building: str, common_area: str | None, category: str
                                 ) -> CorrectiveAction | None:
    """The open action of a unit, or (no unit) of a common area of a building."""
    query = select(CorrectiveAction).where(
        CorrectiveAction.project == project, CorrectiveAction.category == category,
        CorrectiveAction.closed_on.is_(None))
    if unit is not None:
        query = query.where(CorrectiveAction.unit == unit)
    else:
        query = query.where(CorrectiveAction.unit.is_(None),
                            CorrectiveAction.building == building,
                            CorrectiveAction.common_area == common_area)
    return (await session.scalars(query.with_for_update())).one_or_none()


async def corrective_actions_of(*, session: AsyncSession, project: str
                                ) -> list[CorrectiveAction]:
    return list((await session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.project == project).order_by(CorrectiveAction.detected_on,
                                                      CorrectiveAction.id))).all())


# --- planned revisits, certificates, retention ---------------------------------------------

async def add_revisits(*, session: AsyncSession, revisits: list[dict]) -> int:
    """Store planned revisits; those planned before (same project, year, kind, day,
    building and scope) are left as they are. How many were new."""
    if not revisits:
        return 0
    rows = [{"status": "planned", "found_repair_ids": [], **r} for r in revisits]
    result = await session.execute(insert(Revisit).values(rows).on_conflict_do_nothing(
        constraint="uq_revisits_plan_item").returning(Revisit.id))
    return len(result.all())


async def list_revisits(*, session: AsyncSession, within: list[str] | None,
                        project: str | None, year: int | None = None,
                        status: str | None = None, due_before: date | None = None,
                        limit: int = 2000) -> list[Revisit]:
    """Revisits not archived, soonest first."""
    query = select(Revisit).where(Revisit.archived_at.is_(None))
    if within is not None:
        query = query.where(Revisit.project.in_(within))
    if project is not None:
        query = query.where(Revisit.project == project)
    if year is not None:
        query = query.where(Revisit.year == year)
    if status is not None:
        query = query.where(Revisit.status == status)
    if due_before is not None:
        query = query.where(Revisit.due_on < due_before)
    query = query.order_by(Revisit.due_on, Revisit.building, Revisit.kind, Revisit.scope,
                           Revisit.id).limit(limit)
    return list((await session.scalars(query)).all())


async def get_revisit(*, session: AsyncSession, revisit_id: int, lock: bool = False
                      ) -> Revisit | None:
    query = select(Revisit).where(Revisit.id == revisit_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def revisits_done(*, session: AsyncSession, project: str, since: datetime,
                        until: datetime) -> list[Revisit]:
    """Revisits made in [since, until), archived or not: a period's findings."""
    return list((await session.scalars(select(Revisit).where(
        Revisit.project == project, Revisit.done_at >= since,
        Revisit.done_at < until))).all())


async def completions(*, session: AsyncSession, repair_ids: list[str]
                      ) -> dict[str, datetime | None]:
    """Each known repair's latest completion (None: not completed yet)."""
    if not repair_ids:
        return {}
    rows = await session.execute(select(FollowedRepair.repair_id, FollowedRepair.completed_at)
                                 .where(FollowedRepair.repair_id.in_(repair_ids)))
    return {repair_id: completed_at for repair_id, completed_at in rows}


async def track_certificates(*, session: AsyncSession, certificates: list[dict]) -> None:
    """Track delivered units' certificates; a unit whose delivery or due day changed
    (the building's completion became known) before its certificate was issued gets the
    new dates, an issued one is left alone."""
    if not certificates:
        return
    statement = insert(Certificate).values(certificates)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[Certificate.project, Certificate.building, Certificate.unit],
        set_={"delivered_on": statement.excluded.delivered_on,
              "due_on": statement.excluded.due_on},
        where=Certificate.issued_on.is_(None)
        & ((Certificate.delivered_on != statement.excluded.delivered_on)
           | (Certificate.due_on != statement.excluded.due_on))))


async def get_certificate(*, session: AsyncSession, project: str, building: str, unit: str,
                          lock: bool = False) -> Certificate | None:
    query = select(Certificate).where(Certificate.project == project,
                                      Certificate.building == building,
                                      Certificate.unit == unit)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def missing_certificates(*, session: AsyncSession, project: str,
                               due_before: date | None = None) -> list[Certificate]:
    """Certificates not issued yet (due before a day, if given), soonest due first."""
    query = select(Certificate).where(Certificate.project == project,
                                      Certificate.issued_on.is_(None))
    if due_before is not None:
        query = query.where(Certificate.due_on < due_before)
    query = query.order_by(Certificate.due_on, Certificate.building, Certificate.unit)
    return list((await session.scalars(query)).all())


async def projects_with_records(*, session: AsyncSession, within: list[str] | None
                                ) -> list[str]:
    """Projects having visits, revisits or complaints (the ones archiving looks at)."""
    query = union(select(ReturnVisit.project), select(Revisit.project),
                  select(Complaint.project)).subquery()
    statement = select(query.c.project).order_by(query.c.project)
    if within is not None:
        statement = statement.where(query.c.project.in_(within))
    return list((await session.scalars(statement)).all())


async def archive_before(*, session: AsyncSession, project: str, cutoff: datetime,
                         at: datetime) -> tuple[int, int, int]:
    """Archive the project's visits made (or not chosen: served) before `cutoff`, revisits
    made before it and complaints handled before it. How many of each."""
    visits = await session.execute(update(ReturnVisit).where(
        ReturnVisit.project == project, ReturnVisit.archived_at.is_(None),
        ((ReturnVisit.status == "done") & (ReturnVisit.done_at < cutoff))
        | ((ReturnVisit.status == "not_selected") & (ReturnVisit.served_at < cutoff))
    ).values(archived_at=at).returning(ReturnVisit.id))
    revisits = await session.execute(update(Revisit).where(
        Revisit.project == project, Revisit.archived_at.is_(None), Revisit.status == "done",
        Revisit.done_at < cutoff).values(archived_at=at).returning(Revisit.id))
    complaints = await session.execute(update(Complaint).where(
        Complaint.project == project, Complaint.archived_at.is_(None),
        Complaint.handled_at < cutoff).values(archived_at=at).returning(Complaint.id))
    return len(visits.all()), len(revisits.all()), len(complaints.all())
