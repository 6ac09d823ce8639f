"""Return-visit windows, reminders, lateness and the sampler that keeps the required rate."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.common.followup_policy import (
    DEFAULT_POLICY,
    ComplaintResponse,
    FollowupPolicy,
    FollowupRole,
    Rates,
    VisitKind,
    Window,
)
from services.followup.visits import (
    VisitWindow,
    add_months,
    complaint_deadlines,
    is_late,
    late_escalation,
    reminder_at,
    select_by_rate,
    should_visit,
    special_service_windows,
    visit_window,
    window_from,
)

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"  # keeps summer time: midnights are not 24 hours apart


def at(text: str, zone: str = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def window(kind: VisitKind, done: str, zone: str = SHANGHAI) -> VisitWindow:
    return visit_window(kind=kind, done_at=at(done, zone), policy=DEFAULT_POLICY, time_zone=zone)


# --- windows (回访时限)


@pytest.mark.parametrize(
    ("done", "opens", "closes"),
    [
        ("2026-01-31 15:00", "2026-02-28 00:00", "2026-04-01 00:00"),  # clamped to February
        ("2028-01-31 15:00", "2028-02-29 00:00", "2028-04-01 00:00"),  # a leap year
        ("2026-03-31 09:00", "2026-04-30 00:00", "2026-06-01 00:00"),  # 31 May is the last day
        ("2026-12-15 09:00", "2027-01-15 00:00", "2027-02-16 00:00"),  # over the year's end
        ("2026-06-30 23:59", "2026-07-30 00:00", "2026-08-31 00:00"),
    ],
)
def test_a_repair_is_visited_from_one_month_to_two_months_after(done, opens, closes):
    assert window(VisitKind.repair, done) == (at(opens), at(closes))


def test_a_complaint_is_visited_within_three_days_of_handling():
    w = window(VisitKind.complaint, "2026-11-23 15:00")  # a Monday
    assert w == (at("2026-11-23 15:00"), at("2026-11-27 00:00"))  # by the end of Thursday
    assert w.last_day == date(2026, 11, 26)


def test_the_day_is_the_project_zone_day_not_the_utc_day():
    # 20:00 UTC on 31 January is 04:00 on 1 February in Shanghai.
    done = datetime(2026, 1, 31, 20, 0, tzinfo=UTC)
    w = visit_window(kind=VisitKind.repair, done_at=done, policy=DEFAULT_POLICY,
                     time_zone=SHANGHAI)
    assert w.opens_at == at("2026-03-01 00:00")
    assert w.opens_at.utcoffset() == timedelta(hours=8)


def test_windows_end_at_local_midnight_across_summer_time():
    # New York springs forward on 8 March 2026: the window still ends at a local midnight.
    w = window(VisitKind.complaint, "2026-03-06 12:00", NEW_YORK)
    assert w.closes_at == at("2026-03-10 00:00", NEW_YORK)
    assert w.closes_at.utcoffset() == timedelta(hours=-4)


def test_naive_moments_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        visit_window(kind=VisitKind.repair, done_at=datetime(2026, 1, 1),
                     policy=DEFAULT_POLICY, time_zone=SHANGHAI)


def test_a_special_service_is_visited_mid_term_and_at_the_end():
    middle, end = special_service_windows(
        starts_at=at("2026-01-01 00:00"), ends_at=at("2026-07-01 00:00"),
        policy=DEFAULT_POLICY, time_zone=SHANGHAI,
    )
    assert middle == (at("2026-04-01 12:00"), at("2026-04-09 00:00"))
    assert end == (at("2026-07-01 00:00"), at("2026-07-09 00:00"))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 15), 0, date(2026, 5, 15)),
    ],
)
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


spans = st.tuples(*[st.integers(0, 4), st.integers(0, 62)] * 2)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31),
    timezones=st.sampled_from([ZoneInfo(SHANGHAI), ZoneInfo(NEW_YORK), UTC]),
)


@given(moments, spans, st.sampled_from([SHANGHAI, NEW_YORK]))
def test_a_window_the_policy_accepts_opens_after_the_work_and_before_it_closes(
    done, span, zone
):
    try:
        rule = Window(opens_months=span[0], opens_days=span[1],
                      closes_months=span[2], closes_days=span[3])
    except ValidationError:
        return
    w = window_from(done, rule, time_zone=zone)
    assert done <= w.opens_at < w.closes_at
    assert w.closes_at.astimezone(ZoneInfo(zone)).time().hour == 0


# --- reminders and lateness


def test_the_reminder_comes_at_the_start_of_the_last_day():
    w = window(VisitKind.repair, "2026-01-31 15:00")
    assert reminder_at(w, DEFAULT_POLICY) == at("2026-03-31 00:00")


def test_the_reminder_never_precedes_the_window():
    policy = FollowupPolicy.model_validate({"late": {"remind_before_days": 10}})
    w = window(VisitKind.complaint, "2026-11-23 15:00")
    assert reminder_at(w, policy) == w.opens_at


def test_a_visit_is_late_at_the_midnight_that_closes_its_window():
    w = window(VisitKind.complaint, "2026-11-23 15:00")
    assert not is_late(w, done_at=at("2026-11-26 23:59"), now=at("2026-12-01 00:00"))
    assert is_late(w, done_at=at("2026-11-27 00:00"), now=at("2026-12-01 00:00"))
    assert not is_late(w, done_at=None, now=at("2026-11-26 23:59"))
    assert is_late(w, done_at=None, now=at("2026-11-27 00:00"))


def test_a_late_visit_goes_to_the_supervisor_then_the_manager():
    w = window(VisitKind.complaint, "2026-11-23 15:00")
    steps = late_escalation(w, DEFAULT_POLICY, time_zone=SHANGHAI)
    assert [(s.role, s.at) for s in steps] == [
        (FollowupRole.center_supervisor, at("2026-11-27 00:00")),
        (FollowupRole.manager, at("2026-11-28 00:00")),
    ]



# --- complaint responses (投诉24小时内回应, 004 紧急维修制度 §8.2)


def test_a_complaint_is_answered_within_24_hours_else_it_goes_above_the_manager():
    opened = at("2026-07-08 10:12")
    deadlines = complaint_deadlines(opened, DEFAULT_POLICY)
    assert deadlines.respond_by == at("2026-07-09 10:12")  # round the clock, 24 hours
    assert deadlines.remind_at == at("2026-07-09 06:12")
    assert [(s.role, s.at) for s in deadlines.late_steps] == [
        (FollowupRole.property_director, at("2026-07-09 10:12")),
        (FollowupRole.company_leader, at("2026-07-10 10:12")),
    ]


def test_a_project_sets_its_own_response_time():
    policy = FollowupPolicy(complaints=ComplaintResponse(respond_hours=12,
                                                         remind_before_hours=0))
    deadlines = complaint_deadlines(at("2026-07-08 10:12"), policy)
    assert deadlines.respond_by == at("2026-07-08 22:12") and deadlines.remind_at is None
    kept = complaint_deadlines(at("2026-07-08 10:12"), policy,
                               respond_by=at("2026-07-09 10:12"))
    assert kept.respond_by == at("2026-07-09 10:12")


# --- sampling (回访率)


def run(rate: float, n: int) -> list[bool]:
    chosen: list[bool] = []
    for seen in range(n):
        chosen.append(select_by_rate(rate=rate, selected=sum(chosen), seen=seen))
    return chosen


def test_eighty_percent_is_met_exactly_every_five_jobs():
    assert run(0.8, 10) == [True, True, True, True, False] * 2


def test_rate_one_always_and_rate_zero_never():
    assert all(run(1.0, 50)) and not any(run(0.0, 50))


def test_float_rounding_does_not_choose_one_too_many():
    # 0.7 * 10 is 7.000000000000001 in floats: the tenth job is not needed.
    assert sum(run(0.7, 10)) == 7
    assert sum(run(0.6, 5)) == 3


def test_complaints_are_all_visited_by_default():
    assert all(
        should_visit(kind=VisitKind.complaint, selected=s, seen=9, policy=DEFAULT_POLICY)
        for s in range(10)
    )


def test_in_unit_repairs_are_all_visited_when_the_policy_says_so():
    policy = FollowupPolicy(rates=Rates(repair=0.6, in_unit_repairs_all=True))
    assert should_visit(kind=VisitKind.repair, selected=5, seen=5, policy=policy, in_unit=True)
    assert not should_visit(kind=VisitKind.repair, selected=5, seen=5, policy=policy)
    assert not should_visit(
        kind=VisitKind.repair, selected=5, seen=5, policy=DEFAULT_POLICY.model_copy(
            update={"rates": Rates(repair=0.6)}), in_unit=True,
    )


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        select_by_rate(rate=0.5, selected=3, seen=2)
    with pytest.raises(ValueError):
        select_by_rate(rate=1.5, selected=0, seen=0)


rates = st.floats(0, 1, allow_nan=False) | st.sampled_from([0.6, 0.7, 0.8, 0.9, 1 / 3])


@given(rates, st.integers(1, 300))
def test_the_share_never_falls_under_the_rate_nor_chooses_too_many(rate, n):
    exact = Fraction(str(rate))
    chosen = run(rate, n)
    selected = 0
    for seen, pick in enumerate(chosen, start=1):
        selected += pick
        assert Fraction(selected, seen) >= exact
        assert selected <= math.ceil(exact * seen)


@given(rates, st.lists(st.booleans(), min_size=1, max_size=200))
def test_forced_in_unit_visits_never_break_the_rate(rate, in_unit):
    policy = FollowupPolicy(rates=Rates(repair=rate, in_unit_repairs_all=True))
    selected = 0
    for seen, inside in enumerate(in_unit):
        pick = should_visit(kind=VisitKind.repair, selected=selected, seen=seen,
                            policy=policy, in_unit=inside)
        assert pick or not inside
        selected += pick
        assert Fraction(selected, seen + 1) >= Fraction(str(rate))
