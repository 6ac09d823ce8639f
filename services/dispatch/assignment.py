"""Who goes (派工): a pure function of the roster, the workload and the repair.

A technician can take a repair at a moment when they
- serve the project and practise the repair's trade, and belong to the right team: the
  property's own teams, or, for a delegated repair, the liable party's team;
- are not on leave that day, and are on shift (the project's working hours, 08:00 to 17:30
  inclusive by default, on working days of its calendar) or on call (an on-call interval
  contains the moment);
- are below their limit of open orders, unless the repair is an emergency: an emergency
  may go to someone already busy.
Among them the fewest open orders wins, then whoever was assigned least recently, then
the technician id, so the same roster always gives the same answer. Technicians already
tried for this repair (declined or timed out) are skipped. When nobody can go, the answer
says when the first of them will be on shift or on call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.business_calendar import STATUTORY, WorkCalendar

OWN_TEAMS = frozenset({"property_engineering", "developer_after_sales"})
LOOK_AHEAD = timedelta(days=31)


@dataclass(frozen=True)
class ProjectHours:
    """A project's working hours, in its own zone and calendar."""

    time_zone: str = "Asia/Shanghai"
    day_start: time = time(8, 0)
    day_end: time = time(17, 30)
    calendar: WorkCalendar = STATUTORY

    def on_shift(self, local: datetime) -> bool:
        clock = local.time().replace(tzinfo=None)
        return (self.calendar.is_working_day(local.date())
                and self.day_start <= clock <= self.day_end)

    def next_shift_start(self, local: datetime) -> datetime:
        """The first moment of working hours at or after `local`."""
        day = local.date()
        for _ in range(LOOK_AHEAD.days):
            begins = datetime.combine(day, self.day_start, local.tzinfo)
            ends = datetime.combine(day, self.day_end, local.tzinfo)
            if self.calendar.is_working_day(day) and local <= ends:
                return max(begins, local)
            day += timedelta(days=1)
        raise ValueError("no working day within a month")


@dataclass(frozen=True)
class Candidate:
    """A technician as the roster and the order book see them."""

    technician_id: str
    name: str
    team_kind: str
    party_name: str | None
    trades: frozenset[str]
    projects: frozenset[str]
    day_shift: bool = True
    on_call: tuple[tuple[datetime, datetime], ...] = ()  # [start, end) intervals
    leave: tuple[tuple[date, date], ...] = ()  # inclusive days
    open_orders: int = 0
    max_open_orders: int = 3
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class Need:
    """The repair to staff."""

    project: str
    trade: str
    at: datetime
    emergency: bool = False
    delegate_to: str | None = None  # the liable party's name, for a delegated repair
    tried: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Choice:
    technician_id: str | None
    name: str | None
    rule: str
    available_from: datetime | None = None  # when nobody can go now: the earliest moment


def choose(candidates: Iterable[Candidate], need: Need, hours: ProjectHours) -> Choice:
    """The technician to offer the repair to, and why; or nobody, and from when."""
    if need.at.tzinfo is None:
        raise ValueError("the moment must carry a time zone")
    local = need.at.astimezone(ZoneInfo(hours.time_zone))
    eligible = [c for c in candidates if _eligible(c, need)]
    if not eligible:
        team = f"the team of {need.delegate_to}" if need.delegate_to else "our teams"
        return Choice(None, None, f"nobody in {team} serves {need.project} with the trade "
                                  f"{need.trade}" + (" who was not tried already" if need.tried
                                                     else ""))
    present = [(c, how) for c in eligible if (how := _presence(c, local, hours))]
    able = [(c, how) for c, how in present if need.emergency or c.open_orders < c.max_open_orders]
    if not able:
        # Those present are at their limit: only someone coming on later can be promised.
        later = [m for c in eligible if not any(c is p for p, _ in present)
                 if (m := _next_presence(c, local, hours))]
        earliest = min(later, default=None)
        why = ("everyone on shift or on call is at their limit of open orders" if present
               else "nobody is on shift or on call now")
        return Choice(None, None, why, earliest)
    best, how = min(able, key=lambda pair: (
        pair[0].open_orders,
        pair[0].last_assigned_at or datetime.min.replace(tzinfo=local.tzinfo),
        pair[0].technician_id,
    ))
    busy = " (an emergency may go to someone busy)" if (
        need.emergency and best.open_orders >= best.max_open_orders) else ""
    rule = (f"{how}; serves {need.project}; trade {need.trade}; "
            f"fewest open orders ({best.open_orders}) among {len(able)} able{busy}")
    if need.delegate_to:
        rule = f"delegated to {need.delegate_to}: " + rule
    return Choice(best.technician_id, best.name, rule)


def _eligible(c: Candidate, need: Need) -> bool:
    if c.technician_id in need.tried or need.project not in c.projects:
        return False
    if need.trade not in c.trades:
        return False
    if need.delegate_to:
        return c.party_name == need.delegate_to
    return c.team_kind in OWN_TEAMS


def _on_leave(c: Candidate, day: date) -> bool:
    return any(first <= day <= last for first, last in c.leave)


def _presence(c: Candidate, local: datetime, hours: ProjectHours) -> str | None:
    """'on call' or 'on shift' at that moment, or None."""
    if _on_leave(c, local.date()):
        return None
    if any(start <= local < end for start, end in c.on_call):
        return "on call"
    if c.day_shift and hours.on_shift(local):
        return f"on shift ({hours.day_start:%H:%M}-{hours.day_end:%H:%M} on a working day)"
    return None


def _next_presence(c: Candidate, local: datetime, hours: ProjectHours) -> datetime | None:
    """The first moment after `local` when the technician is on shift or on call."""
    moments = [start.astimezone(local.tzinfo) for start, _ in c.on_call
               if start > local and not _on_leave(c, start.astimezone(local.tzinfo).date())]
    if c.day_shift:
        probe = local
        while probe - local < LOOK_AHEAD:
            start = hours.next_shift_start(probe)
            if not _on_leave(c, start.date()):
                moments.append(start)
                break
            probe = datetime.combine(start.date() + timedelta(days=1), time(0), local.tzinfo)
    return min(moments, default=None)
