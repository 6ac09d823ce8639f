"""The service-level policy document and the deadlines it gives, at every edge of the
working day and of the 2025-2026 statutory calendars (holidays and make-up days 调休)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.common.business_calendar import STATUTORY, WorkCalendar
from services.common.service_levels import (
    DEFAULT_POLICY,
    EscalationRole,
    ServiceLevelPolicy,
    Target,
    WorkingHours,
    source_of,
)
from workflows.deadlines import (
    add_working_days,
    escalation_steps,
    next_working_moment,
    service_deadlines,
    target_due,
    within_working_hours,
)

SHANGHAI = "Asia/Shanghai"


def at(text: str, zone: str = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def deadlines(
    priority: str,
    received: str,
    *,
    policy=DEFAULT_POLICY,
    calendar=STATUTORY,
    zone: str = SHANGHAI,
    **moments: str,
):
    return service_deadlines(
        policy=policy,
        calendar=calendar,
        priority=priority,
        received_at=at(received, zone),
        time_zone=zone,
        **{name: at(value, zone) for name, value in moments.items()},
    )


# --- arrival (到场时限): 20 minutes within working hours, 1 hour outside, 10 for emergencies


@pytest.mark.parametrize(
    ("priority", "received", "due"),
    [
        ("routine", "2026-11-23 07:59", "2026-11-23 08:59"),  # Monday, before hours: 1 hour
        ("routine", "2026-11-23 08:00", "2026-11-23 08:20"),  # first minute of working hours
        ("routine", "2026-11-23 17:29", "2026-11-23 17:49"),  # the target runs past 17:30
        ("routine", "2026-11-23 17:30", "2026-11-23 17:50"),  # 17:30 itself is within hours
        ("routine", "2026-11-23 17:31", "2026-11-23 18:31"),
        ("routine", "2026-09-30 17:29", "2026-09-30 17:49"),  # eve of National Day: working
        ("routine", "2026-10-01 10:00", "2026-10-01 11:00"),  # National Day
        ("routine", "2026-09-20 10:00", "2026-09-20 10:20"),  # make-up working Sunday
        ("routine", "2026-02-14 09:00", "2026-02-14 09:20"),  # make-up working Saturday
        ("routine", "2025-10-11 09:00", "2025-10-11 09:20"),  # make-up working Saturday
        ("routine", "2026-02-17 09:00", "2026-02-17 10:00"),  # Spring Festival, a Tuesday
        ("urgent", "2025-01-26 12:00", "2025-01-26 12:20"),  # make-up Sunday before 春节
        ("emergency", "2026-10-01 03:00", "2026-10-01 03:10"),  # 03:00 on a holiday
        ("emergency", "2026-11-23 10:00", "2026-11-23 10:10"),
    ],
)
def test_arrive_by_follows_working_hours_and_the_calendar(priority, received, due):
    arrive = deadlines(priority, received).arrive_by
    assert arrive.due_at == at(due)
    assert not arrive.provisional


def test_the_arrival_rule_says_why():
    within = deadlines("routine", "2026-11-23 17:29").arrive_by.rule
    outside = deadlines("routine", "2026-11-23 17:31").arrive_by.rule
    emergency = deadlines("emergency", "2026-10-01 03:00").arrive_by.rule
    assert within.startswith("routine: receipt within working hours (08:00-17:30")
    assert "20 minutes" in within and "003 §5.2" in within
    assert "outside working hours" in outside and "1 hour" in outside
    assert "10 minutes" in emergency and "001 §4.3.5" in emergency


def test_a_report_just_before_hours_gets_a_later_deadline_than_one_at_eight():
    # The seeds' rule read literally (003 §5.2); docs/service-levels.md says so.
    assert (
        deadlines("routine", "2026-11-23 07:59").arrive_by.due_at
        > deadlines("routine", "2026-11-23 08:00").arrive_by.due_at
    )


def test_an_agreed_visit_replaces_the_arrival_target_and_starts_the_finish_clock():
    result = deadlines("routine", "2026-11-23 10:00", agreed_visit_at="2026-11-25 14:00")
    assert result.respond_by is None  # a routine repair's response is its arrival
    assert result.arrive_by.due_at == at("2026-11-25 14:00")
    assert "agreed with the owner" in result.arrive_by.rule
    assert result.finish_by.due_at == at("2026-11-30 17:30")  # Thu, Fri, Mon after the visit


def test_an_agreed_visit_before_receipt_is_refused():
    with pytest.raises(ValueError, match="agreed_visit_at"):
        deadlines("routine", "2026-11-23 10:00", agreed_visit_at="2026-11-23 09:00")


def test_an_emergency_at_night_on_a_holiday_keeps_every_wall_clock_target():
    result = deadlines("emergency", "2026-10-01 03:00")
    assert result.respond_by.due_at == at("2026-10-01 03:15")
    assert result.arrive_by.due_at == at("2026-10-01 03:10")
    assert result.assess_by.due_at == at("2026-10-01 03:40")  # 30 minutes after arrive_by
    assert result.finish_by.due_at == at("2026-10-01 05:00")
    assert "004 紧急维修制度 §5.1" in result.finish_by.rule


def test_assess_counts_from_the_actual_arrival():
    result = deadlines("emergency", "2026-10-01 03:00", arrived_at="2026-10-01 03:07")
    assert result.assess_by.due_at == at("2026-10-01 03:37")
    assert "of arrival" in result.assess_by.rule


def test_a_planned_repair_has_only_a_finish_target():
    result = deadlines("planned", "2026-11-23 10:00")
    assert (result.respond_by, result.arrive_by, result.assess_by) == (None, None, None)
    assert result.finish_by.due_at == at("2026-12-07 17:30")  # 10 working days


# --- day targets (工作日): the day of receipt never counts; due at 17:30 of day N


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-11-23 07:59", "2026-11-26 17:30"),  # Monday before hours: Monday not counted
        ("2026-11-23 10:00", "2026-11-26 17:30"),
        ("2026-11-23 17:29", "2026-11-26 17:30"),
        ("2026-11-23 17:31", "2026-11-26 17:30"),
        ("2026-11-21 10:00", "2026-11-25 17:30"),  # Saturday: Monday is day 1
        ("2026-09-20 10:00", "2026-09-23 17:30"),  # make-up Sunday is still the receipt day
        ("2026-09-30 17:29", "2026-10-10 17:30"),  # eve of National Day: Oct 8, 9, make-up Sat
        ("2025-09-30 12:00", "2025-10-11 17:30"),  # 2025: Oct 9, 10, make-up Sat 11
        ("2026-02-13 10:00", "2026-02-25 17:30"),  # Spring Festival: Sat 14, then Feb 24, 25
        ("2025-01-26 10:00", "2025-02-06 17:30"),  # make-up Sunday, then Jan 27, Feb 5, 6
    ],
)
def test_finish_by_counts_working_days_of_the_project_calendar(received, due):
    finish = deadlines("routine", received).finish_by
    assert finish.due_at == at(due)
    assert not finish.provisional


def test_the_day_rule_names_the_days():
    rule = deadlines("routine", "2026-09-30 17:29").finish_by.rule
    assert "the day of receipt (Wed 2026-09-30) is not counted" in rule
    assert "the 3rd working day after it on the project's calendar is Sat 2026-10-10" in rule
    assert "(17:30)" in rule and "our default" in rule


def test_a_project_calendar_exception_moves_both_kinds_of_target():
    calendar = WorkCalendar(
        extra_days_off=frozenset({date(2026, 11, 24)}),
        extra_working_days=frozenset({date(2026, 11, 29)}),
    )
    finish = deadlines("routine", "2026-11-23 10:00", calendar=calendar).finish_by
    assert finish.due_at == at("2026-11-27 17:30")  # the 24th is the project's day off
    arrive = deadlines("routine", "2026-11-24 10:00", calendar=calendar).arrive_by
    assert arrive.due_at == at("2026-11-24 11:00")
    sunday = deadlines("urgent", "2026-11-28 10:00", calendar=calendar).finish_by
    assert sunday.due_at == at("2026-11-29 17:30")  # the project's working Sunday


def test_a_year_the_statutory_calendar_does_not_publish_is_provisional():
    finish = deadlines("urgent", "2026-12-31 10:00").finish_by
    assert finish.due_at == at("2027-01-01 17:30")  # a weekday when holidays are unknown
    assert finish.provisional
    assert "statutory calendar for 2027 is not published" in finish.rule
    arrive = deadlines("routine", "2031-06-02 10:00").arrive_by
    assert arrive.due_at == at("2031-06-02 10:20") and arrive.provisional
    assert not deadlines("routine", "2026-12-30 10:00").arrive_by.provisional


# --- zones


def test_hours_are_judged_in_the_project_zone():
    received = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 08:30 Shanghai, 06:30 Urumqi
    for zone, minutes in ((SHANGHAI, 20), ("Asia/Urumqi", 60)):
        arrive = service_deadlines(
            policy=DEFAULT_POLICY,
            calendar=STATUTORY,
            priority="routine",
            received_at=received,
            time_zone=zone,
        ).arrive_by
        assert arrive.due_at - received == timedelta(minutes=minutes)
        assert arrive.due_at.tzinfo == ZoneInfo(zone)


def test_a_day_target_falls_due_at_the_end_of_hours_in_the_project_zone():
    finish = deadlines("routine", "2026-11-23 10:00", zone="Asia/Urumqi").finish_by
    assert finish.due_at == datetime(2026, 11, 26, 11, 30, tzinfo=UTC)


def test_a_wall_clock_target_is_elapsed_time_where_clocks_change():
    # New York springs forward at 02:00 on 2026-03-08: ten minutes from 01:55 is 03:05 EDT.
    zone = "America/New_York"
    received = at("2026-03-08 01:55", zone)
    arrive = deadlines("emergency", "2026-03-08 01:55", zone=zone).arrive_by
    assert arrive.due_at.astimezone(UTC) - received.astimezone(UTC) == timedelta(minutes=10)
    assert arrive.due_at.replace(tzinfo=None) == datetime(2026, 3, 8, 3, 5)


@pytest.mark.parametrize("name", ["received_at", "arrived_at", "agreed_visit_at"])
def test_a_moment_without_a_zone_is_refused(name):
    moments = {"received_at": at("2026-11-23 10:00"), name: datetime(2026, 11, 23, 10, 5)}
    with pytest.raises(ValueError, match=f"{name} must carry a time zone"):
        service_deadlines(
            policy=DEFAULT_POLICY,
            calendar=STATUTORY,
            priority="routine",
            time_zone=SHANGHAI,
            **moments,
        )


# --- helpers


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-23 07:59", "2026-11-23 08:00"),
        ("2026-11-23 12:00", "2026-11-23 12:00"),
        ("2026-11-23 17:30", "2026-11-23 17:30"),
        ("2026-09-30 17:31", "2026-10-08 08:00"),  # over National Day
        ("2026-09-20 06:00", "2026-09-20 08:00"),  # a make-up Sunday
    ],
)
def test_next_working_moment(moment, expected):
    assert next_working_moment(at(moment), time_zone=SHANGHAI) == at(expected)


def test_within_working_hours_takes_any_zone():
    assert within_working_hours(datetime(2026, 11, 23, 9, 30, tzinfo=UTC), time_zone=SHANGHAI)
    assert not within_working_hours(datetime(2026, 11, 23, 9, 31, tzinfo=UTC), time_zone=SHANGHAI)


def test_add_working_days_edges():
    assert add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 9, 30), -1)
    closed = WorkCalendar(
        extra_days_off=frozenset(date(2027, 1, 1) + timedelta(days=n) for n in range(400))
    )
    with pytest.raises(ValueError, match="no working day"):
        add_working_days(date(2026, 12, 31), 1, calendar=closed)


def test_target_due_for_lifecycle_settings():
    notice = at("2026-11-23 10:00")
    attend = target_due(
        target=DEFAULT_POLICY.delegation.attend,
        start=notice,
        time_zone=SHANGHAI,
        what="attend",
        since="the notice",
        source=source_of(DEFAULT_POLICY, "delegation.attend"),
    )
    assert attend.due_at == at("2026-11-24 10:00") and "002 篇5" in attend.rule
    at_once = target_due(
        target=DEFAULT_POLICY.delegation.attend_emergency,
        start=notice,
        time_zone=SHANGHAI,
        what="attend",
        since="the notice",
    )
    assert at_once.due_at == notice and "immediately" in at_once.rule


def test_escalation_steps_emergencies_step_faster():
    overdue = at("2026-10-01 03:10")
    steps = escalation_steps(
        policy=DEFAULT_POLICY, overdue_at=overdue, emergency=True, time_zone=SHANGHAI
    )
    assert [(s.role, s.at) for s in steps] == [
        (EscalationRole.duty_leader, at("2026-10-01 03:10")),
        (EscalationRole.engineering_manager, at("2026-10-01 03:25")),
        (EscalationRole.property_director, at("2026-10-01 03:40")),
    ]
    routine = escalation_steps(
        policy=DEFAULT_POLICY, overdue_at=overdue, emergency=False, time_zone=SHANGHAI
    )
    assert routine[-1].at == at("2026-10-01 05:10")


# --- the policy document


def test_the_defaults_are_the_seeds():
    policy = ServiceLevelPolicy()
    assert policy.working_hours == WorkingHours(start=time(8), end=time(17, 30))
    assert policy.targets.routine.arrive == Target(minutes=20, outside_hours_minutes=60)
    assert policy.targets.emergency.arrive == Target(minutes=10)
    assert policy.dispatching.offer_minutes == 5
    assert policy.rework.limit == 2
    assert policy.fee_waiver.director_limit_yuan == 500
    assert policy.delegation.attend == Target(hours=24)
    assert policy.delegation.attend_emergency == Target(immediately=True)
    assert list(policy.escalation.chain) == [
        "duty_leader",
        "engineering_manager",
        "property_director",
    ]


def test_a_project_overrides_only_what_it_names_and_null_means_no_target():
    policy = ServiceLevelPolicy.model_validate(
        {"targets": {"routine": {"finish": {"working_days": 5}, "respond": None}}}
    )
    assert policy.targets.routine.finish == Target(working_days=5)
    assert policy.targets.routine.respond is None
    assert policy.targets.routine.arrive == DEFAULT_POLICY.targets.routine.arrive
    assert policy.targets.emergency == DEFAULT_POLICY.targets.emergency
    result = deadlines("routine", "2026-11-23 10:00", policy=policy)
    assert result.respond_by is None
    assert result.finish_by.rule.endswith("(the project's policy)")
    assert "003 §5.2" in result.arrive_by.rule  # untouched settings keep their seed


def test_the_document_survives_json_and_yaml():
    policy = ServiceLevelPolicy.model_validate(
        {"targets": {"routine": {"respond": None}}, "working_hours": {"end": "18:00"}}
    )
    wire = policy.model_dump_json()
    assert ServiceLevelPolicy.model_validate_json(wire) == policy
    assert json.loads(wire)["targets"]["routine"]["arrive"] == {
        "minutes": 20,
        "outside_hours_minutes": 60,
    }
    text = """
