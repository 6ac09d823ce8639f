"""Rosters (排班): what makes one acceptable, and turning the tables into candidates."""

from __future__ import annotations

from datetime import date, datetime

from services.common.business_calendar import WorkCalendar
from services.common.dispatch_contracts import RosterIn
from services.common.errors import Rejection
from services.dispatch.assignment import Candidate, ProjectHours
from services.dispatch.models import Leave, OnCall, Team, Technician
from services.dispatch.models import ProjectHours as HoursRow


def check_roster(roster: RosterIn, members: set[str]) -> list[dict]:
    """Every problem of a roster, as {field, code, message_en, message_zh}."""
    problems: list[dict] = []

    def problem(field: str, code: str, en: str, zh: str) -> None:
        problems.append({"field": field, "code": code, "message_en": en, "message_zh": zh})

    for kind, entries in (("on_call", roster.on_call), ("leave", roster.leave),
                          ("duty_leaders", roster.duty_leaders)):
        for i, entry in enumerate(entries):
            if entry.technician not in members:
                problem(f"{kind}[{i}].technician", "not_in_team",
                        f"{entry.technician} is not a technician of team {roster.team}.",
                        f"{entry.technician}不是{roster.team}班组的维修人员。")
    for i, shift in enumerate(roster.on_call):
        if shift.ends_at <= shift.starts_at:
            problem(f"on_call[{i}].ends_at", "inverted_shift",
                    "An on-call shift must end after it starts.", "值班结束时间必须晚于开始时间。")
    by_person: dict[str, list[tuple[datetime, datetime, int]]] = {}
    for i, shift in enumerate(roster.on_call):
        by_person.setdefault(shift.technician, []).append((shift.starts_at, shift.ends_at, i))
    for shifts in by_person.values():
        shifts.sort()
        for (_, end, _), (start, _, j) in zip(shifts, shifts[1:], strict=False):
            if start < end:
                problem(f"on_call[{j}].starts_at", "overlapping_shifts",
                        "This on-call shift overlaps another of the same technician.",
                        "该值班与同一人的另一班次时间重叠。")
    for i, leave in enumerate(roster.leave):
        if leave.last_day < leave.first_day:
            problem(f"leave[{i}].last_day", "inverted_leave",
                    "Leave must end on or after its first day.", "请假结束日期不能早于开始日期。")
    days = [d.day for d in roster.duty_leaders]
    for i, day in enumerate(days):
        if day in days[:i]:
            problem(f"duty_leaders[{i}].day", "two_leaders",
                    f"{day} has two duty leaders.", f"{day}有两名当日总负责人。")
    return problems


def hours_of(row: HoursRow | None) -> ProjectHours:
    """A project's working hours; the defaults when the project has set none."""
    if row is None:
        return ProjectHours()
    return ProjectHours(
        time_zone=row.time_zone, day_start=row.day_start, day_end=row.day_end,
        calendar=WorkCalendar(frozenset(date.fromisoformat(d) for d in row.extra_days_off),
                              frozenset(date.fromisoformat(d) for d in row.extra_working_days)))


def candidates(technicians: list[Technician], teams: dict[str, Team], on_call: list[OnCall],
               leave: list[Leave], workload: dict[str, tuple[int, datetime | None]]
               ) -> list[Candidate]:
    """The technicians as the assignment rule sees them."""
    result = []
    for t in technicians:
        team = teams.get(t.team_id or "")
        open_orders, last = workload.get(t.id, (0, None))
        result.append(Candidate(
            technician_id=t.id, name=t.name, team_kind=team.kind if team else "",
            party_name=team.party_name if team else None, trades=frozenset(t.trades),
            projects=frozenset(t.projects), day_shift=t.day_shift,
            on_call=tuple((o.starts_at, o.ends_at) for o in on_call if o.technician_id == t.id),
            leave=tuple((v.first_day, v.last_day) for v in leave if v.technician_id == t.id),
            open_orders=open_orders, max_open_orders=t.max_open_orders, last_assigned_at=last,
        ))
    return result


def unknown(what: str, value: str, field: str, status: int = 422) -> Rejection:
    names = {"team": "班组", "technician": "维修人员", "offer": "派工单", "project": "项目"}
    return Rejection(f"unknown_{what}", f"Unknown {what} {value!r}.",
                     f"未知的{names.get(what, what)}“{value}”。", field, status)
