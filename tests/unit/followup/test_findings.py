"""A planned revisit's findings (发现问题15日内解决, 002 篇5): due 15 days after the
revisit's day in the project's zone, solved when the repair's work is completed, counted
by state."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.common.followup_policy import DEFAULT_POLICY, FollowupPolicy
from services.followup.revisit_rules import Finding, count_findings, finding

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 1 March, 23:30 in Shanghai (15:30 UTC): the revisit's day is 1 March, due 16 March.
FOUND = datetime(2027, 3, 1, 23, 30, tzinfo=SHANGHAI)
DUE = date(2027, 3, 16)


def state(solved_at: datetime | None, as_of: datetime, days: int = 15) -> Finding:
    return finding("r1", found_at=FOUND, solved_at=solved_at, days=days, as_of=as_of,
                   time_zone="Asia/Shanghai")


def last_moment_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)


def test_the_default_is_fifteen_days_from_the_seed():
    assert DEFAULT_POLICY.planned.findings_days == 15
    policy = FollowupPolicy.model_validate({"planned": {"findings_days": 10}})
    assert policy.planned.findings_days == 10


def test_due_fifteen_days_after_the_revisit_s_day_in_the_project_s_zone():
    assert state(None, FOUND).due_on == DUE
    assert state(None, FOUND, days=10).due_on == date(2027, 3, 11)


def test_still_open_until_the_due_day_has_passed():
    assert state(None, FOUND).state == "open"
    assert state(None, last_moment_of(DUE)).state == "open"
    overdue = state(None, last_moment_of(DUE) + timedelta(seconds=1))
    assert overdue.state == "overdue" and overdue.solved_at is None


def test_solved_on_or_before_the_due_day_is_on_time_after_it_late():
    on_time = state(last_moment_of(DUE), FOUND)
    assert (on_time.state, on_time.solved_at) == ("solved", last_moment_of(DUE))
    late = last_moment_of(DUE) + timedelta(seconds=1)
    assert state(late, late).state == "solved_late"
    # Completed, the finding stays solved however late it is counted.
    assert state(FOUND + timedelta(days=2), FOUND + timedelta(days=90)).state == "solved"


def test_the_quarter_counts_each_state_with_its_repairs():
    as_of = datetime(2027, 4, 1, tzinfo=SHANGHAI)
    findings = [
        finding(repair_id, found_at=FOUND, solved_at=solved_at, days=15, as_of=as_of,
                time_zone="Asia/Shanghai")
        for repair_id, solved_at in [("b", FOUND + timedelta(days=3)), ("a", FOUND),
                                     ("c", FOUND + timedelta(days=20)), ("d", None)]
    ] + [finding("e", found_at=as_of, solved_at=None, days=15, as_of=as_of,
                 time_zone="Asia/Shanghai")]
    row = count_findings(findings)
    assert (row.found, row.solved, row.solved_late, row.overdue, row.open) == (5, 2, 1, 1, 1)
    assert (row.solved_ids, row.solved_late_ids, row.overdue_ids, row.open_ids) == (
        ["a", "b"], ["c"], ["d"], ["e"])
    assert count_findings([]).found == 0