working_hours: {start: "08:30", end: "17:30"}
targets:
  routine:
    finish: {working_days: 5}
escalation:
  chain: [duty_leader, engineering_manager]
  interval_minutes: 30
"""
    from_yaml = ServiceLevelPolicy.model_validate(yaml.safe_load(text))
    assert from_yaml.working_hours.start == time(8, 30)
    assert from_yaml.escalation.emergency_interval_minutes == 15


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"working_hours": {"start": "17:30", "end": "08:00"}}, "end after they start"),
        ({"working_hours": {"end": 1050}}, "quoted"),  # YAML's reading of unquoted 17:30
        ({"working_hours": {"end": "17:30:30"}}, "whole minutes"),
        ({"targets": {"routine": {"finish": {"working_days": 0}}}}, "greater than or equal"),
        ({"targets": {"routine": {"finish": {"minutes": 5, "hours": 1}}}}, "exactly one"),
        ({"targets": {"routine": {"finish": {}}}}, "exactly one"),
        ({"targets": {"routine": {"finish": {"immediately": False}}}}, "immediately"),
        (
            {"targets": {"routine": {"finish": {"working_days": 1, "outside_hours_minutes": 5}}}},
            "minutes or hours only",
        ),
        ({"targets": {"urgnet": {}}}, "Extra inputs"),
        ({"escalation": {"chain": ["duty_leader", "duty_leader"]}}, "once"),
        ({"escalation": {"chain": []}}, "at least 1"),
        ({"escalation": {"emergency_interval_minutes": 90}}, "more slowly"),
        ({"rework": {"limit": -1}}, "greater than or equal"),
        ({"fee_waiver": {"director_limit_yuan": 0}}, "greater than or equal"),
    ],
)
def test_a_bad_policy_is_refused_with_a_reason(document, message):
    with pytest.raises(ValidationError, match=message):
        ServiceLevelPolicy.model_validate(document)


def test_an_unknown_priority_is_refused():
    with pytest.raises(ValueError, match="unknown priority"):
        deadlines("whenever", "2026-11-23 10:00")


# --- properties

moments = st.datetimes(
    min_value=datetime(2004, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
days_near = st.frozensets(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)), max_size=20
)


@given(received=moments, count=st.integers(1, 30), off=days_near, on=days_near)
def test_a_day_target_ends_a_working_day_after_receipt(received, count, off, on):
    calendar = WorkCalendar(extra_days_off=off, extra_working_days=on)
    due = target_due(
        target=Target(working_days=count), start=received, time_zone=SHANGHAI, calendar=calendar
    ).due_at
    assert due > received
    assert due.time() == time(17, 30)
    assert calendar.is_working_day(due.date())
    assert due.date() > received.astimezone(ZoneInfo(SHANGHAI)).date()


@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2035, 12, 31)),
    first=st.integers(0, 40),
    second=st.integers(0, 40),
)
def test_adding_working_days_composes(start, first, second):
    in_two_steps = add_working_days(add_working_days(start, first), second)
    assert in_two_steps == add_working_days(start, first + second)


@given(
    earlier=moments,
    later_by=st.timedeltas(timedelta(0), timedelta(days=20)),
    priority=st.sampled_from(["urgent", "routine", "planned"]),
)
def test_a_later_report_is_never_due_earlier_on_a_day_target(earlier, later_by, priority):
    first = service_deadlines(
        policy=DEFAULT_POLICY,
        calendar=STATUTORY,
        priority=priority,
        received_at=earlier,
        time_zone=SHANGHAI,
    ).finish_by
    second = service_deadlines(
        policy=DEFAULT_POLICY,
        calendar=STATUTORY,
        priority=priority,
        received_at=earlier + later_by,
        time_zone=SHANGHAI,
    ).finish_by
    assert second.due_at >= first.due_at


@given(received=moments, priority=st.sampled_from(["emergency", "urgent", "routine"]))
def test_wall_clock_targets_are_never_before_receipt(received, priority):
    result = service_deadlines(
        policy=DEFAULT_POLICY,
        calendar=STATUTORY,
        priority=priority,
        received_at=received,
        time_zone=SHANGHAI,
    )
    for deadline in (result.respond_by, result.arrive_by, result.assess_by):
        assert deadline is None or deadline.due_at > received
    assert timedelta(minutes=10) <= result.arrive_by.due_at - received <= timedelta(hours=1)
