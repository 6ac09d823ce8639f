"""The customer center's reports over the read model (004 §4.1.3-4.1.4): orders issued,
completed and unfinished for a day, a week or a month, with the completion ratio and why
each unfinished order is not done (the daily return by 17:30/17:40 is the day's report);
and the finance statement of paid repairs from the 21st of last month to the 20th."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from services.common.contracts import WARRANTY_GET_PROJECT
from services.common.errors import Rejection
from services.common.registry_contracts import GetProject, ProjectIn
from services.intake import repository
from services.intake.auth import Authorized
from services.intake.endpoints import Rt
from services.intake.models import Repair, RepairStep
from workflows.repair.messages import Status

router = APIRouter(tags=["reports"])
ProjectCode = Annotated[str, Path(description="A project's code.", examples=["SH-LJ"])]
# Ended without the work done: neither unfinished nor completed.
WITHOUT_WORK = {Status.CANCELLED, Status.REFUSED}
DONE = {Status.COMPLETED, Status.CLOSED}
REPAIR = "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"


class UnfinishedOrder(BaseModel):
    repair_id: str
    ticket: str
    category: str
    place: str = Field(description="The unit, or the common area of the building.")
    received_at: datetime
    status: str = Field(description="Its status at the end of the period.")
    reason: str = Field(description="Why it is not done: its last step before the period's "
                                    "end, e.g. a pause for parts or a quote the owner has "
                                    "not accepted.")


class OrdersReport(BaseModel):
    """Orders issued, completed and unfinished (派工单统计) over one period."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "period": "week", "starts_on": "2026-11-16",
        "ends_on": "2026-11-22", "time_zone": "Asia/Shanghai", "issued": 12,
        "completed": 10, "completed_of_issued": 9, "unfinished": 2, "ended_without_work": 1,
        "completion_ratio": 0.75, "unfinished_orders": [{
            "repair_id": REPAIR, "ticket": "SH-LJ-000231", "category": "LK-WET",
            "place": "1-1201", "received_at": "2026-11-20T15:02:11+08:00",
            "status": "diagnosed", "reason": "paused: 等待防水卷材到货"}]}]})
    project: str
    period: Literal["day", "week", "month"]
    starts_on: date
    ends_on: date = Field(description="The period's last day (inclusive).")
    time_zone: str
    issued: int = Field(description="Orders received in the period.")
    completed: int = Field(description="Orders whose work was completed (完工) in the period, "
                                       "whenever they were received.")
    completed_of_issued: int = Field(description="Orders received in the period and "
                                                 "completed (or accepted) at its end; one "
                                                 "sent back for rework is not.")
    unfinished: int = Field(description="Orders received in the period and not completed by "
                                        "its end (cancelled and refused ones excepted).")
    ended_without_work: int = Field(description="Orders received in the period, cancelled or "
                                                "refused before its end.")
    completion_ratio: float | None = Field(
        description="completed_of_issued / (issued - ended_without_work); null when none.")
    unfinished_orders: list[UnfinishedOrder]


class PaidRepair(BaseModel):
    repair_id: str
    ticket: str
    category: str
    place: str
    completed_at: datetime
    quote_state: str = Field(description="`accepted`, or `waived` (part of it waived).")
    quoted_fen: int
    waived_fen: int
    due_fen: int = Field(description="What the owner pays: quoted less waived, in fen (分).")


class FinanceStatement(BaseModel):
    """Paid repairs (有偿维修) completed from the 21st of the month before to the 20th, for
    the finance department's monthly statement (004 §4.1.3.2)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "month": "2026-11", "starts_on": "2026-10-21",
        "ends_on": "2026-11-20", "time_zone": "Asia/Shanghai", "repairs": [{
            "repair_id": REPAIR, "ticket": "SH-LJ-000198", "category": "PL-LEAK",
            "place": "1-502", "completed_at": "2026-11-03T10:41:00+08:00",
            "quote_state": "accepted", "quoted_fen": 15000, "waived_fen": 0,
            "due_fen": 15000}],
        "count": 1, "quoted_fen": 15000, "waived_fen": 0, "due_fen": 15000}]})
    project: str
    month: str
    starts_on: date
    ends_on: date
    time_zone: str
    repairs: list[PaidRepair]
    count: int
    quoted_fen: int
    waived_fen: int
    due_fen: int


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The first and last day of the day, week (Monday to Sunday) or month holding `day`."""
    if kind == "day":
        return day, day
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def statement_period(month: str) -> tuple[date, date]:
    """21st of the month before to the 20th of `month` (YYYY-MM)."""
    year, number = (int(x) for x in month.split("-"))
    before = date(year - 1, 12, 21) if number == 1 else date(year, number - 1, 21)
    return before, date(year, number, 20)


def _instants(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time(), zone),
            datetime.combine(last + timedelta(days=1), time(), zone))


def _place(repair: Repair) -> str:
    return repair.unit or f"{repair.building} {repair.common_area}"


async def _zone(rt: Rt, caller: Authorized, project: str) -> ZoneInfo:
    await caller.require(project)
    found = await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=project), ProjectIn)
    return ZoneInfo(found.time_zone)


@router.get("/v1/projects/{project}/reports/orders", response_model=OrdersReport,
            summary="Orders issued, completed and unfinished, with reasons (日/周/月报)")
