"""Counting a warranty period (保修期限的计算), as pure functions.

Civil Code Art. 201-204 unless a contract says otherwise: the start day is not counted; a
period of years or months ends on the corresponding day of the last month, or on that
month's last day when it has no such day; a last day that is a day off (a statutory holiday
or a weekend rest day; a make-up working day 调休 is a working day) moves to the next
working day; the last day runs to 24:00 in the project's zone. The other convention a
contract may choose counts the start day, so the period ends the day before the
corresponding day.

Heating and cooling periods count seasons: "N periods" are the N seasons whose legal start
is on or after the clock start (a season already running at the clock start counts only if
the project says so), and the warranty ends on the legal end date of the Nth one, as the
rules page defines it; that date is the statute's, so it is not moved off a rest day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.common.business_calendar import WorkCalendar

__all__ = ["WorkCalendar"]  # re-exported: callers count periods on a calendar


class Convention(StrEnum):
    """How a contract counts a period."""

    civil_code = "civil_code"  # start day not counted: ends on the corresponding day
    start_day_counted = "start_day_counted"  # ends the day before the corresponding day


class PeriodKind(StrEnum):
    years = "years"
    months = "months"
    heating_periods = "heating_periods"
    cooling_periods = "cooling_periods"
    service_life = "service_life"  # the design service life of the building, in years
    agreement = "agreement"  # no statutory length: whatever the contract says


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    count: int = 0

    def months(self) -> int | None:
        """Length in months where it has one (years and months)."""
        if self.kind is PeriodKind.years:
            return self.count * 12
        if self.kind is PeriodKind.months:
            return self.count
        return None

    def describe(self) -> tuple[str, str]:
        """English and Chinese names of the length."""
        n = self.count
        return {
            PeriodKind.years: (f"{n} year{'s' * (n != 1)}", f"{n}年"),
            PeriodKind.months: (f"{n} month{'s' * (n != 1)}", f"{n}个月"),
            PeriodKind.heating_periods: (f"{n} heating period{'s' * (n != 1)}", f"{n}个采暖期"),
            PeriodKind.cooling_periods: (f"{n} cooling period{'s' * (n != 1)}", f"{n}个供冷期"),
            PeriodKind.service_life: ("the design service life", "设计文件规定的合理使用年限"),
            PeriodKind.agreement: ("as agreed by contract", "由合同约定"),
        }[self.kind]


@dataclass(frozen=True)
class Season:
    """A legal heating or cooling season, as month-day bounds (the end may be next year)."""

    start: tuple[int, int]
    end: tuple[int, int]

    def bounds(self, year: int) -> tuple[date, date]:
        """The season that starts in `year`; a bound the year lacks (02-29, stored before
        input refused it) falls on the month's last day."""
        ends_year = year + 1 if self.end < self.start else year
        return _month_day(year, *self.start), _month_day(ends_year, *self.end)


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PeriodEnd:
    """The last day of a period (inclusive, to 24:00 in the project's zone), and how."""

    last_day: date
    moved_from: date | None = None  # the day off it was moved from
    calendar_unknown: bool = False  # the end's year is not in the statutory calendar yet


def add_months(start: date, months: int) -> tuple[date, bool]:
    """The corresponding day `months` later, clamped to the month's end; and whether the
    corresponding day existed."""
    years, month_index = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month_index + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last)), start.day <= last


def end_of_term(
    start: date, months: int, *, convention: Convention, work_calendar: WorkCalendar
) -> PeriodEnd:
    """The last day of a period of `months` months whose clock starts on `start`."""
    corresponding, existed = add_months(start, months)
    if convention is Convention.start_day_counted and existed:
        corresponding -= timedelta(days=1)
    last = corresponding
    while work_calendar.is_day_off(last):
        last += timedelta(days=1)
    return PeriodEnd(
        last_day=last,
        moved_from=corresponding if last != corresponding else None,
        calendar_unknown=not work_calendar.knows(last),
    )


def end_of_seasons(start: date, count: int, season: Season, *, count_in_progress: bool) -> date:
    """The legal end date of the `count`th season counted from `start`."""
    if count < 1:
        raise ValueError("a number of seasons must be at least 1")
    counted: list[date] = []
    year = start.year - 1
    while len(counted) < count:
        begins, ends = season.bounds(year)
        if begins >= start or (count_in_progress and begins < start <= ends):
            counted.append(ends)
        year += 1
    return counted[count - 1]
