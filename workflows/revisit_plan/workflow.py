"""`RevisitPlanWorkflow`: plan a project's quality revisits of a year (年度工程质量回访计划).

Started by the project's schedule `revisit-plan-<project>` (see schedule.py) every
1 December, it plans the next year, so the plan is there a month before its first
revisit is due; planning is idempotent in the follow-up service, so a catch-up run or a
manual trigger adds only what is missing. Without a year in its input it plans the year
after `workflow.now()`'s (UTC: on 1 December in any zone that is still the same year).

Versioning: change it only behind `workflow.patched`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.revisit_plan.activities import RevisitPlanActivities
    from workflows.revisit_plan.messages import PlanYear, RevisitPlanInput, RevisitPlanOutcome


@workflow.defn
class RevisitPlanWorkflow:
    @workflow.run
    async def run(self, request: RevisitPlanInput) -> RevisitPlanOutcome:
        year = request.year or workflow.now().year + 1
        return await workflow.execute_activity_method(
            RevisitPlanActivities.plan_revisit_year,
            PlanYear(project=request.project, year=year),
            start_to_close_timeout=timedelta(seconds=60),
            # The services may be down for a while (a deploy): keep trying for a day.
            schedule_to_close_timeout=timedelta(days=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)))
