"""Who goes, at the edges of the roster."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.dispatch.assignment import Candidate, Need, ProjectHours, choose

SH = ZoneInfo("Asia/Shanghai")
HOURS = ProjectHours()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


MA = Candidate("T-1", "马建国", "property_engineering", None, frozenset({"plumbing"}),
               frozenset({"SH-LJ"}))
HUANG = Candidate("T-2", "黄志强", "property_engineering", None,
                  frozenset({"plumbing", "electrical"}), frozenset({"SH-LJ"}), day_shift=False,
                  on_call=((at("2026-11-23 17:30"), at("2026-11-24 00:00")),
                           (at("2026-11-24 00:00"), at("2026-11-24 08:00"))))
WU = Candidate("T-3", "吴海涛", "property_engineering", None, frozenset({"plumbing"}),
               frozenset({"SH-LJ"}), open_orders=2)


def who(moment: str, *people: Candidate, **need) -> str | None:
    return choose(people, Need(project="SH-LJ", trade="plumbing", at=at(moment), **need),
                  HOURS).technician_id


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-23 07:59", None),  # Monday before hours, nobody on call yet
        ("2026-11-23 08:00", "T-1"),
        ("2026-11-23 17:30", "T-1"),  # the last minute of the day shift
        ("2026-11-23 17:31", "T-2"),  # on call from 17:30
        ("2026-11-23 23:59", "T-2"),
        ("2026-11-24 00:00", "T-2"),  # handover at midnight to the next interval
        ("2026-11-24 07:59", "T-2"),
        ("2026-11-24 08:00", "T-1"),  # the on-call interval ends where the shift begins
        ("2026-10-01 10:00", None),  # National Day: a day off
        ("2026-09-20 10:00", "T-1"),  # a make-up working Sunday (调休)
        ("2026-11-22 10:00", None),  # an ordinary Sunday
    ],
)
def test_the_roster_decides_who_is_there(moment: str, expected: str | None):
    assert who(moment, MA, HUANG) == expected


def test_fewest_open_orders_wins_then_the_least_recently_assigned_then_the_id():
    assert who("2026-11-23 10:00", WU, MA) == "T-1"
    twin = replace(MA, technician_id="T-0", name="李")
    assert who("2026-11-23 10:00", MA, twin) == "T-0"  # a tie: the id decides
    assert who("2026-11-23 10:00", replace(twin, last_assigned_at=at("2026-11-23 09:00")),
               replace(MA, last_assigned_at=at("2026-11-23 08:30"))) == "T-1"


def test_the_rule_says_why():
    choice = choose([MA, WU], Need("SH-LJ", "plumbing", at("2026-11-23 10:00")), HOURS)
    assert choice.name == "马建国"
    assert "on shift" in choice.rule and "fewest open orders (0)" in choice.rule


def test_a_busy_technician_takes_an_emergency_but_not_a_routine_repair():
    busy = replace(MA, open_orders=3)
    assert who("2026-11-23 10:00", busy) is None
    assert who("2026-11-23 10:00", busy, emergency=True) == "T-1"
    routine = choose([busy], Need("SH-LJ", "plumbing", at("2026-11-23 10:00")), HOURS)
    assert "limit of open orders" in routine.rule


def test_nobody_available_says_from_when():
    choice = choose([MA, HUANG], Need("SH-LJ", "plumbing", at("2026-11-22 10:00")), HOURS)
    assert choice.technician_id is None
    assert choice.available_from == at("2026-11-23 08:00")  # Monday's shift
    holiday = choose([MA], Need("SH-LJ", "plumbing", at("2026-10-01 09:00")), HOURS)
    assert holiday.available_from == at("2026-10-08 08:00")  # after the National Day week (1-7)


def test_leave_tried_trade_project_and_team_exclude():
    on_leave = replace(MA, leave=((date(2026, 11, 23), date(2026, 11, 24)),))
    assert who("2026-11-23 10:00", on_leave) is None
    assert choose([on_leave], Need("SH-LJ", "plumbing", at("2026-11-23 10:00")),
                  HOURS).available_from == at("2026-11-25 08:00")
    assert who("2026-11-23 10:00", MA, WU, tried=frozenset({"T-1"})) == "T-3"
    assert choose([MA], Need("SH-LJ", "hvac", at("2026-11-23 10:00")), HOURS).rule.startswith(
        "nobody in our teams serves SH-LJ")
    assert choose([MA], Need("BJ-YH", "plumbing", at("2026-11-23 10:00")),
                  HOURS).technician_id is None


def test_a_delegated_repair_goes_to_the_liable_partys_team():
    waterproofer = Candidate("C-1", "防水队长", "contractor", "东方雨虹防水工程公司",
                             frozenset({"waterproofing"}), frozenset({"SH-LJ"}))
    own = replace(MA, trades=frozenset({"waterproofing"}))
    need = Need("SH-LJ", "waterproofing", at("2026-11-23 10:00"),
                delegate_to="东方雨虹防水工程公司")
    choice = choose([own, waterproofer], need, HOURS)
    assert choice.technician_id == "C-1" and choice.rule.startswith("delegated to 东方雨虹")
    assert choose([own, waterproofer], replace(need, delegate_to=None),
                  HOURS).technician_id == "T-1"  # our own repairs stay with our team


def test_times_are_judged_in_the_project_zone():
    utc = datetime(2026, 11, 23, 0, 30, tzinfo=ZoneInfo("UTC"))  # 08:30 in Shanghai
    assert choose([MA], Need("SH-LJ", "plumbing", utc), HOURS).technician_id == "T-1"
    with pytest.raises(ValueError):
        choose([MA], Need("SH-LJ", "plumbing", datetime(2026, 11, 23, 9)), HOURS)
