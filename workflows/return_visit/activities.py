"""The return visit's one activity: asking the follow-up service, at a deadline, whether
the visit is still not made, and having it record the step (idempotent there)."""

from __future__ import annotations

from temporalio import activity

from services.common.bus import Bus
from services.common.followup_contracts import FOLLOWUP_SUBJECTS, CheckVisit, VisitCheck
from workflows.return_visit.messages import VisitStep


class ReturnVisitActivities:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    @activity.defn
    async def check_visit(self, step: VisitStep) -> bool:
        """`followup.visits.check`: remind, mark late or escalate a visit (or a complaint)
        still open; True while it is open."""
        answer = await self.bus.ask(FOLLOWUP_SUBJECTS["check"], CheckVisit(
            visit_id=step.visit_id, target=step.target, step=step.step, role=step.role,
            level=step.level, at=step.at), VisitCheck)
        return answer.open
