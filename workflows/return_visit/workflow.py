"""`ReturnVisitWorkflow`: a return visit's deadlines, id `return-visit-<visit id>`.

Started by the follow-up service for every visit it chose. At the reminder time the
specialist is reminded (客服专员); when the window closes with the visit not made it is
late, and the late-visit chain is told one role per step (center supervisor, then the
manager). At each deadline the follow-up service, which holds the record, says whether the
visit is still open: a visit recorded in the meantime ends the workflow. Durable timers, so
a worker restart loses no deadline.

The same workflow keeps a complaint's response deadline (`target` "complaint", id
`complaint-response-<complaint id>`): its handler is reminded, at `respond_by` it is late
and the complaint chain hears of it; handling the complaint ends it. Only the activity's
argument carries the target: the commands are the same, so histories replay unchanged.

Versioning: change it only behind `workflow.patched`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.return_visit.activities import ReturnVisitActivities
    from workflows.return_visit.messages import ReturnVisitInput, ReturnVisitOutcome, VisitStep

_QUICK = {"start_to_close_timeout": timedelta(seconds=30),
          "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}


@workflow.defn
class ReturnVisitWorkflow:
    @workflow.run
    async def run(self, visit: ReturnVisitInput) -> ReturnVisitOutcome:
        outcome = ReturnVisitOutcome(visit.visit_id, "done")
        if visit.remind_at < visit.closes_at:
            if not await self._at(visit.remind_at, visit, "remind"):
                return outcome
            outcome.reminded = True
        if not await self._at(visit.closes_at, visit, "late"):
            return outcome
        for level, step in enumerate(visit.late_steps, start=1):
            if not await self._at(step.at, visit, "escalate", step.role, level):
                return outcome
            outcome.escalated_to.append(step.role)
        outcome.outcome = "late"
        return outcome

    async def _at(self, moment: datetime, visit: ReturnVisitInput, step: str,
                  role: str | None = None, level: int = 0) -> bool:
        """Wait until `moment`, then have the step recorded; False once the visit is made."""
        wait = moment - workflow.now()
        if wait > timedelta(0):
            await workflow.sleep(wait)
        return await workflow.execute_activity_method(
            ReturnVisitActivities.check_visit,
            VisitStep(visit_id=visit.visit_id, step=step, at=workflow.now(), role=role,
                      level=level, target=visit.target), **_QUICK)
