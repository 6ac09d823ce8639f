"""`DelegationWorkflow`: a repair handed to its liable party (转开发商/总包/分包/厂家维修), a child
of `RepairWorkflow`, id `delegation-<repair id>`.

notice (保修通知) → reminders before the attend deadline (24 h; at once for an emergency
touching structural safety or seriously affecting use, Order 80 Art. 9) → attended →
repaired. Past the deadline it is expired and goes up the project's escalation chain, one
role per interval; the developer may then have another party repair at the liable party's
cost (Order 80 Art. 12): the back-charge is recorded and the delegation ends, the other
party's work being the parent's ordinary repair. A late attendance is still taken, and
recorded as late. The property's own team records its emergency measures while waiting.
The `withdraw` update, or cancelling the workflow (what the parent does), withdraws it.
Every step is a timeline entry and a `repairs.delegation.v1` event, published in order.

Versioning: change it only behind `workflow.patched` (histories in tests/replay).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.timers import wait_until

# Passed through: the messages' datetime hints must be the real class, not the sandbox's.
with workflow.unsafe.imports_passed_through():
    from workflows.delegation.activities import DelegationActivities
    from workflows.delegation.messages import (
        AnotherParty,
        Attendance,
        BackCharge,
        DelegationInput,
        DelegationNews,
        DelegationProgress,
        DelegationResult,
        DelegationState,
        EmergencyMeasure,
        EmergencyMeasures,
        Escalation,
        LiableParty,
        Repaired,
        Status,
        Step,
        Withdrawal,
    )

# Who withdraws when the parent cancels the child.
THE_REPAIR = "repair workflow"
# The steps the parent repair is signalled.
TOLD_TO_THE_REPAIR = ("attended", "expired")


@workflow.defn
class DelegationWorkflow:
    @workflow.init
    def __init__(self, delegation: DelegationInput) -> None:
        # The input in __init__: the query and the validators work from the first task on.
        self._input = delegation
        self._notified_at = workflow.now()
        self._attend_by = self._notified_at + timedelta(seconds=delegation.attend_within())
        self._status = Status.NOTIFIED
        self._attendance: Attendance | None = None  # `at` always set
        self._late = False
        self._reminders = 0
        self._repaired: Repaired | None = None  # `at` always set
        self._back_charge: BackCharge | None = None
        self._escalations: list[Escalation] = []
        self._measures: list[EmergencyMeasure] = []
        self._timeline: list[Step] = []
        self._outbox: list[DelegationProgress] = []
        self._sequence = 0

    @workflow.run
    async def run(self, delegation: DelegationInput) -> DelegationResult:
        _check(delegation)
        publisher = asyncio.create_task(self._publish_in_order())
        what = f": {delegation.summary}" if delegation.summary else ""
        self._step("notice", None, f"保修通知 to {delegation.liable_party} "
                   f"{delegation.liable_party_name}, attend by {self._attend_by.isoformat()}"
                   f"{' (emergency: at once)' if delegation.emergency else ''}{what}")
        watcher = asyncio.create_task(self._watch_attendance())
        await self._until(self._finished)
        watcher.cancel()
        await self._until(lambda: not self._outbox)  # the last steps are published too
        publisher.cancel()
        return DelegationResult(
            outcome=self._status,
            attended_at=self._attendance.at if self._attendance else None,
            repaired_at=self._repaired.at if self._repaired else None,
            back_charge=self._back_charge, late=self._late,
            emergency_measures=list(self._measures),
            repaired_by=self._repaired.by if self._repaired else None,
            work_done=self._repaired.work_done if self._repaired else None)

    def _finished(self) -> bool:
        return self._status in Status.FINISHED

    def _settled(self) -> bool:
        """Nothing more to chase: the liable party came, or the delegation ended."""
        return self._attendance is not None or self._finished()

    async def _until(self, condition: Callable[[], bool]) -> None:
        """Wait; a cancellation (the parent withdrawing) is recorded as a withdrawal and the
        workflow still finishes its steps, so the parent gets a result."""
        while True:
            try:
                await workflow.wait_condition(condition)
                return
            except asyncio.CancelledError:
                if not self._finished():
                    self._withdrawn(Withdrawal(THE_REPAIR, "the repair was cancelled"))

    async def _watch_attendance(self) -> None:
        """Reminders every interval before the deadline; past it, expired and the escalation
        chain, one role per interval (the first at once), until the liable party attends or
        the delegation ends."""
        delegation = self._input
        remind = timedelta(seconds=delegation.remind_every())
        while True:
            reminder_at = self._notified_at + remind * (self._reminders + 1)
            if reminder_at >= self._attend_by:
                break
            if await wait_until(self._settled, reminder_at - workflow.now()):
                return
            self._reminders += 1
            self._step("reminder", None, f"reminder {self._reminders} to "
                       f"{delegation.liable_party_name}: attend by {self._attend_by.isoformat()}")
        if await wait_until(self._settled, self._attend_by - workflow.now()):
            return
        self._status = Status.EXPIRED
        self._step("expired", None, f"{delegation.liable_party_name} did not attend by "
                   f"{self._attend_by.isoformat()}: another party may repair at its cost")
        interval = timedelta(seconds=delegation.escalate_every())
        for level, role in enumerate(delegation.escalation_chain, start=1):
            if level > 1 and await wait_until(self._settled, interval):
                return
            if self._settled():
                return
            self._escalations.append(Escalation(role, level, workflow.now()))
            self._step("escalated", None, f"{delegation.liable_party_name} has not attended: "
                       f"escalated to {role} (level {level})", escalation_role=role)

    # --- people's actions -----------------------------------------------------------------

    @workflow.update
    def attend(self, attendance: Attendance) -> DelegationState:
        at = attendance.at or workflow.now()
        self._attendance = Attendance(attendance.by, at)
        self._late = at > self._attend_by
        self._status = Status.ATTENDED
        self._step("attended", attendance.by, "on site" + (
            f", late: {_span(at - self._attend_by)} after {self._attend_by.isoformat()}"
            if self._late else ""))
        return self.state()

    @attend.validator
    def _can_attend(self, attendance: Attendance) -> None:
        if self._attendance is not None:
            raise ValueError(f"already attended at {self._attendance.at.isoformat()} "
                             f"({self._attendance.by})")
        self._in(Status.NOTIFIED, Status.EXPIRED)
        _given("by", attendance.by)
        if attendance.at is not None:
            self._a_past_moment("at", attendance.at, self._notified_at, "the notice")

    @workflow.update
    def record_emergency_measures(self, measures: EmergencyMeasures) -> DelegationState:
        self._measures.append(EmergencyMeasure(measures.by, measures.what, workflow.now()))
        self._step("emergency_measures", measures.by, measures.what)
        return self.state()

    @record_emergency_measures.validator
    def _can_record_emergency_measures(self, measures: EmergencyMeasures) -> None:
        self._in(Status.NOTIFIED, Status.EXPIRED, Status.ATTENDED)
        _given("by", measures.by)
        _given("what", measures.what, "say what was done")

    @workflow.update
    def repaired(self, repaired: Repaired) -> DelegationState:
        self._repaired = Repaired(repaired.by, repaired.work_done,
                                  repaired.at or workflow.now())
        self._status = Status.REPAIRED
        self._step("repaired", repaired.by, repaired.work_done)
        return self.state()

    @repaired.validator
    def _can_record_repaired(self, repaired: Repaired) -> None:
        self._in(Status.ATTENDED)
        _given("by", repaired.by)
        _given("work_done", repaired.work_done, "say what work was done")
        if repaired.at is not None:
            assert self._attendance is not None and self._attendance.at is not None
            self._a_past_moment("at", repaired.at, self._attendance.at, "the attendance")

    @workflow.update
    def assign_another_party(self, another: AnotherParty) -> DelegationState:
        delegation = self._input
        why = f"{delegation.liable_party_name} did not attend by {self._attend_by.isoformat()}"
        self._back_charge = BackCharge(
            liable_party=delegation.liable_party,
            liable_party_name=delegation.liable_party_name, other_party=another.party_name,
            assigned_by=another.by, assigned_at=workflow.now(), attend_by=self._attend_by,
            reason=why + (f": {another.reason}" if another.reason.strip() else ""))
        self._status = Status.BACK_CHARGED
        self._step("back_charge", another.by, f"{another.party_name} repairs at the cost of "
                   f"{delegation.liable_party_name} ({self._back_charge.reason})",
                   other_party=another.party_name)
        return self.state()

    @assign_another_party.validator
    def _can_assign_another_party(self, another: AnotherParty) -> None:
        if self._status == Status.NOTIFIED:
            raise ValueError(f"{self._input.liable_party_name} has until "
                             f"{self._attend_by.isoformat()} to attend")
        self._in(Status.EXPIRED)
        _given("party_name", another.party_name)
        _given("by", another.by)
        if another.party_name.strip() == self._input.liable_party_name:
            raise ValueError("another party: not the liable party itself")

    @workflow.update
    def withdraw(self, withdrawal: Withdrawal) -> DelegationState:
        self._withdrawn(withdrawal)
        return self.state()

    @withdraw.validator
    def _can_withdraw(self, withdrawal: Withdrawal) -> None:
        self._in(Status.NOTIFIED, Status.EXPIRED, Status.ATTENDED)
        _given("by", withdrawal.by)
        _given("reason", withdrawal.reason, "say why the delegation is withdrawn")

    def _withdrawn(self, withdrawal: Withdrawal) -> None:
        self._status = Status.WITHDRAWN
        self._step("withdrawn", withdrawal.by, withdrawal.reason)

    def _in(self, *statuses: str) -> None:
        if self._status not in statuses:
            raise ValueError(f"the delegation is {self._status}; this needs it "
                             f"{' or '.join(statuses)}")

    def _a_past_moment(self, name: str, at: datetime, since: datetime, what: str) -> None:
        if at.tzinfo is None:
            raise ValueError(f"{name}: give the time with its zone")
        if at < since:
            raise ValueError(f"{name} is before {what} ({since.isoformat()})")
        if at > workflow.now():
            raise ValueError(f"{name} is in the future")

    # --- state, steps and events ----------------------------------------------------------

    @workflow.query
    def state(self) -> DelegationState:
        delegation = self._input
        return DelegationState(
            repair_id=delegation.repair_id, status=self._status,
            liable_party=delegation.liable_party,
            liable_party_name=delegation.liable_party_name, emergency=delegation.emergency,
            notified_at=self._notified_at, attend_by=self._attend_by,
            attended_at=self._attendance.at if self._attendance else None,
            attended_by=self._attendance.by if self._attendance else None, late=self._late,
            reminders=self._reminders,
            repaired_at=self._repaired.at if self._repaired else None,
            escalations=list(self._escalations), emergency_measures=list(self._measures),
            back_charge=self._back_charge, timeline=list(self._timeline))

    def _step(self, kind: str, by: str | None, detail: str, *,
              escalation_role: str | None = None, other_party: str | None = None) -> None:
        """A timeline entry now, and its event queued for the publisher."""
        delegation = self._input
        now = workflow.now()
        self._timeline.append(Step(now, kind, by, detail))
        self._sequence += 1
        self._outbox.append(DelegationProgress(
            repair_id=delegation.repair_id, project=delegation.project,
            sequence=self._sequence, status=self._status, kind=kind, at=now, by=by,
            detail=detail, liable_party=delegation.liable_party,
            liable_party_name=delegation.liable_party_name, late=self._late,
            escalation_role=escalation_role, other_party=other_party,
            round=delegation.round))

    async def _publish_in_order(self) -> None:
        """One event at a time, oldest first: consumers see the steps in order. The parent
        repair hears of the attendance and the expiry."""
        while True:
            await workflow.wait_condition(lambda: bool(self._outbox))
            step = self._outbox[0]
            await workflow.execute_activity_method(
                DelegationActivities.publish_delegation_step, step,
                start_to_close_timeout=timedelta(seconds=30))
            parent = workflow.info().parent
            if parent is not None and step.kind in TOLD_TO_THE_REPAIR:
                try:
                    await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                        "delegation_step", DelegationNews(step.kind, step.at, step.by,
                                                          step.detail, step.late))
                except Exception:  # noqa: BLE001 - the repair ended: nobody to tell
                    workflow.logger.info("the repair %s has ended", parent.workflow_id)
            self._outbox.pop(0)


def _check(delegation: DelegationInput) -> None:
    """A delegation that cannot be served fails at once, not on every workflow task."""
    problems = []
    if delegation.liable_party not in LiableParty.ALL:
        problems.append(f"liable_party must be one of {', '.join(LiableParty.ALL)}")
    if not delegation.liable_party_name.strip():
        problems.append("liable_party_name: who is liable")
    if delegation.attend_within() < 0:
        problems.append("attend_seconds must not be negative")
    if delegation.remind_every() <= 0 or delegation.escalate_every() <= 0:
        problems.append("remind_seconds and escalation_seconds must be positive")
    if problems:
        raise ApplicationError("; ".join(problems), type="InvalidDelegation",
                               non_retryable=True)


def _given(name: str, value: str, hint: str | None = None) -> None:
    if not value.strip():
        raise ValueError(f"{name}: {hint or 'required'}")


def _span(delta: timedelta) -> str:
    hours, minutes = divmod(int(delta.total_seconds()) // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


