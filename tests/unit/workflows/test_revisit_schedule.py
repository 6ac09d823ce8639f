"""The project's yearly revisit-plan schedule, as built before it reaches Temporal."""

from __future__ import annotations

from temporalio.client import ScheduleActionStartWorkflow, ScheduleOverlapPolicy

from workflows.revisit_plan.messages import RevisitPlanInput, schedule_id
from workflows.revisit_plan.schedule import revisit_schedule


def test_each_project_plans_its_next_year_on_1_december_in_its_zone():
    schedule = revisit_schedule(project="BJ-YH", time_zone="Asia/Shanghai", task_queue="q")
    assert schedule_id("BJ-YH") == "revisit-plan-BJ-YH"
    (calendar,) = schedule.spec.calendars
    assert [(r.start, r.end) for r in calendar.month] == [(12, 12)]
    assert [(r.start, r.end) for r in calendar.day_of_month] == [(1, 1)]
    assert [(r.start, r.end) for r in calendar.hour] == [(6, 6)]
    assert schedule.spec.time_zone_name == "Asia/Shanghai"
    assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    action = schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "RevisitPlanWorkflow" and action.task_queue == "q"
    assert action.id == "revisit-plan-BJ-YH"
    assert action.args == [RevisitPlanInput(project="BJ-YH")]  # year: the next one
