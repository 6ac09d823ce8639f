"""The facts a revisit plan is made from, certificates' due days, retention's cutoff and
the plan as the command line prints it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.followup_contracts import Revisit, RevisitPlan
from services.common.registry_contracts import (
    BuildingExpiries,
    CategoryExpiry,
    UnitDelivery,
    WarrantyExpiries,
)
from services.followup.admin import plan_table
from services.followup.plan import BuildingFacts, ProjectFacts
from services.followup.revisit_rules import (
    certificate_due_on,
    project_facts,
    retention_cutoff,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def expiry(code: str, ends_on: date | None, kind: str = "years") -> CategoryExpiry:
    return CategoryExpiry(warranty_category=code, period_kind=kind, ends_on=ends_on)


def test_plan_facts_leave_out_undelivered_buildings_and_endless_categories():
    registry = WarrantyExpiries(project="P", time_zone="Asia/Shanghai", buildings=[
        BuildingExpiries(building="1", completion_on=date(2023, 6, 30),
                         delivered_on=date(2023, 12, 18),
                         units=[UnitDelivery(code="1-101", delivered_on=date(2023, 12, 18))],
                         categories=[expiry("roof_leakage", date(2028, 6, 30)),
                                     expiry("structure", date(2073, 6, 30), "service_life"),
                                     expiry("other", None, "agreement"),
                                     expiry("cooling_system", None, "cooling_periods")]),
        BuildingExpiries(building="2", completion_on=None, delivered_on=None, units=[],
                         categories=[]),
    ])
    assert project_facts(registry) == ProjectFacts("P", (BuildingFacts(
        "1", date(2023, 12, 18), (("roof_leakage", date(2028, 6, 30)),)),))


@pytest.mark.parametrize(("completed", "delivered", "due"), [
    # 竣工一个月内 (002 篇4 §3): from the building's completion, not the unit's delivery.
    (date(2023, 6, 30), date(2023, 12, 18), date(2023, 7, 30)),
    (date(2024, 1, 31), date(2024, 6, 1), date(2024, 2, 29)),  # the month's last day
    (date(2025, 1, 31), date(2025, 1, 31), date(2025, 2, 28)),
    (None, date(2024, 12, 1), date(2025, 1, 1)),  # completion not known: from delivery
])
def test_a_certificate_is_due_a_month_after_completion(completed, delivered, due):
    assert certificate_due_on(completed, delivered) == due


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
       st.integers(0, 2000))
def test_a_certificate_is_due_28_to_31_days_after_completion(completed, days):
    due = certificate_due_on(completed, completed + timedelta(days=days))
    assert 28 <= (due - completed).days <= 31


def test_the_retention_cutoff_is_whole_calendar_years_back():
    as_of = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
    assert retention_cutoff(as_of, 2) == datetime(2024, 11, 22, 9, 30, tzinfo=SHANGHAI)
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert retention_cutoff(leap, 1) == datetime(2027, 2, 28, tzinfo=UTC)
    with pytest.raises(ValueError, match="zone"):
        retention_cutoff(datetime(2026, 1, 1), 2)
    with pytest.raises(ValueError, match="year"):
        retention_cutoff(as_of, 0)


@given(st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2090, 1, 1),
                    timezones=st.just(UTC)), st.integers(1, 30))
def test_the_cutoff_is_between_365_and_366_days_a_year_back(as_of, years):
    gone = as_of - retention_cutoff(as_of, years)
    assert timedelta(days=365 * years) <= gone <= timedelta(days=366 * years)


def test_the_plan_prints_as_aligned_columns():
    revisit = Revisit(id=7, project="SH-LJ", year=2028, kind="expiry_notice",
                      due_on=date(2028, 5, 31), building="1", scope="roof_leakage: every owner",
                      method="letter", reason="…", status="planned")
    lines = plan_table(RevisitPlan(project="SH-LJ", year=2028, time_zone="Asia/Shanghai",
                                   added=1, revisits=[revisit], certificates_missing=0))
    assert lines[0].split() == ["id", "due", "on", "building", "kind", "method", "status",
                                "scope"]
    assert lines[1].split() == ["7", "2028-05-31", "1", "expiry_notice", "letter", "planned",
                                "roof_leakage:", "every", "owner"]
    assert lines[1][lines[0].index("building")] == "1"  # the building column
