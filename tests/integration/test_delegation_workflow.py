"""DelegationWorkflow on the time-skipping test server, publishing to the real NATS: every
path of a repair handed to its liable party (notice, reminders, expiry, escalation,
another party at the liable party's cost, withdrawal)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.common.bus import Bus
from workflows.delegation.activities import DelegationActivities
from workflows.delegation.messages import (
    REPAIR_DELEGATION,
    AnotherParty,
    Attendance,
    DelegationInput,
    DelegationResult,
    DelegationState,
    EmergencyMeasures,
    Repaired,
    Withdrawal,
    workflow_id,
)
from workflows.delegation.workflow import DelegationWorkflow

LIABLE = "东方雨虹防水工程公司"


@pytest.fixture
async def worker(time_skipping: WorkflowEnvironment, bus: Bus, task_queue: str
                 ) -> AsyncIterator[Worker]:
    # Time moves only when a test says so (see test_repair_workflow.py).
    activities = DelegationActivities(bus)
    with time_skipping.auto_time_skipping_disabled():
        async with Worker(time_skipping.client, task_queue=task_queue,
                          workflows=[DelegationWorkflow],
                          activities=[activities.publish_delegation_step]) as running:
            yield running


HISTORIES = Path(__file__).parents[1] / "replay" / "histories"
STARTED: list[WorkflowHandle] = []


@pytest.fixture(autouse=True)
async def record_histories(request: pytest.FixtureRequest, time_skipping: WorkflowEnvironment
                           ) -> AsyncIterator[None]:
    """With RECORD_HISTORIES=1, keep each path's history for the replay tests."""
    STARTED.clear()
    yield
    if os.environ.get("RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(parents=True, exist_ok=True)
        for number, handle in enumerate(STARTED):
            history = await handle.fetch_history()
            name = "delegation-" + request.node.name.removeprefix("test_") + (
                f"-{number}" if number else "")
            (HISTORIES / f"{name}.json").write_text(history.to_json())


async def delegate(env: WorkflowEnvironment, task_queue: str, **options) -> WorkflowHandle:
    repair_id = str(uuid.uuid4())
    options.setdefault("liable_party", "subcontractor")
    handle = await env.client.start_workflow(
        DelegationWorkflow.run,
        DelegationInput(repair_id=repair_id, project="SH-LJ", liable_party_name=LIABLE,
                        summary="SH-LJ 1 1-502 厨卫地面渗漏", **options),
        id=workflow_id(repair_id), task_queue=task_queue)
    STARTED.append(handle)
    return handle


async def state_of(handle: WorkflowHandle) -> DelegationState:
    return await handle.query(DelegationWorkflow.state)


def kinds(state: DelegationState) -> list[str]:
    return [step.kind for step in state.timeline]


async def refused(handle: WorkflowHandle, update, argument) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(update, argument)
    return str(failed.value.cause)


async def test_attended_in_time_then_repaired_with_events_in_order(
    time_skipping: WorkflowEnvironment, worker: Worker, bus: Bus, task_queue: str
):
    events = await bus.js.subscribe(bus.subject(REPAIR_DELEGATION))
    handle = await delegate(time_skipping, task_queue)
    state = await state_of(handle)
    assert state.status == "notified" and state.attend_by - state.notified_at == timedelta(
        hours=24)
    await time_skipping.sleep(timedelta(hours=5))
    await handle.execute_update(DelegationWorkflow.record_emergency_measures,
                                EmergencyMeasures("工程部 张伟", "关闭进水阀, 楼下铺设接水盆"))
    attended = await handle.execute_update(DelegationWorkflow.attend, Attendance("雨虹 刘工"))
    assert attended.status == "attended" and attended.late is False
    await time_skipping.sleep(timedelta(hours=30))  # past the deadline: nothing fires
    state = await state_of(handle)
    assert state.reminders == 1 and state.escalations == [] and state.status == "attended"
    await handle.execute_update(DelegationWorkflow.repaired,
                                Repaired("雨虹 刘工", "重做卫生间防水层, 闭水试验48小时"))
    result: DelegationResult = await handle.result()
    assert result.outcome == "repaired" and result.back_charge is None
    assert result.attended_at == attended.attended_at and result.repaired_at is not None
    assert [m.by for m in result.emergency_measures] == ["工程部 张伟"]
    expected = ["notice", "reminder", "emergency_measures", "attended", "repaired"]
    messages = [await events.next_msg(timeout=10) for _ in expected]
    published = [json.loads(m.data) for m in messages]
    assert [e["kind"] for e in published] == expected
    assert [e["sequence"] for e in published] == [1, 2, 3, 4, 5]
    repair_id = published[0]["repair_id"]
    assert [m.headers["Nats-Msg-Id"] for m in messages] == [
        f"{repair_id}:delegation:{n}" for n in range(1, 6)]
    assert [e["status"] for e in published] == [
        "notified", "notified", "notified", "attended", "repaired"]
    assert published[0]["liable_party_name"] == LIABLE and "保修通知" in published[0]["detail"]
    await events.unsubscribe()  # an open subscription would hold the bus's drain


async def test_reminders_every_four_hours_before_the_deadline(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await delegate(time_skipping, task_queue)
    await time_skipping.sleep(timedelta(hours=23, minutes=50))
    state = await state_of(handle)
    assert state.status == "notified" and state.reminders == 5  # at 4, 8, 12, 16, 20 h
    sent = [step.at - state.notified_at for step in state.timeline if step.kind == "reminder"]
    # Counted from the notice, so that a timer firing a little late does not drift.
    assert [round(gap.total_seconds() / 3600, 2) for gap in sent] == [4, 8, 12, 16, 20]
    await time_skipping.sleep(timedelta(minutes=11))
    state = await state_of(handle)
    assert state.status == "expired" and state.reminders == 5
    assert kinds(state)[-2:] == ["expired", "escalated"]


async def test_expired_escalates_then_another_party_repairs_at_the_liable_partys_cost(
    time_skipping: WorkflowEnvironment, worker: Worker, bus: Bus, task_queue: str
):
    events = await bus.js.subscribe(bus.subject(REPAIR_DELEGATION))
    handle = await delegate(time_skipping, task_queue, liable_party="general_contractor")
    early = await refused(handle, DelegationWorkflow.assign_another_party,
                          AnotherParty("上海家安维修公司", "开发商工程部 陈明"))
    assert f"{LIABLE} has until" in early
    await time_skipping.sleep(timedelta(hours=24, minutes=1))
    state = await state_of(handle)
    assert state.status == "expired"
    assert [(e.role, e.level) for e in state.escalations] == [("duty_leader", 1)]
    await time_skipping.sleep(timedelta(minutes=61))
    await time_skipping.sleep(timedelta(minutes=61))
    state = await state_of(handle)
    assert [e.role for e in state.escalations] == [
        "duty_leader", "engineering_manager", "property_director"]
    gaps = [b.at - a.at for a, b in zip(state.escalations, state.escalations[1:], strict=False)]
    assert all(timedelta(minutes=59) <= gap <= timedelta(minutes=61) for gap in gaps), gaps
    assert "not the liable party itself" in await refused(
        handle, DelegationWorkflow.assign_another_party, AnotherParty(LIABLE, "开发商工程部 陈明"))
    assigned = await handle.execute_update(DelegationWorkflow.assign_another_party, AnotherParty(
        "上海家安维修公司", "开发商工程部 陈明", "两次电话催告未果"))
    assert assigned.status == "back_charged"
    result: DelegationResult = await handle.result()
    charge = result.back_charge
    assert result.outcome == "back_charged" and result.attended_at is None and charge
    assert (charge.liable_party, charge.liable_party_name, charge.other_party) == (
        "general_contractor", LIABLE, "上海家安维修公司")
    assert charge.assigned_by == "开发商工程部 陈明" and charge.attend_by == state.attend_by
    assert charge.assigned_at >= state.attend_by + timedelta(hours=2)
    assert "did not attend by" in charge.reason and "两次电话催告未果" in charge.reason
    published = [json.loads((await events.next_msg(timeout=10)).data) for _ in range(11)]
    assert [e["kind"] for e in published] == ["notice"] + ["reminder"] * 5 + [
        "expired", "escalated", "escalated", "escalated", "back_charge"]
    assert [e["escalation_role"] for e in published if e["kind"] == "escalated"] == [
        "duty_leader", "engineering_manager", "property_director"]
    assert published[-1]["other_party"] == "上海家安维修公司"
    await events.unsubscribe()


async def test_an_emergency_is_due_at_once_and_a_late_attendance_is_recorded(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await delegate(time_skipping, task_queue, emergency=True)
    state = await state_of(handle)
    assert state.attend_by == state.notified_at and state.status == "expired"
    assert kinds(state) == ["notice", "expired", "escalated"] and state.reminders == 0
    await handle.execute_update(DelegationWorkflow.record_emergency_measures,
                                EmergencyMeasures("物业应急小组", "拉设警戒线, 清理坠落外墙保温层"))
    await time_skipping.sleep(timedelta(minutes=16))
    state = await state_of(handle)
    assert [e.role for e in state.escalations] == ["duty_leader", "engineering_manager"]
    gap = state.escalations[1].at - state.escalations[0].at
    assert timedelta(minutes=14) <= gap <= timedelta(minutes=16)
    late = await handle.execute_update(DelegationWorkflow.attend, Attendance("雨虹 刘工"))
    assert late.status == "attended" and late.late is True
    assert "late: 16 min after" in late.timeline[-1].detail
    await time_skipping.sleep(timedelta(hours=1))  # attended: the chain stops
    assert len((await state_of(handle)).escalations) == 2
    await handle.execute_update(DelegationWorkflow.repaired,
                                Repaired("雨虹 刘工", "外墙保温层重新锚固"))
    result: DelegationResult = await handle.result()
    assert result.outcome == "repaired" and result.late is True
    assert [m.what for m in result.emergency_measures] == ["拉设警戒线, 清理坠落外墙保温层"]


async def test_actions_out_of_order_are_refused_with_the_reason(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await delegate(time_skipping, task_queue)
    now = await time_skipping.get_current_time()
    for update, argument, reason in (
        (DelegationWorkflow.repaired, Repaired("雨虹 刘工", "done"), "needs it attended"),
        (DelegationWorkflow.attend, Attendance("雨虹 刘工", now + timedelta(hours=1)),
         "in the future"),
        (DelegationWorkflow.attend, Attendance("雨虹 刘工", now.replace(tzinfo=None)),
         "with its zone"),
        (DelegationWorkflow.attend, Attendance("雨虹 刘工", now - timedelta(days=1)),
         "before the notice"),
        (DelegationWorkflow.attend, Attendance(" "), "by: required"),
        (DelegationWorkflow.record_emergency_measures, EmergencyMeasures("工程部", ""),
         "say what was done"),
        (DelegationWorkflow.withdraw, Withdrawal("客服", " "), "say why"),
    ):
        assert reason in await refused(handle, update, argument)
    await handle.execute_update(DelegationWorkflow.attend, Attendance("雨虹 刘工"))
    for update, argument, reason in (
        (DelegationWorkflow.attend, Attendance("雨虹 刘工"), "already attended at"),
        (DelegationWorkflow.assign_another_party, AnotherParty("家安", "开发商"),
         "the delegation is attended; this needs it expired"),
        (DelegationWorkflow.repaired, Repaired("雨虹 刘工", ""), "say what work was done"),
    ):
        assert reason in await refused(handle, update, argument)
    state = await state_of(handle)
    assert state.status == "attended" and kinds(state) == ["notice", "attended"]


async def test_withdrawn_by_an_update_or_by_the_parent_cancelling(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await delegate(time_skipping, task_queue)
    await handle.execute_update(DelegationWorkflow.withdraw,
                                Withdrawal("客服 李静", "业主撤回报修"))
    result: DelegationResult = await handle.result()
    assert result.outcome == "withdrawn" and result.back_charge is None
    # The parent withdraws by cancelling its child: the child still ends with a result.
    cancelled = await delegate(time_skipping, task_queue, liable_party="manufacturer")
    # Expired and between two escalations: the test server mishandles a cancellation that
    # lands on the very moment a timer fires ("invalid history builder state").
    await time_skipping.sleep(timedelta(hours=24, minutes=30))
    await cancelled.cancel()
    result = await cancelled.result()
    assert result.outcome == "withdrawn"
    assert (await state_of(cancelled)).timeline[-1].by == "repair workflow"
    history = await cancelled.fetch_history()
    assert history.events[-1].HasField("workflow_execution_completed_event_attributes")


async def test_a_delegation_to_a_party_that_cannot_be_liable_fails_at_once(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await delegate(time_skipping, task_queue, liable_party="owner")
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "liable_party must be one of" in str(failed.value.cause)
