"""The annual quality-revisit plan (年度工程质量回访计划)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.followup_policy import DEFAULT_POLICY, FollowupPolicy, RevisitMethod
from services.followup.plan import (
    BuildingFacts,
    PlannedRevisit,
    ProjectFacts,
    RevisitKind,
    annual_plan,
)

ROOF, WALL, WIRING = "roof_leakage", "exterior_wall_leakage", "electrical_wiring"
QUARTERLY = FollowupPolicy.model_validate({"planned": {"quarterly": {"enabled": True}}})


def building(name: str = "B1", delivered: date = date(2024, 6, 1), **ends: date):
    return BuildingFacts(name, delivered, tuple(ends.items()))


def plan(*buildings: BuildingFacts, policy=DEFAULT_POLICY, year: int = 2026):
    return annual_plan(facts=ProjectFacts("P1", buildings), policy=policy, year=year)


def kinds(items: list[PlannedRevisit]) -> list[tuple[RevisitKind, date]]:
    return [(p.kind, p.due_on) for p in items]


def test_a_building_in_warranty_by_default():
    b = building(roof_leakage=date(2029, 5, 31), electrical_wiring=date(2026, 5, 31))
    assert kinds(plan(b)) == [
        (RevisitKind.seasonal, date(2026, 4, 30)),
        (RevisitKind.expiry_notice, date(2026, 5, 1)),  # 30 days before 31 May
        (RevisitKind.half_yearly, date(2026, 6, 30)),
        (RevisitKind.half_yearly, date(2026, 12, 31)),
    ]
    notice = plan(b)[1]
    assert notice.method == RevisitMethod.letter and WIRING in notice.scope


def test_quarterly_during_the_warranty_takes_the_half_yearly_days():
    b = building(roof_leakage=date(2026, 8, 15))
    items = plan(b, policy=QUARTERLY)
    assert kinds(items) == [
        (RevisitKind.quarterly, date(2026, 3, 31)),
        (RevisitKind.seasonal, date(2026, 4, 30)),
        (RevisitKind.quarterly, date(2026, 6, 30)),  # instead of the half-yearly one
        (RevisitKind.expiry_notice, date(2026, 7, 16)),
        (RevisitKind.half_yearly, date(2026, 12, 31)),  # out of warranty: half-yearly again
    ]
    assert "after the warranty" in items[-1].reason


def test_after_the_warranty_half_yearly_only_if_the_policy_keeps_it():
    b = building(roof_leakage=date(2020, 1, 1))
    assert kinds(plan(b)) == [(RevisitKind.half_yearly, date(2026, 6, 30)),
                              (RevisitKind.half_yearly, date(2026, 12, 31))]
    policy = FollowupPolicy.model_validate(
        {"planned": {"half_yearly": {"after_warranty": False}}})
    assert plan(b, policy=policy) == []


def test_nothing_before_delivery():
    b = building(delivered=date(2026, 7, 1), wet_room_leakage=date(2027, 7, 1))
    assert kinds(plan(b)) == [(RevisitKind.half_yearly, date(2026, 12, 31))]


def test_no_seasonal_revisit_without_a_roof_or_wall_in_warranty():
    b = building(roof_leakage=date(2026, 4, 29), electrical_wiring=date(2027, 1, 1))
    assert RevisitKind.seasonal not in {p.kind for p in plan(b)}
    assert RevisitKind.seasonal in {p.kind for p in plan(building(exterior_wall_leakage=date(
        2026, 4, 30)))}


def test_the_seasonal_month_is_the_project_s():
    policy = FollowupPolicy.model_validate({"planned": {"seasonal": {"month": 2}}})
    b = building(roof_leakage=date(2030, 1, 1))
    assert (RevisitKind.seasonal, date(2028, 2, 29)) in kinds(plan(b, policy=policy, year=2028))


def test_an_expiry_notice_early_next_year_is_planned_this_year():
    b = building(electrical_wiring=date(2027, 1, 20))
    assert (RevisitKind.expiry_notice, date(2026, 12, 21)) in kinds(plan(b))
    assert RevisitKind.expiry_notice not in {p.kind for p in plan(b, year=2027)}


def test_a_building_is_listed_once():
    with pytest.raises(ValueError, match="once"):
        plan(building("B1"), building("B1"))


def test_buildings_interleave_by_date_then_name():
    items = plan(building("B2", roof_leakage=date(2030, 1, 1)),
                 building("B1", roof_leakage=date(2030, 1, 1)))
    assert [(p.due_on.month, p.building) for p in items] == [
        (4, "B1"), (4, "B2"), (6, "B1"), (6, "B2"), (12, "B1"), (12, "B2")]


days = st.dates(min_value=date(2015, 1, 1), max_value=date(2040, 12, 31))
categories = st.sampled_from([ROOF, WALL, WIRING, "heating_system", "wet_room_leakage"])
buildings = st.builds(
    BuildingFacts,
    st.sampled_from(["B1", "B2", "B3"]),
    days,
    st.lists(st.tuples(categories, days), max_size=6).map(tuple),
)
policies = st.sampled_from([DEFAULT_POLICY, QUARTERLY])


@given(st.lists(buildings, max_size=3, unique_by=lambda b: b.building), policies,
       st.integers(2018, 2038))
def test_a_plan_is_in_its_year_sorted_and_independent_of_input_order(bs, policy, year):
    items = plan(*bs, policy=policy, year=year)
    assert all(p.due_on.year == year for p in items)
    keys = [(p.due_on, p.building) for p in items]
    assert keys == sorted(keys)
    assert plan(*reversed(bs), policy=policy, year=year) == items
    for p in items:
        facts = [b for b in bs if b.building == p.building]
        assert any(b.delivered_on <= p.due_on for b in facts)
        if p.kind == RevisitKind.expiry_notice:
            assert any(ends - p.due_on <= timedelta(days=30) for b in facts
                       for _, ends in b.warranties)