async def orders_report(
    project: ProjectCode, rt: Rt, caller: Authorized,
    period: Annotated[Literal["day", "week", "month"], Query(
        description="`day` (the daily return), `week` (Monday to Sunday) or `month`.")] = "week",
    on: Annotated[date | None, Query(
        description="A day in the period, in the project's calendar; default today.",
        examples=["2026-11-20"])] = None,
) -> OrdersReport:
    """Counted from the repairs' own steps, as they stood at the period's end."""
    if on is not None and not date(2000, 1, 1) <= on <= date(2999, 12, 31):
        raise Rejection("date_out_of_range", "Give a day of the years 2000 to 2999.",
                        "日期须在2000年至2999年之间。", "on")
    zone = await _zone(rt, caller, project)
    first, last = period_of(period, on or datetime.now(zone).date())
    start, end = _instants(first, last, zone)
    async with rt.sessions() as session:
        issued = await repository.received_between(session=session, project=project,
                                                   start=start, end=end)
        steps = await repository.steps_before(session=session,
                                              repair_ids=[r.id for r in issued], end=end)
        completed = await repository.completed_between(session=session, project=project,
                                                       start=start, end=end)
    done = without_work = 0
    unfinished: list[UnfinishedOrder] = []
    for repair in issued:
        status = _status_after(steps[repair.id])  # a rework after completion is not done
        if status in DONE:
            done += 1
        elif status in WITHOUT_WORK:
            without_work += 1
        else:
            unfinished.append(_unfinished(repair, steps[repair.id], zone))
    workable = len(issued) - without_work
    return OrdersReport(
        project=project, period=period, starts_on=first, ends_on=last, time_zone=str(zone),
        issued=len(issued), completed=len(completed), completed_of_issued=done,
        unfinished=len(unfinished), ended_without_work=without_work,
        completion_ratio=round(done / workable, 4) if workable else None,
        unfinished_orders=unfinished)


def _unfinished(repair: Repair, steps: list[RepairStep], zone: ZoneInfo) -> UnfinishedOrder:
    last = steps[-1] if steps else None
    status = _status_after(steps)
    reason = (f"{last.kind}: {last.detail}" if last is not None
              else "reported: the workflow has not taken it yet")
    return UnfinishedOrder(
        repair_id=repair.id, ticket=repair.ticket, category=repair.category,
        place=_place(repair), received_at=repair.received_at.astimezone(zone), status=status,
        reason=reason[:500])


def _status_after(steps: list[RepairStep]) -> str:
    """The status a repair had after its last step (steps carry no status of their own:
    the step kinds that set one name it)."""
    for step in reversed(steps):
        if step.kind in STATUS_OF_STEP:
            return STATUS_OF_STEP[step.kind]
    return Status.REPORTED


STATUS_OF_STEP = {
    "offered": Status.OFFERED, "unassigned": Status.UNASSIGNED, "accepted": Status.ACCEPTED,
    "delegated": Status.DELEGATED, "arrived": Status.ARRIVED, "diagnosed": Status.DIAGNOSED,
    "quoted": Status.QUOTED, "quote_accepted": Status.DIAGNOSED,
    "quote_disputed": Status.DISPUTED, "waiver_requested": Status.WAIVER_PENDING,
    "waiver_approved": Status.DIAGNOSED, "waiver_rejected": Status.QUOTED,
    "rework": Status.ACCEPTED, "completed": Status.COMPLETED, "closed": Status.CLOSED,
    "cancelled": Status.CANCELLED, "quote_refused": Status.REFUSED,
}


@router.get("/v1/projects/{project}/reports/finance", response_model=FinanceStatement,
            summary="Paid repairs for the month's finance statement (21st to 20th)")
async def finance_statement(
    project: ProjectCode, rt: Rt, caller: Authorized,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"],
                                description="The statement's month: the 21st of the month "
                                            "before to the 20th of this one.")],
) -> FinanceStatement:
    """Paid repairs whose work was completed in the period and whose quote the owner
    accepted (or that was partly waived); refused quotes are not charged."""
    if not 2000 <= int(month[:4]) <= 2999:
        raise Rejection("month_out_of_range", "Give a month of the years 2000 to 2999.",
                        "月份须在2000年至2999年之间。", "month")
    zone = await _zone(rt, caller, project)
    first, last = statement_period(month)
    start, end = _instants(first, last, zone)
    async with rt.sessions() as session:
        completed = await repository.completed_between(session=session, project=project,
                                                       start=start, end=end)
    paid = [PaidRepair(
        repair_id=r.id, ticket=r.ticket, category=r.category, place=_place(r),
        completed_at=at.astimezone(zone), quote_state=r.quote_state or "",
        quoted_fen=r.quote_total_fen or 0, waived_fen=r.waived_fen or 0,
        due_fen=(r.quote_total_fen or 0) - (r.waived_fen or 0))
        for r, at in completed if r.quote_state in ("accepted", "waived")]
    return FinanceStatement(
        project=project, month=month, starts_on=first, ends_on=last, time_zone=str(zone),
        repairs=paid, count=len(paid), quoted_fen=sum(p.quoted_fen for p in paid),
        waived_fen=sum(p.waived_fen for p in paid), due_fen=sum(p.due_fen for p in paid))
