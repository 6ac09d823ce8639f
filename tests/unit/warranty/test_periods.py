"""Counting periods: the Civil Code's rules, the other convention, and heating seasons."""

from __future__ import annotations

from datetime import date

import pytest

from services.warranty.periods import (
    Convention,
    Season,
    WorkCalendar,
    end_of_seasons,
    end_of_term,
)
from services.warranty.rules import default_heating_season

CIVIL, COUNTED = Convention.civil_code, Convention.start_day_counted
CALENDAR = WorkCalendar()


@pytest.mark.parametrize(
    ("start", "months", "convention", "last_day"),
    [
        (date(2022, 6, 30), 60, CIVIL, date(2027, 6, 30)),  # the rules page's example
        (date(2023, 8, 31), 6, CIVIL, date(2024, 2, 29)),  # no 31st: the month's last day
        (date(2023, 8, 31), 18, CIVIL, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, CIVIL, date(2025, 2, 28)),  # a leap day, a year on
        (date(2024, 2, 29), 48, CIVIL, date(2028, 2, 29)),
        (date(2024, 1, 31), 1, CIVIL, date(2024, 2, 29)),
        (date(2022, 6, 30), 60, COUNTED, date(2027, 6, 29)),  # ends the day before
        (date(2023, 3, 1), 1, COUNTED, date(2023, 3, 31)),
        (date(2023, 8, 31), 6, COUNTED, date(2024, 2, 29)),  # no corresponding day
        (date(2024, 2, 29), 12, COUNTED, date(2025, 2, 28)),
    ],
)
def test_terms_end_on_the_corresponding_day(start, months, convention, last_day):
    end = end_of_term(start, months, convention=convention, work_calendar=CALENDAR)
    assert end.last_day == last_day
    assert end.moved_from is None


@pytest.mark.parametrize(
    ("start", "months", "last_day", "moved_from"),
    [
        (date(2024, 9, 28), 24, date(2026, 9, 28), None),  # a Monday
        (date(2023, 10, 1), 24, date(2025, 10, 9), date(2025, 10, 1)),  # National Day week
        (date(2023, 9, 20), 36, date(2026, 9, 20), None),  # a make-up working Sunday (调休)
        (date(2024, 11, 22), 24, date(2026, 11, 23), date(2026, 11, 22)),  # a Sunday
        (date(2023, 2, 14), 36, date(2026, 2, 14), None),  # a make-up working Saturday
        (date(2024, 2, 28), 36, date(2027, 3, 1), date(2027, 2, 28)),  # 2027: weekends only
    ],
)
def test_an_end_on_a_day_off_moves_to_the_next_working_day(start, months, last_day,
                                                           moved_from):
    end = end_of_term(start, months, convention=CIVIL, work_calendar=CALENDAR)
    assert (end.last_day, end.moved_from) == (last_day, moved_from)
    assert end.calendar_unknown is (last_day.year > 2026)


def test_a_project_calendar_can_add_days_off_and_working_days():
    extra = WorkCalendar(extra_days_off=frozenset({date(2026, 6, 30)}),
                         extra_working_days=frozenset({date(2026, 11, 22)}))
    assert end_of_term(date(2021, 6, 30), 60, convention=CIVIL,
                       work_calendar=extra).last_day == date(2026, 7, 1)
    assert end_of_term(date(2024, 11, 22), 24, convention=CIVIL,
                       work_calendar=extra).last_day == date(2026, 11, 22)


BEIJING, HARBIN = default_heating_season("北京市"), default_heating_season("Harbin")


@pytest.mark.parametrize(
    ("season", "start", "count", "in_progress", "last_day"),
    [
        (BEIJING, date(2022, 6, 30), 2, False, date(2024, 3, 15)),
        (BEIJING, date(2022, 11, 15), 2, False, date(2024, 3, 15)),  # starts that day: counts
        (BEIJING, date(2022, 11, 16), 2, False, date(2025, 3, 15)),  # in progress: skipped
        (BEIJING, date(2022, 11, 16), 2, True, date(2024, 3, 15)),  # ...unless set to count
        (BEIJING, date(2023, 1, 10), 1, False, date(2024, 3, 15)),
        (BEIJING, date(2023, 1, 10), 1, True, date(2023, 3, 15)),
        (BEIJING, date(2023, 3, 16), 1, True, date(2024, 3, 15)),  # just after a season
        (HARBIN, date(2022, 6, 30), 2, False, date(2024, 4, 20)),  # a Saturday: not moved
        (HARBIN, date(2022, 10, 21), 1, False, date(2024, 4, 20)),
        (Season((5, 1), (9, 30)), date(2023, 6, 1), 2, False, date(2025, 9, 30)),  # cooling
        (Season((5, 1), (9, 30)), date(2023, 6, 1), 2, True, date(2024, 9, 30)),
    ],
)
def test_heating_and_cooling_periods_count_legal_seasons(season, start, count, in_progress,
                                                        last_day):
    assert end_of_seasons(start, count, season, count_in_progress=in_progress) == last_day


def test_a_season_ending_on_a_leap_day_ends_on_february_28_in_other_years():
    stored = Season((12, 1), (2, 29))  # input refuses 02-29 now; stored data may hold it
    assert end_of_seasons(date(2023, 6, 1), 1, stored, count_in_progress=False) == date(2024, 2, 29)
    assert end_of_seasons(date(2023, 6, 1), 2, stored, count_in_progress=False) == date(2025, 2, 28)


def test_cities_are_found_by_their_chinese_or_english_names():
    assert default_heating_season("北京") == default_heating_season("beijing") == BEIJING
    assert default_heating_season("乌鲁木齐市") == Season((10, 10), (4, 10))
    assert default_heating_season("沈阳") == Season((11, 1), (3, 31))
    assert default_heating_season("Shanghai") is None
