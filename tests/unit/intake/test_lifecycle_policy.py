"""What a repair's workflow takes of its project's service levels."""

from __future__ import annotations

from dataclasses import asdict

from services.common.service_levels import DEFAULT_POLICY, ServiceLevelPolicy
from services.intake.service import lifecycle_policy
from workflows.repair.messages import LifecyclePolicy


def test_the_default_policy_is_the_workflows_default():
    assert lifecycle_policy(DEFAULT_POLICY) == LifecyclePolicy()
    # An emergency is also assessed on site within 30 minutes of arrival (004 §4.3).
    assert lifecycle_policy(DEFAULT_POLICY, priority="emergency") == LifecyclePolicy(
        assess_seconds=1800)


def test_a_projects_settings_become_seconds():
    policy = ServiceLevelPolicy.model_validate({
        "dispatching": {"offer_minutes": 7},
        "rework": {"limit": 0},
        "escalation": {"chain": ["engineering_manager", "company_leader"],
                       "interval_minutes": 30, "emergency_interval_minutes": 5},
        "targets": {"routine": {"arrive": {"minutes": 30, "outside_hours_minutes": 90}},
                    "emergency": {"arrive": {"minutes": 15}}},
        "quote_dispute": {"negotiate": {"minutes": 45}},
        "fee_waiver": {"director_limit_yuan": 1000, "approve": {"working_days": 2}},
    })
    assert asdict(lifecycle_policy(policy)) == asdict(LifecyclePolicy()) | {
        "offer_seconds": 420, "rework_limit": 0,
        "escalation_chain": ["engineering_manager", "company_leader"],
        "escalation_seconds": 1800, "emergency_escalation_seconds": 300,
        "arrive_seconds_within_hours": 1800, "arrive_seconds_outside_hours": 5400,
        "arrive_seconds_emergency": 900, "negotiate_seconds": 2700,
        "waiver_approve_seconds": 2 * 86400, "director_limit_fen": 100_000,
    }


def test_arrival_spans_follow_the_repairs_priority_and_fall_back_without_a_span():
    policy = ServiceLevelPolicy.model_validate({"targets": {
        "urgent": {"arrive": {"hours": 2}},
        "routine": {"arrive": {"working_days": 1}},
        "emergency": {"arrive": {"immediately": True}},
    }})
    urgent = lifecycle_policy(policy, priority="urgent")
    assert (urgent.arrive_seconds_within_hours, urgent.arrive_seconds_outside_hours) == (
        7200, 7200)
    assert urgent.arrive_seconds_emergency == 0
    # A working-day arrival target has no span: the workflow's defaults stand.
    routine = lifecycle_policy(policy, priority="routine")
    assert (routine.arrive_seconds_within_hours, routine.arrive_seconds_outside_hours) == (
        LifecyclePolicy().arrive_seconds_within_hours,
        LifecyclePolicy().arrive_seconds_outside_hours)
