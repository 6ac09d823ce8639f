"""The arrival deadline at the edges of working hours and of the statutory calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.business_calendar import WorkCalendar
from services.common.service_levels import ServiceLevelPolicy
from workflows.deadlines import arrive_by

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def minutes_allowed(received: datetime, *, emergency: bool = False) -> int:
    deadline = arrive_by(received_at=received, emergency=emergency, time_zone="Asia/Shanghai")
    return int((deadline.due_at - received).total_seconds() // 60)


@pytest.mark.parametrize(
    ("received", "minutes"),
    [
        ("2026-11-23 07:59", 60),  # Monday, before the day starts
        ("2026-11-23 08:00", 20),  # the first minute of working hours
        ("2026-11-23 12:00", 20),
        ("2026-11-23 17:29", 20),
        ("2026-11-23 17:30", 20),  # the last minute still counts as working hours
        ("2026-11-23 17:31", 60),
        ("2026-11-23 23:59", 60),
        ("2026-11-22 10:00", 60),  # Sunday
        ("2026-10-01 10:00", 60),  # National Day, a Thursday
        ("2026-09-30 17:29", 20),  # the eve of the holiday is an ordinary working day
        ("2026-09-20 10:00", 20),  # a make-up working Sunday (调休)
        ("2026-02-14 09:00", 20),  # a make-up working Saturday before the Spring Festival
        ("2026-02-17 09:00", 60),  # Spring Festival holiday, a Tuesday
    ],
)
def test_arrival_window_follows_working_hours_and_the_calendar(received: str, minutes: int):
    assert minutes_allowed(at(received)) == minutes


def test_an_emergency_is_ten_minutes_at_any_hour():
    for received in ("2026-11-23 12:00", "2026-11-22 03:00", "2026-10-01 10:00"):
        assert minutes_allowed(at(received), emergency=True) == 10


def test_hours_are_judged_in_the_project_zone_not_in_utc():
    # 01:00 UTC is 09:00 in Shanghai on a Monday: working hours there.
    received = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    deadline = arrive_by(received_at=received, emergency=False, time_zone="Asia/Shanghai")
    assert deadline.due_at - received == timedelta(minutes=20)
    assert deadline.due_at.utcoffset() == timedelta(hours=8)
    assert "working hours" in deadline.rule


def test_a_year_the_calendar_does_not_know_falls_back_to_weekdays():
    assert minutes_allowed(at("2031-06-02 10:00")) == 20  # a Monday
    assert minutes_allowed(at("2031-06-01 10:00")) == 60  # a Sunday
    deadline = arrive_by(received_at=at("2031-06-02 10:00"), emergency=False,
                         time_zone="Asia/Shanghai")
    assert deadline.provisional and "2031 is not published" in deadline.rule


def test_the_project_calendar_and_policy_are_honoured():
    typhoon_day = WorkCalendar(extra_days_off=frozenset({date(2026, 11, 23)}))
    received = at("2026-11-23 10:00")
    deadline = arrive_by(received_at=received, emergency=False, time_zone="Asia/Shanghai",
                         calendar=typhoon_day)
    assert deadline.due_at - received == timedelta(hours=1)
    quick = ServiceLevelPolicy.model_validate(
        {"targets": {"emergency": {"arrive": {"minutes": 5}}}})
    deadline = arrive_by(received_at=received, emergency=True, time_zone="Asia/Shanghai",
                         policy=quick)
    assert deadline.due_at - received == timedelta(minutes=5)
    assert "the project's policy" in deadline.rule


def test_a_time_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        arrive_by(received_at=datetime(2026, 11, 23, 9), emergency=False, time_zone="Asia/Shanghai")


@given(
    received=st.datetimes(
        min_value=datetime(2004, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
    emergency=st.booleans(),
)
def test_a_deadline_is_always_after_receipt_and_within_the_longest_window(received, emergency):
    deadline = arrive_by(received_at=received, emergency=emergency, time_zone="Asia/Shanghai")
    allowed = deadline.due_at - received
    assert timedelta(minutes=10) <= allowed <= timedelta(hours=1)
    if emergency:
        assert allowed == timedelta(minutes=10)
