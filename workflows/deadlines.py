"""Service deadlines (服务时限): pure functions of a report, the policy and the calendar.

The rules, written down for staff in docs/service-levels.md:

- A wall-clock target (minutes, hours) counts elapsed time from its start, at any hour and
  on any day. A target with `outside_hours_minutes` uses that span instead when its start
  falls outside working hours (arrival: 20 minutes within 08:00-17:30 on a working day,
  1 hour outside, 003 §5.2; an emergency 10 minutes at any time, 001 §4.3.5). Both ends of
  working hours count as within.
- A working-day target (工作日) never counts the day its clock starts (民法典 第二百零一条),
  whatever the hour and whether that day is a working day; day 1 is the next working day on
  the project's calendar (statutory holidays off, make-up days 调休 on, the project's own
  exceptions), and the target falls due at the end of working hours of day N (第二百零三条:
  where there are business hours, the deadline is the close of business).
- In a year the statutory calendar does not publish yet, only weekends are days off; such a
  deadline is marked provisional and its rule says so.
- respond, arrive and finish count from receipt; assess from arrival (or, before arrival,
  from the arrival deadline). An agreed visit time (预约) replaces the arrival target, and
  the finish clock then starts at the visit.

Every moment is zone-aware and results are in the project's zone. No I/O and no clock: the
same input gives the same output, so the functions may run inside a Temporal workflow (but
a newer chinese-calendar can change a result; compute once and keep it in the history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.common.business_calendar import STATUTORY, WorkCalendar
from services.common.service_levels import (
    DEFAULT_POLICY,
    EscalationRole,
    ServiceLevelPolicy,
    Target,
    WorkingHours,
    source_of,
)

# More days off in a row than this is a broken calendar, not a holiday.
_LONGEST_BREAK = 366


@dataclass(frozen=True)
class Deadline:
    """When a step is due and, in words, why."""

    due_at: datetime
    rule: str
    provisional: bool = False  # counted on a year the statutory calendar does not publish


@dataclass(frozen=True)
class ServiceDeadlines:
    """The four deadlines of one repair; None where the policy sets no target."""

    respond_by: Deadline | None
    arrive_by: Deadline | None
    assess_by: Deadline | None
    finish_by: Deadline | None


@dataclass(frozen=True)
class EscalationStep:
    """Who is told (逐级上报) at which moment once a deadline has passed."""

    role: EscalationRole
    at: datetime


def within_working_hours(
    moment: datetime,
    *,
    time_zone: str,
    hours: WorkingHours = DEFAULT_POLICY.working_hours,
    calendar: WorkCalendar = STATUTORY,
) -> bool:
    """Whether a moment falls in working hours (工作时间) of the project, both ends included."""
    local = _local(moment, time_zone, "moment")
    clock = local.time().replace(tzinfo=None)
    return calendar.is_working_day(local.date()) and hours.start <= clock <= hours.end


def next_working_moment(
    moment: datetime,
    *,
    time_zone: str,
    hours: WorkingHours = DEFAULT_POLICY.working_hours,
    calendar: WorkCalendar = STATUTORY,
) -> datetime:
    """The first moment in working hours at or after `moment`, in the project's zone."""
    local = _local(moment, time_zone, "moment")
    day = local.date()
    for _ in range(_LONGEST_BREAK + 1):
        begins = datetime.combine(day, hours.start, local.tzinfo)
        ends = datetime.combine(day, hours.end, local.tzinfo)
        if calendar.is_working_day(day) and local <= ends:
            return max(begins, local)
        day += timedelta(days=1)
    raise ValueError(f"no working day within {_LONGEST_BREAK} days of {local.date()}")


def add_working_days(day: date, count: int, *, calendar: WorkCalendar = STATUTORY) -> date:
    """The `count`-th working day (工作日) after `day`, which is not counted; 0 gives `day`."""
    if count < 0:
        raise ValueError("count must not be negative")
    rest = 0
    while count:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
            rest = 0
        else:
            rest += 1
            if rest > _LONGEST_BREAK:
                raise ValueError(f"no working day within {_LONGEST_BREAK} days of {day}")
    return day


def target_due(
    *,
    target: Target,
    start: datetime,
    time_zone: str,
    hours: WorkingHours = DEFAULT_POLICY.working_hours,
    calendar: WorkCalendar = STATUTORY,
    what: str = "due",
    since: str = "the start",
    source: str = "the project's policy",
) -> Deadline:
    """When one target falls due counting from `start`, with the rule in words.

    `what` names the step ("arrive"), `since` the start ("receipt"), `source` the reference.
    """
    local = _local(start, time_zone, "start")
    if target.working_days is not None:
        return _working_days_due(target.working_days, local, hours, calendar, what, since, source)
    if target.immediately:
        return Deadline(local, f"{what} immediately on {since} ({source})")
    provisional = False
    qualifier = ""
    within = True
    if target.outside_hours_minutes is not None:
        within = within_working_hours(local, time_zone=time_zone, hours=hours, calendar=calendar)
        provisional = not calendar.knows(local.date())
        qualifier = (
            f"{since} {'within' if within else 'outside'} working hours "
            f"({hours.start:%H:%M}-{hours.end:%H:%M} on a working day), so "
        )
    span = target.span(within_hours=within)
    assert span is not None  # one of minutes, hours, immediately: the model checks it
    # Elapsed time, not local clock arithmetic: right even where the zone keeps summer time.
    due = (local.astimezone(UTC) + span).astimezone(local.tzinfo)
    rule = f"{qualifier}{what} within {_span(span)} of {since} ({source})"
    return Deadline(due, rule + _guess_note(local.date()) if provisional else rule, provisional)


