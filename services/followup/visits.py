"""Return visits (回访): when one is due, whether a job gets one, and when it is late.

- A window opens on the project-zone day `opens_*` after the work ended (the day it ended
  is day 0) and closes at the end of the day `closes_*` after; months are calendar months,
  clamped to the month's end (done 31 January: a repair visit opens on 28 or 29 February).
  It never opens before the work ended. `closes_at` is the midnight that ends the last day:
  a visit is on time when `opens_at <= done_at < closes_at`.
- Sampling (抽样): jobs are taken in the order they end; a job gets a visit exactly when
  skipping it would bring the share visited in the period under the required rate, that
  is when ceil(rate * (seen + 1)) > selected. At every point of the period the share is at
  least the rate and no more than ceil(rate * seen) jobs were chosen by rate.
- A late visit is one made at or after `closes_at`, or not made by then.
- A complaint is answered (handled) by `respond_by`, `respond_hours` of elapsed time after
  it was opened (24 h, 004 紧急维修制度 §8.2); not handled by then it is late, and its
  chain hears of it one role every `interval_hours` from that moment.

Pure functions over plain data; no clock: `now` is an argument.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import NamedTuple
from zoneinfo import ZoneInfo

from services.common.followup_policy import FollowupPolicy, FollowupRole, VisitKind, Window


class VisitWindow(NamedTuple):
    """When a return visit may be made: from `opens_at` up to, not including, `closes_at`."""

    opens_at: datetime
    closes_at: datetime

    @property
    def last_day(self) -> date:
        """The last day on which the visit is on time, in the project's zone."""
        return (self.closes_at - timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class LateVisitStep:
    """Who is told (上报) at which moment about a visit not made in its window."""

    role: FollowupRole
    at: datetime


def add_months(day: date, months: int) -> date:
    """`day` moved by calendar months, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def window_from(done_at: datetime, window: Window, *, time_zone: str) -> VisitWindow:
    """The window of one visit counting from `done_at` (the end of the work)."""
    done = _local(done_at, time_zone, "done_at")
    day = done.date()
    opening = add_months(day, window.opens_months) + timedelta(days=window.opens_days)
    closing = add_months(day, window.closes_months) + timedelta(days=window.closes_days)
    opens_at = max(done, _midnight(opening, done.tzinfo))
    return VisitWindow(opens_at, _midnight(closing + timedelta(days=1), done.tzinfo))


def visit_window(
    *, kind: VisitKind, done_at: datetime, policy: FollowupPolicy, time_zone: str
) -> VisitWindow:
    """The return-visit window (回访时限) of a job of this kind ended at `done_at`.

    For a special service, `done_at` is the middle or the end of the contract: see
    `special_service_windows`.
    """
    return window_from(done_at, policy.windows.of(kind), time_zone=time_zone)


def special_service_windows(
    *, starts_at: datetime, ends_at: datetime, policy: FollowupPolicy, time_zone: str
) -> tuple[VisitWindow, VisitWindow]:
    """The two visits of a special (contract) service (特约服务): mid-term and at the end."""
    start = _local(starts_at, time_zone, "starts_at")
    end = _local(ends_at, time_zone, "ends_at")
    if end < start:
        raise ValueError("ends_at precedes starts_at")
    middle = start + (end - start) / 2  # elapsed time, the same in any zone
    window = policy.windows.special_service
    return (
        window_from(middle, window, time_zone=time_zone),
        window_from(end, window, time_zone=time_zone),
    )


def select_by_rate(*, rate: float, selected: int, seen: int) -> bool:
    """Whether the next job is chosen so that `selected / seen` never falls under `rate`.

    `selected` and `seen` are this period's counts before this job. Rate 1 always chooses,
    rate 0 never. The rate is read as the decimal it is written as (0.8 is 4/5 exactly), so
    float rounding cannot choose one job too many or too few.
    """
    if not 0 <= rate <= 1:
        raise ValueError("rate is between 0 and 1")
    if not 0 <= selected <= seen:
        raise ValueError("0 <= selected <= seen")
    return math.ceil(Fraction(str(rate)) * (seen + 1)) > selected


def should_visit(
    *,
    kind: VisitKind,
    selected: int,
    seen: int,
    policy: FollowupPolicy,
    in_unit: bool = False,
) -> bool:
    """Whether this job gets a return visit, given the period's counts of its kind so far.

    Complaints are all visited by default (rate 1). With `in_unit_repairs_all`, every
    repair in an owner's unit is visited; those count towards the rate like any other, so
    fewer of the remaining repairs are chosen.
    """
    if kind == VisitKind.repair and in_unit and policy.rates.in_unit_repairs_all:
        return True
    return select_by_rate(rate=policy.rates.of(kind), selected=selected, seen=seen)


def reminder_at(window: VisitWindow, policy: FollowupPolicy) -> datetime:
    """When to remind the specialist: the start of the day `remind_before_days` before the
    window closes (the last day, by default), and never before the window opens."""
    closes = window.closes_at
    day = closes.date() - timedelta(days=policy.late.remind_before_days)
    return max(window.opens_at, _midnight(day, closes.tzinfo))


def is_late(window: VisitWindow, *, done_at: datetime | None, now: datetime) -> bool:
    """Whether the visit missed its window: made at or after `closes_at`, or not made by
    `now` when `now` is past it."""
    _aware(now, "now")
    if done_at is not None:
        return _aware(done_at, "done_at") >= window.closes_at
    return now >= window.closes_at


def late_escalation(
    window: VisitWindow, policy: FollowupPolicy, *, time_zone: str
) -> tuple[LateVisitStep, ...]:
    """Who hears of a visit not made in time: the first role when the window closes, each
    next one `interval_days` later (客户中心主管 → 管理处经理 by default)."""
    closes = _local(window.closes_at, time_zone, "closes_at")
    return tuple(
        LateVisitStep(
            role,
            _midnight(closes.date() + timedelta(days=n * policy.late.interval_days),
                      closes.tzinfo),
        )
        for n, role in enumerate(policy.late.chain)
    )


@dataclass(frozen=True)
class ComplaintDeadlines:
    """When a complaint must be answered, when its handler is reminded (None: not at all)
    and who hears of it, when, if it is not answered in time."""

    respond_by: datetime
    remind_at: datetime | None
    late_steps: tuple[LateVisitStep, ...]


def complaint_deadlines(opened_at: datetime, policy: FollowupPolicy, *,
                        respond_by: datetime | None = None) -> ComplaintDeadlines:
    """The response deadlines of a complaint opened at `opened_at` (elapsed hours: a
    complaint is answered around the clock, like the 24-hour hotline); `respond_by` when
    it was set already (a stored complaint keeps its deadline)."""
    rule = policy.complaints
    if respond_by is None:
        respond_by = _aware(opened_at, "opened_at") + timedelta(hours=rule.respond_hours)
    remind_at = respond_by - timedelta(hours=rule.remind_before_hours)
    return ComplaintDeadlines(
        respond_by=respond_by,
        remind_at=remind_at if opened_at < remind_at < respond_by else None,
        late_steps=tuple(
            LateVisitStep(role, respond_by + timedelta(hours=n * rule.interval_hours))
            for n, role in enumerate(rule.chain)
        ),
    )


def _midnight(day: date, zone: tzinfo | None) -> datetime:
    # A calendar day starts at its local midnight, whatever the offset (summer time).
    return datetime.combine(day, time(0), zone)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone")
    return moment


def _local(moment: datetime, time_zone: str, name: str) -> datetime:
    return _aware(moment, name).astimezone(ZoneInfo(time_zone))
