"""Activities of the repair workflow: each touches the world once and is safe to run twice
(dispatch answers a repeated `assign` with the same offer; events carry message ids)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.bus import Bus
from services.common.business_calendar import WorkCalendar
from services.common.contracts import (
    REPAIR_ESCALATED,
    REPAIR_OVERDUE,
    REPAIR_PROGRESSED,
    WARRANTY_DETERMINE,
    RepairEscalated,
    RepairOverdue,
    RepairProgressed,
)
from services.common.dispatch_contracts import (
    DISPATCH_SUBJECTS,
    Assignment,
    AssignRepair,
    CloseRepair,
    NextCandidate,
    Offer,
    RepairClosed,
    RespondToOffer,
    Trade,
)
from services.common.errors import Rejection
from services.common.registry_contracts import Cause, DetermineWarranty, WarrantyDecision
from services.common.service_levels import WorkingHours
from workflows.deadlines import within_working_hours
from workflows.repair.messages import (
    OfferAnswer,
    OfferRequest,
    OfferResult,
    OverdueNotice,
    Progress,
    VisitDue,
    WarrantyRequest,
)


def _final(refusal: Rejection | ValueError) -> ApplicationError:
    """A refusal, or a request that cannot be made (a repair without a trade), is not
    retried: the workflow decides what to do with it."""
    if isinstance(refusal, Rejection):
        return ApplicationError(str(refusal), refusal.code, type="Rejection",
                                non_retryable=True)
    return ApplicationError(str(refusal), type="InvalidRequest", non_retryable=True)


class RepairActivities:
    """Holds the clients the activities need (given once, at worker start)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    @activity.defn
    async def visit_due(self, request: VisitDue) -> datetime:
        """A new visit's arrival deadline on the project's working hours and calendar
        (a local activity: the calendar's holidays must not be read in workflow code)."""
        policy = request.policy
        if request.emergency:
            return request.start + timedelta(seconds=policy.arrive_seconds_emergency)
        calendar = WorkCalendar(
            frozenset(date.fromisoformat(d) for d in policy.extra_days_off),
            frozenset(date.fromisoformat(d) for d in policy.extra_working_days))
        start, end = (time.fromisoformat(t) for t in policy.working_hours)
        within = within_working_hours(request.start, time_zone=request.time_zone,
                                      hours=WorkingHours(start=start, end=end),
                                      calendar=calendar)
        return request.start + timedelta(seconds=policy.arrive_seconds_within_hours if within
                                         else policy.arrive_seconds_outside_hours)

    @activity.defn
    async def announce_overdue(self, notice: OverdueNotice) -> None:
        """Publish `repairs.overdue.v1`; the message id makes a retry a no-op."""
        await self.bus.publish_event(
            REPAIR_OVERDUE,
            RepairOverdue(
                repair_id=notice.repair_id, deadline=notice.deadline,
                due_at=notice.due_at, noticed_at=notice.noticed_at,
            ),
            # The due time too: a rework's new arrival deadline is another breach.
            msg_id=f"{notice.repair_id}:overdue:{notice.deadline}:{notice.due_at.isoformat()}",
        )

    @activity.defn
    async def determine_warranty(self, request: WarrantyRequest) -> dict:
        """`warranty.determine`: the decision as JSON (kept whole in the workflow's state)."""
        try:
            decision = await self.bus.ask(WARRANTY_DETERMINE, DetermineWarranty(
                project=request.project, building=request.building, unit=request.unit,
                common_area=request.common_area, category=request.category,
                reported_on=request.reported_at.astimezone(ZoneInfo(request.time_zone)).date(),
                cause=Cause(request.cause)), WarrantyDecision)
        except (Rejection, ValueError) as refusal:
            raise _final(refusal) from None
        return decision.model_dump(mode="json")

    @activity.defn
    async def offer(self, request: OfferRequest) -> OfferResult:
        """`dispatch.assign` (or `dispatch.next` after a decline or an unanswered offer)."""
        try:
            if request.next:
                answer = await self.bus.ask(DISPATCH_SUBJECTS["next"], NextCandidate(
                    repair_id=request.repair_id, at=request.at, timed_out=request.timed_out),
                    Assignment)
            else:
                answer = await self.bus.ask(DISPATCH_SUBJECTS["assign"], AssignRepair(
                    repair_id=request.repair_id, project=request.project,
                    trade=Trade(request.trade), at=request.at, emergency=request.emergency,
                    arrive_by=request.arrive_by), Assignment)
        except (Rejection, ValueError) as refusal:
            raise _final(refusal) from None
        return OfferResult(offer_id=answer.offer_id, technician_id=answer.technician_id,
                           name=answer.name, rule=answer.rule,
                           available_from=answer.available_from)

    @activity.defn
    async def answer_offer(self, answer: OfferAnswer) -> None:
        """Record the technician's answer with dispatch; an answer it already has is fine."""
        try:
            await self.bus.ask(DISPATCH_SUBJECTS["respond"], RespondToOffer(
                offer_id=answer.offer_id, technician_id=answer.technician_id,
                accept=answer.accept, reason=answer.reason), Offer)
        except Rejection as refusal:
            if refusal.code != "offer_closed":  # a retry after it was recorded
                raise _final(refusal) from None

    @activity.defn
    async def release_offers(self, ended: Progress) -> None:
        """`dispatch.repairs.close`: the ended repair leaves its technician's open orders."""
        await self.bus.ask(DISPATCH_SUBJECTS["close_repair"], CloseRepair(
            repair_id=ended.repair_id, at=ended.at, outcome=ended.status), RepairClosed)

    @activity.defn
    async def publish_progress(self, progress: Progress) -> None:
        """`repairs.status_changed.v1`, and `repairs.escalated.v1` for an escalation step;
        the message id (repair, sequence) makes a retry a no-op."""
        event = RepairProgressed(
            repair_id=progress.repair_id, project=progress.project,
            sequence=progress.sequence, status=progress.status, kind=progress.kind,
            at=progress.at, by=progress.by, detail=progress.detail,
            technician_id=progress.technician_id, overdue=progress.overdue,
            reworks=progress.reworks, warranty_outcome=progress.warranty_outcome,
            arrive_by=progress.arrive_by, finish_by=progress.finish_by,
            warranty=progress.warranty, quote_total_fen=progress.quote_total_fen,
            quote_state=progress.quote_state, waived_fen=progress.waived_fen)
        if progress.overdue_notice is not None:
            await self.announce_overdue(progress.overdue_notice)
        if progress.escalation_role is not None:
            await self.bus.publish_event(REPAIR_ESCALATED, RepairEscalated(
                **event.model_dump(), role=progress.escalation_role),
                msg_id=f"{progress.repair_id}:{progress.sequence}:escalated")
        await self.bus.publish_event(REPAIR_PROGRESSED, event,
                                     msg_id=f"{progress.repair_id}:{progress.sequence}")
