"""Arrival deadlines (到场时限), a pure function of the report and the business calendar.

The seeds' rule (003 §5.2, 004 §4.1.2.2, 001 §4.3.5): a report received within working hours
must be reached within 20 minutes, one received outside them within 1 hour, an emergency
within 10 minutes, all counted on the wall clock from receipt. Working hours are 08:00 to
17:30 inclusive on working days of the project's calendar: statutory holidays are days off,
make-up working days (调休) are working days. Times are judged in the project's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.business_calendar import STATUTORY, WorkCalendar


@dataclass(frozen=True)
class ArrivalPolicy:
    """A project's arrival targets; the defaults are the seeds'."""

    working_day_start: time = time(8, 0)
    working_day_end: time = time(17, 30)
    within_hours: timedelta = timedelta(minutes=20)
    outside_hours: timedelta = timedelta(hours=1)
    emergency: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    rule: str


def within_working_hours(moment: datetime, policy: ArrivalPolicy,
                         calendar: WorkCalendar = STATUTORY) -> bool:
    """Whether a zone-aware local moment falls in working hours (both ends included)."""
    clock = moment.time().replace(tzinfo=None)
    return (
        calendar.is_working_day(moment.date())
        and policy.working_day_start <= clock <= policy.working_day_end
    )


def arrive_by(
    *, received_at: datetime, emergency: bool, time_zone: str,
    policy: ArrivalPolicy = ArrivalPolicy(),
) -> Deadline:
    """When a technician must be on site, and the rule that said so."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must carry a time zone")
    local = received_at.astimezone(ZoneInfo(time_zone))
    if emergency:
        return Deadline(local + policy.emergency, "emergency: arrive within "
                        f"{_minutes(policy.emergency)} minutes (001 §4.3.5)")
    if within_working_hours(local, policy):
        return Deadline(local + policy.within_hours, "within working hours: arrive within "
                        f"{_minutes(policy.within_hours)} minutes (003 §5.2)")
    return Deadline(local + policy.outside_hours, "outside working hours: arrive within "
                    f"{_minutes(policy.outside_hours)} minutes (003 §5.2)")


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
