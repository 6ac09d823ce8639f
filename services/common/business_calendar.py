"""China's statutory working-day calendar with a project's own exceptions (业务日历).

Statutory holidays and weekend rest days are days off; make-up working days (调休) are
working days; a project may add days off or working days. For a year the statutory
calendar does not publish yet, only weekends are days off (callers can tell: `knows`).
Shared because warranty periods, arrival deadlines and rosters all count on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import chinese_calendar

_KNOWN_YEARS = range(min(d.year for d in chinese_calendar.holidays),
                     max(d.year for d in chinese_calendar.holidays) + 1)


@dataclass(frozen=True)
class WorkCalendar:
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    def knows(self, day: date) -> bool:
        """Whether the statutory calendar of the day's year is published."""
        return day.year in _KNOWN_YEARS

    def is_day_off(self, day: date) -> bool:
        if day in self.extra_working_days:
            return False
        if day in self.extra_days_off:
            return True
        if self.knows(day):
            return not chinese_calendar.is_workday(day)
        return day.weekday() >= 5

    def is_working_day(self, day: date) -> bool:
        return not self.is_day_off(day)


STATUTORY = WorkCalendar()
