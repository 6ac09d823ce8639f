"""The revisit plan's one activity: asking the follow-up service to plan a project's year
(`followup.revisits.plan`, idempotent there: a retry adds nothing)."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.bus import Bus
from services.common.errors import Rejection
from services.common.followup_contracts import FOLLOWUP_SUBJECTS, PlanRevisits, RevisitPlan
from workflows.revisit_plan.messages import PlanYear, RevisitPlanOutcome


class RevisitPlanActivities:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    @activity.defn
    async def plan_revisit_year(self, request: PlanYear) -> RevisitPlanOutcome:
        """Plan the year; a refusal (an unknown project) is final, not retried."""
        try:
            plan = await self.bus.ask(FOLLOWUP_SUBJECTS["plan_revisits"], PlanRevisits(
                project=request.project, year=request.year), RevisitPlan, timeout=20)
        except Rejection as refusal:
            raise ApplicationError(str(refusal), refusal.code, type="Rejection",
                                   non_retryable=True) from None
        return RevisitPlanOutcome(project=plan.project, year=plan.year,
                                  revisits=len(plan.revisits), added=plan.added,
                                  certificates_missing=plan.certificates_missing)
