"""`RepairWorkflow`: one durable workflow per repair, id `repair-<id>`.

reported → warranty decided → offered (no answer within the offer time → the next
technician) → accepted → arrived (deadline) → diagnosed → completed → the owner's
acceptance: accepted closes it; rejected sends it back to work (返工), counted, and past the
project's rework limit the technical department is called in. Deadlines are durable timers;
a missed one escalates up the project's chain, one step per interval, faster for
emergencies. People act through updates whose validators refuse, with the reason, what the
repair's state does not allow. Every step is a timeline entry and a `repairs.*` event,
published in order by one loop.

Versioning: this is the lifecycle's first shape; change it only behind `workflow.patched`
(histories of each path are replayed in tests/replay).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

from workflows.timers import wait_until

# Passed through: the messages' datetime hints must be the real class, not the sandbox's.
with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.delegation.messages import DelegationInput, DelegationNews, DelegationResult
    from workflows.delegation.messages import workflow_id as delegation_id
    from workflows.delegation.workflow import DelegationWorkflow
    from workflows.repair.activities import RepairActivities
    from workflows.repair.messages import (
        Accept,
        Arrival,
        Cancel,
        Completion,
        Decline,
        Diagnosis,
        Escalated,
        OfferAnswer,
        OfferRequest,
        OfferResult,
        OverdueNotice,
        OwnerAcceptance,
        Pause,
        PausedSpan,
        Progress,
        Quote,
        QuoteDecision,
        RaisePriority,
        RepairInput,
        RepairState,
        Reschedule,
        Resume,
        Status,
        Step,
        VisitDue,
        WaiverDecision,
        WaiverRequest,
        WarrantyRequest,
        warranty_outcome,
    )

CANCEL_REASONS = ("duplicate", "owner_withdrew", "not_our_scope")
CAUSES = ("construction_defect", "design_defect", "owner_misuse", "owner_renovation",
          "third_party", "force_majeure", "wear", "unknown")
TECHNICAL_DEPARTMENT = "technical_department"
QUOTE_DECISIONS = ("accept", "refuse", "dispute")
# Who may approve a fee waiver (减免审批), lowest first: the amount decides the first allowed.
APPROVERS = ("property_director", "company_leader")
# Patches (workflow.patched): histories recorded before them replay the old behaviour.
HAND_OVER = "hand-over-to-the-liable-party"
NOT_OUR_REPAIRS_FAULT = frozenset({"owner_misuse", "owner_renovation", "third_party",
                                   "force_majeure"})
ANOTHER_TECHNICIAN = "rework-by-another-technician"
OVERDUE_IN_ORDER = "overdue-event-with-its-step"
REWORK_ARRIVAL_AFRESH = "rework-arrival-escalates-afresh"
VISIT_ON_THE_CALENDAR = "new-visit-on-the-working-hours"
_QUICK = {"start_to_close_timeout": timedelta(seconds=30),
          "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1))}


@workflow.defn
class RepairWorkflow:
    def __init__(self) -> None:
        self._repair: RepairInput | None = None
        self._status = Status.REPORTED
        self._arrive_by: datetime | None = None
        self._finish_by: datetime | None = None
        self._overdue: set[str] = set()
        self._warranty: dict | None = None
        self._outcome: str | None = None
        self._offer: OfferResult | None = None
        self._technician_id: str | None = None
        self._answer: Accept | Decline | None = None
        self._answers = 0  # answers to offers processed, for the updates to wait on
        self._deciding = False  # a warranty decision is being made again (after diagnosis)
        self._levels: dict[str, int] = {}  # the escalation level each deadline reached
        self._noticed: set[str] = set()  # deadlines whose breach this visit has recorded
        self._assessed = False  # diagnosed since the latest arrival
        self._assessing = False  # an assess_by watcher is running
        self._arrival: Arrival | None = None
        self._diagnosis: Diagnosis | None = None
        self._completion: Completion | None = None
        self._acceptance: OwnerAcceptance | None = None
        self._cancel: Cancel | None = None
        self._quote: Quote | None = None
        self._quote_state: str | None = None
        self._negotiate_by: datetime | None = None
        self._waiver: WaiverRequest | None = None
        self._waiver_approver: str | None = None
        self._approve_by: datetime | None = None
        self._reworks = 0
        self._hand_over = False  # the liable party is to repair next (转责任方)
        self._own_work = False  # a delegation ended unrepaired: the property's team does it
        self._rounds = 0  # delegations started
        self._delegation_id: str | None = None
        self._liable_party_name: str | None = None
        self._escalations: list[Escalated] = []
        self._pauses: list[PausedSpan] = []
        self._timeline: list[Step] = []
        self._outbox: list[Progress] = []
        self._last: Progress | None = None  # the newest step's event
        self._sequence = 0

    # --- the lifecycle --------------------------------------------------------------------

    @workflow.run
    async def run(self, repair: RepairInput) -> RepairState:
        self._repair = repair
        self._arrive_by = repair.arrive_by
        self._finish_by = repair.finish_by
        publisher = asyncio.create_task(self._publish_in_order())
        self._step("reported", None, f"{repair.ticket} {repair.category}, "
                   f"arrive by {repair.arrive_by.isoformat()}")
        self._watch("finish_by", lambda: self._finish_by,
                    lambda: self._completion is not None or self._finished())
        if repair.respond_by is not None:  # reported before responses were watched: none
            self._watch("respond_by", lambda: repair.respond_by, lambda: (
                self._technician_id is not None or self._delegation_id is not None
                or self._finished()))
        await self._decide_warranty()
        while not self._finished():
            if self._hand_over:
                if not await self._delegate():
                    continue  # the property's own team takes it on: dispatch it
            else:
                self._watch("arrive_by", lambda: self._arrive_by,
                            lambda: self._arrival is not None or self._finished())
                if repair.policy.assess_seconds is not None:
                    self._watch_assessment()
                await self._dispatch()
            await workflow.wait_condition(
                lambda: self._acceptance is not None or self._finished() or self._hand_over)
            if self._finished():
                break
            if self._acceptance is None:
                continue  # the diagnosis found the liable party: hand it over
            assert self._acceptance is not None
            if self._acceptance.accepted:
                self._set_status(Status.CLOSED)
                self._step("closed", self._acceptance.signed_by, "the owner accepted the work")
                break
            await self._rework(self._acceptance)
        await workflow.wait_condition(lambda: not self._outbox)
        publisher.cancel()
        # Always: a cancel may land while an offer is being made, before the workflow has
        # seen it; closing a repair without offers changes nothing.
        await workflow.execute_activity_method(
            RepairActivities.release_offers, self._last, **_QUICK)
        return self.state()

    def _finished(self) -> bool:
        return self._status in Status.ENDED

    async def _decide_warranty(self) -> None:
        repair = self._repair
        assert repair is not None
        cause = self._diagnosis.cause if self._diagnosis else "unknown"
        try:
            self._warranty = await workflow.execute_activity_method(
                RepairActivities.determine_warranty, WarrantyRequest(
                    repair_id=repair.repair_id, project=repair.project,
                    building=repair.building, unit=repair.unit,
                    common_area=repair.common_area, category=repair.category,
                    reported_at=repair.reported_at, time_zone=repair.time_zone, cause=cause),
                **_QUICK)
        except ActivityError as error:
            # The repair goes on: a technician is sent whoever pays, and staff decide later.
            self._step("warranty_undetermined", None, str(error.cause or error))
            self._outcome = "undetermined"
            workflow.upsert_search_attributes([sa.WARRANTY_OUTCOME.value_set("undetermined")])
            return
        outcome = self._outcome = warranty_outcome(self._warranty) or "undetermined"
        guarantee = repair.guarantee
        if outcome == "chargeable" and self._guaranteed():
            assert guarantee is not None
            outcome = self._outcome = "free"
        workflow.upsert_search_attributes([sa.WARRANTY_OUTCOME.value_set(outcome)])
        self._step("warranty_decided", None, f"{outcome}: "
                   f"{self._warranty.get('explanation_en', '')}"[:1000], warranty=self._warranty)
        if outcome == "free" and self._chargeable(ignoring_guarantee=True):
            assert guarantee is not None
            self._step("repair_guarantee", None,
                       f"free re-repair (维修质保): {guarantee.ticket} was accepted on "
                       f"{guarantee.accepted_at:%Y-%m-%d} and is guaranteed through "
                       f"{guarantee.ends_at - timedelta(microseconds=1):%Y-%m-%d}")
        if self._diagnosis is None and self._warranty.get("liability_confirmed"):
            self._consider_hand_over()  # the liable party is known from the report alone

    def _consider_hand_over(self) -> bool:
        """Hand the repair to its liable party (转开发商/厂家处理) if the decision names one:
        at the report when liability is certain, else when the technician finds on site
        that he cannot fix it (001 §4.5.4: what can be fixed on site is fixed there)."""
        if self._outcome != "delegated" or self._own_work or not workflow.patched(HAND_OVER):
            return False
        self._hand_over = True
        return True

    async def _delegate(self) -> bool:
        """Hand the repair to its liable party and follow its `DelegationWorkflow` (the
        attend deadline, reminders and escalation are the child's). True when the liable
        party repaired it (the owner's acceptance follows); False when the property's own
        team takes it on: another party at the liable party's cost, or withdrawn."""
        repair, decision = self._repair, self._warranty
        assert repair is not None and decision is not None
        self._hand_over = False
        party = decision["liable_party"]
        name = decision.get("liable_party_name") or party
        round_, self._rounds = self._rounds, self._rounds + 1
        policy = repair.policy
        attend = (policy.delegate_attend_seconds_emergency if repair.emergency
                  else policy.delegate_attend_seconds)
        self._offer = None
        self._set_status(Status.DELEGATED)  # our technicians' actions are refused from now
        if self._technician_id is not None:  # ours leaves it to the liable party
            self._technician_id = None
            await workflow.execute_activity_method(
                RepairActivities.release_offers, self._last, **_QUICK)
        child = await workflow.start_child_workflow(
            DelegationWorkflow.run, DelegationInput(
                repair_id=repair.repair_id, project=repair.project, liable_party=party,
                liable_party_name=name, emergency=repair.emergency, attend_seconds=attend,
                escalation_chain=list(policy.escalation_chain),
                escalation_seconds=(policy.emergency_escalation_seconds if repair.emergency
                                    else policy.escalation_seconds),
                summary=f"{repair.ticket} {repair.building} "
                        f"{repair.unit or repair.common_area} {repair.category}",
                round=round_),
            id=delegation_id(repair.repair_id, round_),
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL)
        # Named once started, so that whoever reads it can act on the child at once.
        self._delegation_id, self._liable_party_name = child.id, name
        # The liable party's attend deadline stands for the arrival (the child watches it).
        self._arrive_by = workflow.now() + timedelta(seconds=attend)
        workflow.upsert_search_attributes([sa.ASSIGNEE.value_set(name[:100])])
        self._step("delegated", None, f"handed to the {party} {name}"
                   + (f", round {round_ + 1}" if round_ else "") + ", to attend by "
                   f"{self._arrive_by.isoformat()} ({child.id})")
        await workflow.wait_condition(lambda: child.done() or self._finished())
        if not child.done():
            child.cancel()  # the repair was cancelled: the child records its withdrawal
        result: DelegationResult = await child
        if self._finished():
            return False
        late = " (late)" if result.late else ""
        if result.outcome == "repaired":
            self._completion = Completion(technician_id=name, work_done=result.work_done or "",
                                          at=result.repaired_at)
            self._set_status(Status.COMPLETED)
            self._step("completed", result.repaired_by, f"{name}{late}: {result.work_done}")
            return True
        self._own_work = True
        self._arrival = self._completion = None
        self._arrive_by = await self._visit_due()
        if result.back_charge is not None:
            charge = result.back_charge
            self._step("back_charged", charge.assigned_by, f"{charge.other_party} repairs at "
                       f"the cost of {name}: {charge.reason}; dispatched again")
        else:
            self._step("delegation_withdrawn", None, f"{name} will not repair it: the "
                       "property's own team does, dispatched again")
        return False

    def _watch_assessment(self) -> None:
        """One watcher at a time (a raise to emergency may start one before the loop)."""
        if self._assessing:
            return
        self._assessing = True

        async def watch() -> None:
            try:
                await self._watch_deadline("assess_by", self._assess_by, lambda: (
                    self._assessed or self._completion is not None or self._finished()))
            finally:
                self._assessing = False

        asyncio.create_task(watch())

    def _assess_by(self) -> datetime | None:
        """Assess on site (故障评估) within the policy's span of arrival, once arrived."""
        assert self._repair is not None
        seconds = self._repair.policy.assess_seconds
        if self._arrival is None or seconds is None:
            return None
        return self._arrival.arrived_at + timedelta(seconds=seconds)

    async def _visit_due(self) -> datetime:
        """A new visit's arrival deadline (a rework, a repair taken back from the liable
        party): the emergency span, else the span within or outside working hours on the
        project's calendar (before VISIT_ON_THE_CALENDAR: always the outside-hours one)."""
        repair = self._repair
        assert repair is not None
        if not workflow.patched(VISIT_ON_THE_CALENDAR):
            return workflow.now() + timedelta(seconds=(
                repair.policy.arrive_seconds_emergency if repair.emergency
                else repair.policy.arrive_seconds_outside_hours))
        return await workflow.execute_local_activity_method(
            RepairActivities.visit_due,
            VisitDue(workflow.now(), repair.time_zone, repair.emergency, repair.policy),
            start_to_close_timeout=timedelta(seconds=10))

    async def _dispatch(self) -> None:
        """Offer the repair until someone accepts it (or it is cancelled)."""
        repair = self._repair
        assert repair is not None
        if self._technician_id is not None:  # a rework: the same technician goes back
            self._set_status(Status.ACCEPTED)
            return
        follow_up, timed_out = False, False
        while not self._finished():
            # No offer is open while the next is being made: an answer now would be to the
            # previous technician's offer.
            self._answer, self._offer = None, None
            try:
                offer = await workflow.execute_activity_method(
                    RepairActivities.offer, OfferRequest(
                        repair_id=repair.repair_id, project=repair.project, trade=repair.trade,
                        at=workflow.now(), emergency=repair.emergency,
                        arrive_by=self._arrive_by or repair.arrive_by, next=follow_up,
                        timed_out=timed_out), **_QUICK)
            except ActivityError as error:
                offer = OfferResult(None, None, None, f"dispatch refused: {error.cause}")
            if self._finished():  # cancelled while dispatch was asked
                return
            wait = timedelta(seconds=repair.policy.offer_seconds)
            if offer.offer_id is None:
                self._set_status(Status.UNASSIGNED)
                self._step("unassigned", None, offer.rule)
                if offer.available_from is not None:
                    wait = max(offer.available_from - workflow.now(), wait)
                await wait_until(lambda: self._finished(), wait)
                follow_up, timed_out = False, False
                continue
            self._offer = offer
            self._set_status(Status.OFFERED)
            self._step("offered", None, f"{offer.name} ({offer.technician_id}): {offer.rule}",
                       technician_id=offer.technician_id)
            answered = await wait_until(lambda: self._answer is not None or self._finished(), wait)
            if self._finished():
                return
            if not answered:
                self._step("offer_timed_out", None, f"{offer.technician_id} did not answer "
                           f"within {wait.total_seconds() / 60:g} minutes")
                follow_up, timed_out = True, True
                continue
            answer = self._answer
            assert offer.offer_id is not None and answer is not None
            accepted = isinstance(answer, Accept)
            await workflow.execute_activity_method(
                RepairActivities.answer_offer, OfferAnswer(
                    offer_id=offer.offer_id, technician_id=answer.technician_id,
                    accept=accepted, reason=None if accepted else answer.reason), **_QUICK)
            self._answers += 1
            if self._finished():  # cancelled while the answer was recorded
                return
            if accepted:
                self._technician_id = answer.technician_id
                workflow.upsert_search_attributes([sa.ASSIGNEE.value_set(answer.technician_id)])
                self._set_status(Status.ACCEPTED)
                self._step("accepted", answer.technician_id, "took the repair",
                           technician_id=answer.technician_id)
                return
            self._step("declined", answer.technician_id, answer.reason,
                       technician_id=answer.technician_id)
            follow_up, timed_out = True, False

    async def _rework(self, rejection: OwnerAcceptance) -> None:
        repair = self._repair
        assert repair is not None
        self._reworks += 1
        self._arrive_by = await self._visit_due()
        if workflow.patched(REWORK_ARRIVAL_AFRESH):
            # The new visit's arrival is a deadline of its own: a breach is recorded and
            # goes up the chain from its first role again (the overdue flag stays set).
            for deadline in ("arrive_by", "assess_by"):
                self._noticed.discard(deadline)
                self._levels.pop(deadline, None)
        self._arrival = self._diagnosis = self._completion = self._acceptance = None
        if self._delegation_id is not None and not self._own_work:
            self._hand_over = True  # the liable party's work: it comes back to redo it
            who = f"back to {self._liable_party_name}"
            self._set_status(Status.DELEGATED)
        elif rejection.another_technician and workflow.patched(ANOTHER_TECHNICIAN):
            self._technician_id = None  # dispatched afresh, to someone not tried yet
            workflow.upsert_search_attributes([sa.ASSIGNEE.value_set("")])
            who = "to another technician"
            self._set_status(Status.UNASSIGNED)
        else:
            self._set_status(Status.ACCEPTED)  # back to the same technician
            who = "to the same technician"
        self._step("rework", rejection.signed_by,
                   f"rework {self._reworks}, {who}: {rejection.reason}")
        if self._status == Status.UNASSIGNED:  # the previous technician's order is closed
            await workflow.execute_activity_method(
                RepairActivities.release_offers, self._last, **_QUICK)
        if self._reworks > repair.policy.rework_limit:
            # Past the limit the technical department appraises the defect (000 §4.3).
            self._escalate("rework_limit", TECHNICAL_DEPARTMENT, self._reworks)
        self._watch("finish_by", lambda: self._finish_by,
                    lambda: self._completion is not None or self._finished())

    # --- deadlines and escalation ---------------------------------------------------------

    def _watch(self, name: str, due: Callable[[], datetime | None],
               met: Callable[[], bool]) -> None:
        asyncio.create_task(self._watch_deadline(name, due, met))

    async def _watch_deadline(self, name: str, due: Callable[[], datetime | None],
                              met: Callable[[], bool]) -> None:
        """Wait for a deadline; when it passes unmet, flag the repair overdue (for good: a
        breach stays on the record) and escalate one role of the chain per interval until
        the step is done or the deadline moves (an agreed visit time). The finish clock
        stands still while the repair is paused."""
        repair = self._repair
        assert repair is not None
        pausable = name == "finish_by"
        while not met():
            deadline = due()
            if deadline is None or (pausable and self._paused()):
                await workflow.wait_condition(lambda d=deadline: met() or (
                    due() != d if d is None else not self._paused()))
                continue
            moved = lambda d=deadline: (  # noqa: E731
                met() or due() != d or (pausable and self._paused()))
            if await wait_until(moved, deadline - workflow.now()):
                continue
            if name not in self._noticed:  # once: a pause or a new time does not repeat it
                self._noticed.add(name)
                self._overdue.add(name)
                self._refresh_overdue()
                notice = OverdueNotice(repair.repair_id, name, deadline, workflow.now())
                if workflow.patched(OVERDUE_IN_ORDER):
                    # With its step, so it never overtakes an earlier step's event.
                    self._step("overdue", None, f"{name} {deadline.isoformat()} passed",
                               overdue_notice=notice)
                else:
                    self._step("overdue", None, f"{name} {deadline.isoformat()} passed")
                    await workflow.execute_activity_method(
                        RepairActivities.announce_overdue, notice, **_QUICK)
            interval = timedelta(seconds=repair.policy.emergency_escalation_seconds
                                 if repair.emergency else repair.policy.escalation_seconds)
            reached = self._levels.get(name, 0)  # after a pause, go on from where it was
            for level, role in enumerate(repair.policy.escalation_chain, start=1):
                if level <= reached:
                    continue
                if level > 1 and await wait_until(moved, interval):
                    break
                if moved():
                    break
                self._escalate(name, role, level)
                self._levels[name] = level
            await workflow.wait_condition(moved)

    def _escalate(self, deadline: str, role: str, level: int) -> None:
        self._escalations.append(Escalated(deadline, role, level, workflow.now()))
        self._step("escalated", None, f"{deadline}: escalated to {role} (level {level})",
                   escalation_role=role)

    def _paused(self) -> bool:
        return bool(self._pauses) and self._pauses[-1].ended_at is None

    @workflow.signal
    def delegation_step(self, news: DelegationNews) -> None:
        """The child's attendance or expiry: the parent's timeline and its overdue flag (the
        child escalates; the parent only marks the repair overdue)."""
        if news.kind == "expired" and "attend_by" not in self._overdue:
            self._overdue.add("attend_by")
            self._refresh_overdue()
            self._step("overdue", None, f"attend_by passed: {news.detail}")
        elif news.kind == "attended":
            self._step("liable_party_attended", news.by, news.detail)

    # --- people's actions -----------------------------------------------------------------

    @workflow.update
    async def accept(self, accept: Accept) -> RepairState:
        return await self._answered(accept)

    @accept.validator
    def _can_accept(self, accept: Accept) -> None:
        self._offered_to(accept.technician_id)

    @workflow.update
    async def decline(self, decline: Decline) -> RepairState:
        return await self._answered(decline)

    @decline.validator
    def _can_decline(self, decline: Decline) -> None:
        self._offered_to(decline.technician_id)
        if not decline.reason.strip():
            raise ValueError("say why the offer is declined")

    async def _answered(self, answer: Accept | Decline) -> RepairState:
        """Hand the answer to the dispatch loop and return once it is recorded."""
        before = self._answers
        self._answer = answer
        await workflow.wait_condition(lambda: self._answers > before or self._finished())
        return self.state()

    def _offered_to(self, technician_id: str) -> None:
        if self._status != Status.OFFERED or self._offer is None:
            raise ValueError(f"the repair is {self._status}, not waiting for an answer")
        if self._answer is not None:
            raise ValueError("the offer was answered already")
        if technician_id != self._offer.technician_id:
            raise ValueError(f"the repair is offered to {self._offer.technician_id}, "
                             f"not {technician_id}")

    @workflow.update
    def arrive(self, arrival: Arrival) -> RepairState:
        self._arrival = arrival
        self._assessed = False  # this visit's assessment is still to come
        self._set_status(Status.ARRIVED)
        self._step("arrived", arrival.technician_id, "on site",
                   technician_id=arrival.technician_id)
        return self.state()

    @arrive.validator
    def _can_arrive(self, arrival: Arrival) -> None:
        if self._arrival is not None and self._status in Status.OPEN_FOR_WORK:
            raise ValueError(f"already arrived at {self._arrival.arrived_at.isoformat()} "
                             f"({self._arrival.technician_id})")
        self._in(Status.ACCEPTED)
        self._by_the_technician(arrival.technician_id)
        assert self._repair is not None
        if arrival.arrived_at < self._repair.reported_at:
            raise ValueError("arrived_at is before the repair was reported")

    @workflow.update
    async def diagnose(self, diagnosis: Diagnosis) -> RepairState:
        previous = self._diagnosis.cause if self._diagnosis else "unknown"
        self._diagnosis = diagnosis
        self._assessed = True
        self._set_status(Status.DIAGNOSED)
        self._step("diagnosed", diagnosis.technician_id,
                   f"cause {diagnosis.cause}; plan: {diagnosis.plan}",
                   technician_id=diagnosis.technician_id)
        if diagnosis.needs_appraisal:
            self._escalate("appraisal", TECHNICAL_DEPARTMENT, 1)
        if diagnosis.cause != previous:
            # The cause confirmed on site may change who pays (保修责任判定); nothing else
            # may happen until it is known (see `_in`).
            self._deciding = True
            try:
                await self._decide_warranty()
            finally:
                self._deciding = False
        if diagnosis.hand_over and not self._consider_hand_over():
            why = ("the liable party did not repair it before" if self._own_work else
                   f"the warranty decision ({self._outcome}) names nobody to hand it to")
            self._step("not_handed_over", diagnosis.technician_id, f"{why}: it stays ours")
        if diagnosis.quote is not None and self._chargeable():
            self._offer_quote(diagnosis.quote)
        return self.state()

    @workflow.update
    def quote(self, quote: Quote) -> RepairState:
        self._offer_quote(quote)
        return self.state()

    @quote.validator
    def _can_quote(self, quote: Quote) -> None:
        self._in(Status.DIAGNOSED)
        if not self._chargeable():
            raise ValueError("the repair is free under warranty: there is nothing to quote")
        if self._quote_state in ("accepted", "waived"):
            raise ValueError(f"the owner's price is settled ({self._quote_state})")
        _check_quote(quote)

    def _offer_quote(self, quote: Quote) -> None:
        self._quote, self._quote_state = quote, "quoted"
        self._set_status(Status.QUOTED)
        self._step("quoted", quote.by, f"{quote.total_fen / 100:.2f} yuan: " + "; ".join(
            f"{line.name} x{line.quantity}" for line in quote.lines))

    @workflow.update
    def quote_decision(self, decision: QuoteDecision) -> RepairState:
        assert self._repair is not None and self._quote is not None
        note = f": {decision.note}" if decision.note else ""
        if decision.decision == "accept":
            self._quote_state = "accepted"
            self._set_status(Status.DIAGNOSED)
            self._step("quote_accepted", decision.by, f"{self._quote.total_fen / 100:.2f} yuan"
                       + note)
        elif decision.decision == "refuse":
            # The owner will not pay: the service stops, and that is recorded (001 §4.5.4).
            self._quote_state = "refused"
            self._set_status(Status.REFUSED)
            self._step("quote_refused", decision.by, "the service stops" + note)
        else:
            self._quote_state = "disputed"
            self._negotiate_by = workflow.now() + timedelta(
                seconds=self._repair.policy.negotiate_seconds)
            self._set_status(Status.DISPUTED)
            self._step("quote_disputed", decision.by, "the housekeeper negotiates by "
                       f"{self._negotiate_by.isoformat()}{note}")
            negotiating = self._negotiate_by
            self._watch("negotiate_by", lambda: negotiating,
                        lambda: self._status != Status.DISPUTED or self._finished())
        return self.state()

    @quote_decision.validator
    def _can_decide_quote(self, decision: QuoteDecision) -> None:
        self._in(Status.QUOTED, Status.DISPUTED)
        allowed = QUOTE_DECISIONS if self._status == Status.QUOTED else ("accept", "refuse")
        if decision.decision not in allowed:
            raise ValueError(f"decision must be one of {', '.join(allowed)}")
        if not decision.by.strip():
            raise ValueError("by: who answered")

    @workflow.update
    def request_waiver(self, request: WaiverRequest) -> RepairState:
        assert self._repair is not None
        limit = self._repair.policy.director_limit_fen
        self._waiver = request
        self._waiver_approver = APPROVERS[0] if request.amount_fen < limit else APPROVERS[1]
        self._approve_by = workflow.now() + timedelta(
            seconds=self._repair.policy.waiver_approve_seconds)
        self._set_status(Status.WAIVER_PENDING)
        self._step("waiver_requested", request.by, f"{request.amount_fen / 100:.2f} yuan, for "
                   f"{self._waiver_approver} by {self._approve_by.isoformat()}: {request.reason}")
        approving = self._approve_by
        self._watch("approve_by", lambda: approving,
                    lambda: self._status != Status.WAIVER_PENDING or self._finished())
        return self.state()

    @request_waiver.validator
    def _can_request_waiver(self, request: WaiverRequest) -> None:
        self._in(Status.QUOTED, Status.DISPUTED)
        assert self._quote is not None
        if not 0 < request.amount_fen <= self._quote.total_fen:
            raise ValueError(f"amount_fen must be between 1 and the quote's "
                             f"{self._quote.total_fen}")
        if not request.reason.strip():
            raise ValueError("reason: why the fee should be waived")

    @workflow.update
    def waiver_decision(self, decision: WaiverDecision) -> RepairState:
        assert self._waiver is not None and self._quote is not None
        note = f": {decision.note}" if decision.note else ""
        if decision.approved:
            self._quote_state = "waived"
            self._set_status(Status.DIAGNOSED)
            due = self._quote.total_fen - self._waiver.amount_fen
            self._step("waiver_approved", decision.by, f"{decision.approver_role} waived "
                       f"{self._waiver.amount_fen / 100:.2f} yuan; the owner pays "
                       f"{due / 100:.2f}{note}")
        else:
            self._quote_state = "quoted"
            self._set_status(Status.QUOTED)
            self._step("waiver_rejected", decision.by, f"{decision.approver_role}: the quote "
                       f"stands; the owner decides again{note}")
        return self.state()

    @waiver_decision.validator
    def _can_decide_waiver(self, decision: WaiverDecision) -> None:
        self._in(Status.WAIVER_PENDING)
        assert self._waiver_approver is not None
        if decision.approver_role not in APPROVERS:
            raise ValueError(f"approver_role must be one of {', '.join(APPROVERS)}")
        if APPROVERS.index(decision.approver_role) < APPROVERS.index(self._waiver_approver):
            raise ValueError(f"a waiver of {self._waiver.amount_fen / 100:.2f} yuan needs "
                             f"the {self._waiver_approver}")
        if not decision.by.strip():
            raise ValueError("by: who decided")

    def _chargeable(self, *, ignoring_guarantee: bool = False) -> bool:
        chargeable = bool(self._warranty and self._warranty.get("chargeable"))
        return chargeable and (ignoring_guarantee or not self._guaranteed())

    def _guaranteed(self) -> bool:
        """Repaired again free under an earlier repair's guarantee (004 紧急维修制度 §7: the
        same problem within its months), unless the technician finds a cause that is not
        the earlier repair's fault."""
        assert self._repair is not None
        cause = self._diagnosis.cause if self._diagnosis else "unknown"
        return self._repair.guarantee is not None and cause not in NOT_OUR_REPAIRS_FAULT

    @diagnose.validator
    def _can_diagnose(self, diagnosis: Diagnosis) -> None:
        self._in(Status.ARRIVED, Status.DIAGNOSED)
        self._by_the_technician(diagnosis.technician_id)
        if diagnosis.cause not in CAUSES:
            raise ValueError(f"cause must be one of {', '.join(CAUSES)}")
        if not diagnosis.plan.strip():
            raise ValueError("give the repair plan")
        if diagnosis.quote is not None:
            _check_quote(diagnosis.quote)

    @workflow.update
    def complete(self, completion: Completion) -> RepairState:
        self._completion = completion
        self._set_status(Status.COMPLETED)
        materials = f"; materials: {', '.join(completion.materials)}" if completion.materials \
            else ""
        self._step("completed", completion.technician_id, completion.work_done + materials,
                   technician_id=completion.technician_id)
        return self.state()

    @complete.validator
    def _can_complete(self, completion: Completion) -> None:
        self._in(Status.ARRIVED, Status.DIAGNOSED)
        if self._chargeable() and self._quote_state not in ("accepted", "waived"):
            raise ValueError("a paid repair needs the owner's agreement to a quote (or a "
                             "waiver) before the work")
        self._by_the_technician(completion.technician_id)
        if not completion.work_done.strip():
            raise ValueError("say what work was done")

    @workflow.update
    async def owner_acceptance(self, acceptance: OwnerAcceptance) -> RepairState:
        self._acceptance = acceptance
        await workflow.wait_condition(lambda: self._status != Status.COMPLETED)
        return self.state()

    @owner_acceptance.validator
    def _can_take_acceptance(self, acceptance: OwnerAcceptance) -> None:
        self._in(Status.COMPLETED)
        if self._acceptance is not None:
            raise ValueError("the owner's answer is being recorded already")
        if not acceptance.signed_by.strip():
            raise ValueError("signed_by: who signed")
        if not acceptance.accepted and not (acceptance.reason or "").strip():
            raise ValueError("reason: say what the owner is not satisfied with")

    @workflow.update
    def reschedule(self, reschedule: Reschedule) -> RepairState:
        self._arrive_by = reschedule.visit_at
        self._step("rescheduled", reschedule.by, f"visit agreed for "
                   f"{reschedule.visit_at.isoformat()}: {reschedule.reason}")
        return self.state()

    @reschedule.validator
    def _can_reschedule(self, reschedule: Reschedule) -> None:
        self._in(Status.REPORTED, Status.UNASSIGNED, Status.OFFERED, Status.ACCEPTED)
        if reschedule.visit_at <= workflow.now():
            raise ValueError("visit_at must be in the future")
        if not reschedule.reason.strip():
            raise ValueError("reason: why the visit moves")

    @workflow.update
    def raise_to_emergency(self, raised: RaisePriority) -> RepairState:
        """An emergency now: offers go as emergencies, escalation runs at the emergency
        interval, and a sooner arrival deadline replaces the current one until arrival."""
        repair = self._repair
        assert repair is not None
        if repair.emergency:
            return self.state()  # raised already (a resent call changes nothing)
        repair.emergency, repair.priority = True, "emergency"
        workflow.upsert_search_attributes([sa.PRIORITY.value_set("emergency")])
        if repair.policy.assess_seconds is None and raised.assess_seconds is not None:
            repair.policy.assess_seconds = raised.assess_seconds  # an emergency's assessment
            if self._completion is None:
                self._watch_assessment()
        if self._arrival is None and (self._arrive_by is None
                                      or raised.arrive_by < self._arrive_by):
            self._arrive_by = raised.arrive_by
        self._step("priority_raised", raised.by, f"emergency: {raised.reason}; arrive by "
                   f"{(self._arrive_by or repair.arrive_by).isoformat()}"[:1000])
        return self.state()

    @raise_to_emergency.validator
    def _can_raise(self, raised: RaisePriority) -> None:
        if self._finished():
            raise ValueError(f"the repair is {self._status}")

    @workflow.update
    def pause(self, pause: Pause) -> RepairState:
        self._pauses.append(PausedSpan(pause.reason, workflow.now()))
        self._step("paused", pause.by, pause.reason)
        return self.state()

    @pause.validator
    def _can_pause(self, pause: Pause) -> None:
        if self._finished() or self._status == Status.COMPLETED:
            raise ValueError(f"the repair is {self._status}")
        if self._paused():
            raise ValueError(f"paused already: {self._pauses[-1].reason}")
        if not pause.reason.strip():
            raise ValueError("reason: what the repair waits for")

    @workflow.update
    def resume(self, resume: Resume) -> RepairState:
        span = self._pauses[-1]
        span.ended_at = workflow.now()
        if self._finish_by is not None:  # the finish clock stood still while paused
            self._finish_by += span.ended_at - span.started_at
        self._step("resumed", resume.by, f"after waiting for {span.reason}")
        return self.state()

    @resume.validator
    def _can_resume(self, resume: Resume) -> None:
        if not self._paused():
            raise ValueError("the repair is not paused")

    @workflow.update
    def cancel(self, cancel: Cancel) -> RepairState:
        self._cancel = cancel
        self._set_status(Status.CANCELLED)
        self._step("cancelled", cancel.by, cancel.reason + (f": {cancel.note}"
                                                          if cancel.note else ""))
        return self.state()

    @cancel.validator
    def _can_cancel(self, cancel: Cancel) -> None:
        if self._deciding:
            raise ValueError("the warranty is being decided again; retry in a moment")
        if self._finished() or self._status == Status.COMPLETED:
            raise ValueError(f"the repair is {self._status} and cannot be cancelled")
        if cancel.reason not in CANCEL_REASONS:
            raise ValueError(f"reason must be one of {', '.join(CANCEL_REASONS)}")

    def _in(self, *statuses: str) -> None:
        if self._deciding:
            raise ValueError("the warranty is being decided again after the diagnosis; "
                             "retry in a moment")
        if self._status not in statuses:
            raise ValueError(f"the repair is {self._status}; this needs it "
                             f"{' or '.join(statuses)}")

    def _by_the_technician(self, technician_id: str) -> None:
        if technician_id != self._technician_id:
            raise ValueError(f"the repair is {self._technician_id}'s, not {technician_id}'s")

    # --- state, steps and events ----------------------------------------------------------

    @workflow.query
    def state(self) -> RepairState:
        assert self._repair is not None
        return RepairState(
            repair_id=self._repair.repair_id, status=self._status,
            arrive_by=self._arrive_by or self._repair.arrive_by,
            overdue=bool(self._overdue),
            arrived_at=self._arrival.arrived_at if self._arrival else None,
            technician_id=self._technician_id,
            offer_id=self._offer.offer_id if self._offer else None,
            offered_to=self._offer.technician_id if self._offer else None,
            finish_by=self._finish_by, reworks=self._reworks, warranty=self._warranty,
            warranty_outcome=self._outcome,
            quote=self._quote, quote_state=self._quote_state, waiver=self._waiver,
            waiver_approver=self._waiver_approver,
            escalations=list(self._escalations), pauses=list(self._pauses),
            timeline=list(self._timeline), delegation_id=self._delegation_id,
            liable_party_name=self._liable_party_name, priority=self._repair.priority,
            respond_by=self._repair.respond_by, assess_by=self._assess_by(),
        )

    def _set_status(self, status: str) -> None:
        self._status = status
        workflow.upsert_search_attributes([sa.REPAIR_STATUS.value_set(status)])

    def _refresh_overdue(self) -> None:
        workflow.upsert_search_attributes([sa.OVERDUE.value_set(bool(self._overdue))])

    def _step(self, kind: str, by: str | None, detail: str, *,
              technician_id: str | None = None, escalation_role: str | None = None,
              warranty: dict | None = None, overdue_notice: OverdueNotice | None = None
              ) -> None:
        """A timeline entry now, and its event queued for the publisher."""
        assert self._repair is not None
        now = workflow.now()
        self._timeline.append(Step(now, kind, by, detail))
        self._sequence += 1
        self._last = Progress(
            repair_id=self._repair.repair_id, project=self._repair.project,
            sequence=self._sequence, status=self._status, kind=kind, at=now, by=by,
            detail=detail, technician_id=technician_id or self._technician_id,
            overdue=bool(self._overdue), escalation_role=escalation_role, warranty=warranty,
            overdue_notice=overdue_notice, **self._facts())
        self._outbox.append(self._last)

    def _facts(self) -> dict:
        """What every event carries besides its step, so a read model needs no history."""
        assert self._repair is not None
        waived = self._waiver.amount_fen if self._waiver and self._quote_state == "waived" \
            else None
        return {"reworks": self._reworks, "warranty_outcome": self._outcome,
                "arrive_by": self._arrive_by or self._repair.arrive_by,
                "finish_by": self._finish_by,
                "quote_total_fen": self._quote.total_fen if self._quote else None,
                "quote_state": self._quote_state, "waived_fen": waived}

    async def _publish_in_order(self) -> None:
        """One event at a time, oldest first: consumers see a repair's steps in order."""
        while True:
            await workflow.wait_condition(lambda: bool(self._outbox))
            await workflow.execute_activity_method(
                RepairActivities.publish_progress, self._outbox[0],
                start_to_close_timeout=timedelta(seconds=30))
            self._outbox.pop(0)


def _check_quote(quote: Quote) -> None:
    if not quote.lines:
        raise ValueError("a quote needs at least one standard service item")
    for line in quote.lines:
        if line.quantity < 1 or line.unit_price_fen < 0:
            raise ValueError(f"{line.code}: quantity at least 1, price not negative")
    if not quote.by.strip():
        raise ValueError("by: who quoted")