def service_deadlines(
    *,
    policy: ServiceLevelPolicy,
    calendar: WorkCalendar,
    priority: str,
    received_at: datetime,
    time_zone: str,
    arrived_at: datetime | None = None,
    agreed_visit_at: datetime | None = None,
) -> ServiceDeadlines:
    """respond_by, arrive_by, assess_by and finish_by of one repair, each with its rule."""
    received = _local(received_at, time_zone, "received_at")
    targets = policy.targets.of(priority)

    def due(kind: str, start: datetime, since: str) -> Deadline | None:
        target = getattr(targets, kind)
        if target is None:
            return None
        deadline = target_due(
            target=target,
            start=start,
            time_zone=time_zone,
            hours=policy.working_hours,
            calendar=calendar,
            what=kind,
            since=since,
            source=source_of(policy, f"targets.{priority}.{kind}"),
        )
        return Deadline(deadline.due_at, f"{priority}: {deadline.rule}", deadline.provisional)

    respond = due("respond", received, "receipt")
    if agreed_visit_at is not None:
        visit = _local(agreed_visit_at, time_zone, "agreed_visit_at")
        if visit < received:
            raise ValueError("agreed_visit_at precedes received_at")
        arrive: Deadline | None = Deadline(
            visit,
            f"{priority}: arrive at the visit time agreed with the owner (预约时间), "
            "which replaces the arrival target (004 §4.2.2.1)",
        )
    else:
        visit = None
        arrive = due("arrive", received, "receipt")

    if arrived_at is not None:
        arrived = _local(arrived_at, time_zone, "arrived_at")
        if arrived < received:
            raise ValueError("arrived_at precedes received_at")
        assess = due("assess", arrived, "arrival")
    elif arrive is not None:
        assess = due("assess", arrive.due_at, "arrive_by")
    else:
        assess = due("assess", received, "receipt")

    finish = (
        due("finish", visit, "the agreed visit")
        if visit is not None
        else due("finish", received, "receipt")
    )
    return ServiceDeadlines(respond, arrive, assess, finish)


def arrive_by(
    *,
    received_at: datetime,
    emergency: bool,
    time_zone: str,
    policy: ServiceLevelPolicy = DEFAULT_POLICY,
    calendar: WorkCalendar = STATUTORY,
) -> Deadline:
    """When a technician must be on site (到场时限) for an emergency or a routine report."""
    priority = "emergency" if emergency else "routine"
    deadline = service_deadlines(
        policy=policy,
        calendar=calendar,
        priority=priority,
        received_at=received_at,
        time_zone=time_zone,
    ).arrive_by
    if deadline is None:
        raise ValueError(f"the policy sets no arrival target for {priority} repairs")
    return deadline


def escalation_steps(
    *,
    policy: ServiceLevelPolicy,
    overdue_at: datetime,
    emergency: bool,
    time_zone: str,
) -> tuple[EscalationStep, ...]:
    """The chain (当日总负责人 → 工程部经理 → 物业总监 by default) from a missed deadline.

    The first role is told when the deadline passes, each next one an interval later, on the
    wall clock at any hour; an emergency steps at its own, shorter interval.
    """
    start = _local(overdue_at, time_zone, "overdue_at").astimezone(UTC)
    minutes = (
        policy.escalation.emergency_interval_minutes
        if emergency
        else policy.escalation.interval_minutes
    )
    zone = ZoneInfo(time_zone)
    return tuple(
        EscalationStep(role, (start + timedelta(minutes=minutes * n)).astimezone(zone))
        for n, role in enumerate(policy.escalation.chain)
    )


def _working_days_due(
    count: int,
    local: datetime,
    hours: WorkingHours,
    calendar: WorkCalendar,
    what: str,
    since: str,
    source: str,
) -> Deadline:
    last = add_working_days(local.date(), count, calendar=calendar)
    due = datetime.combine(last, hours.end, local.tzinfo)
    provisional = not (calendar.knows(local.date() + timedelta(days=1)) and calendar.knows(last))
    plural = "s" if count != 1 else ""
    rule = (
        f"{what} within {count} working day{plural} (工作日) of {since}: the day of "
        f"{since} ({local.date():%a %Y-%m-%d}) is not counted; the {_ordinal(count)} "
        f"working day after it on the project's calendar is {last:%a %Y-%m-%d}, due at "
        f"the end of its working hours ({hours.end:%H:%M}) ({source})"
    )
    return Deadline(due, rule + _guess_note(last) if provisional else rule, provisional)


def _local(moment: datetime, time_zone: str, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone")
    return moment.astimezone(ZoneInfo(time_zone))


def _guess_note(day: date) -> str:
    return (
        f"; provisional: the statutory calendar for {day.year} is not published yet, so "
        "only weekends were taken as days off"
    )


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minutes"
    return "1 hour" if minutes == 60 else f"{minutes // 60} hours"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
