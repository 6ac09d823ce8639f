"""The follow-up policy document: the seeds' defaults, validation, YAML as staff write it."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from services.common.followup_policy import (
    DEFAULT_POLICY,
    SOURCES,
    FollowupPolicy,
    VisitKind,
    Window,
)


def test_defaults_are_the_seeds():
    assert DEFAULT_POLICY.windows.of(VisitKind.complaint) == Window(closes_days=3)
    assert DEFAULT_POLICY.windows.repair == Window(opens_months=1, closes_months=2)
    assert [DEFAULT_POLICY.rates.of(k) for k in VisitKind] == [1.0, 0.8, 0.8, 0.0]
    assert DEFAULT_POLICY.rates.in_unit_repairs_all is False
    assert DEFAULT_POLICY.repeats.same_complaint == 2
    assert DEFAULT_POLICY.repeats.same_repair == 3
    assert DEFAULT_POLICY.repeats.corrective_days == 15
    assert DEFAULT_POLICY.retention.years == 2
    assert DEFAULT_POLICY.planned.half_yearly.months == (6, 12)
    assert DEFAULT_POLICY.planned.expiry_notice.lead_days == 30
    assert DEFAULT_POLICY.complaints.respond_hours == 24  # 004 紧急维修制度 §8.2


def test_every_source_names_a_setting():
    for path in SOURCES:
        node: object = DEFAULT_POLICY
        for name in path.split("."):
            node = getattr(node, name)


def test_a_project_writes_its_policy_in_yaml():
    # 004 §4.1.4.4: at least 60 % of repairs, every one in an owner's unit.
    policy = FollowupPolicy.model_validate(yaml.safe_load("""
        rates: {repair: 0.6, in_unit_repairs_all: true}
        planned:
          quarterly: {enabled: true}
          seasonal: {month: 5}
    """))
    assert policy.rates.repair == 0.6 and policy.rates.in_unit_repairs_all
    assert policy.planned.quarterly.enabled and policy.planned.seasonal.month == 5
    assert policy.windows == DEFAULT_POLICY.windows
    assert FollowupPolicy.model_validate_json(policy.model_dump_json()) == policy


@pytest.mark.parametrize(
    "document",
    [
        {"rates": {"repair": 1.2}},
        {"rates": {"complaint": -0.1}},
        {"windows": {"repair": {"opens_months": 2, "closes_months": 1}}},
        {"windows": {"other": {"opens_days": 8, "closes_days": 7}}},
        # 1 month may be 28 days: it cannot be trusted to cover 30 days.
        {"windows": {"other": {"opens_days": 30, "closes_months": 1}}},
        {"late": {"chain": ["manager", "manager"]}},
        {"late": {"remind_before_days": 0}},
        {"complaints": {"respond_hours": 0}},
        {"complaints": {"chain": ["company_leader", "company_leader"]}},
        {"planned": {"half_yearly": {"months": [12]}}},
        {"planned": {"quarterly": {"months": [3, 13]}}},
        {"planned": {"seasonal": {"month": 0}}},
        {"repeats": {"same_repair": 1}},
        {"unknown": 1},
    ],
)
def test_nonsense_is_refused(document: dict):
    with pytest.raises(ValidationError):
        FollowupPolicy.model_validate(document)


def test_a_window_may_open_and_close_the_same_day():
    assert Window(opens_days=3, closes_days=3).closes_days == 3
    assert Window(opens_days=28, closes_months=1).opens_days == 28
