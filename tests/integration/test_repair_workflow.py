"""RepairWorkflow on the time-skipping test server (no sleeping), with the real warranty and
dispatch services over NATS and the demo data: every path of the lifecycle."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.common.bus import Bus
from services.common.business_calendar import STATUTORY
from services.common.dispatch_contracts import DISPATCH_SUBJECTS, Orders, TechnicianOrders
from services.dispatch.service import DispatchSettings
from services.dispatch.service import running as dispatch_running
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from workflows.repair.messages import (
    Accept,
    Arrival,
    Cancel,
    Completion,
    Decline,
    Diagnosis,
    LifecyclePolicy,
    OwnerAcceptance,
    Pause,
    Quote,
    QuoteDecision,
    QuoteLine,
    RepairInput,
    RepairState,
    Reschedule,
    Resume,
    WaiverDecision,
    WaiverRequest,
    workflow_id,
)
from workflows.repair.workflow import RepairWorkflow
from workflows.worker import WorkerSettings, build_worker

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def services(settings: dict, demo_database: str) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(warranty_running(WarrantySettings(**settings)))
        await stack.enter_async_context(dispatch_running(DispatchSettings(**settings)))
        yield


@pytest.fixture
async def worker(time_skipping: WorkflowEnvironment, bus: Bus, settings: dict, services: None
                 ) -> AsyncIterator[Worker]:
    # Time moves only when a test says so: waiting on an update would otherwise let the
    # server skip ahead through the workflow's own timers.
    with time_skipping.auto_time_skipping_disabled():
        async with build_worker(time_skipping.client, bus, WorkerSettings(**settings)
                                ) as running:
            yield running


HISTORIES = Path(__file__).parents[1] / "replay" / "histories"
STARTED: list[WorkflowHandle] = []


@pytest.fixture(autouse=True)
async def record_histories(request: pytest.FixtureRequest, time_skipping: WorkflowEnvironment
                           ) -> AsyncIterator[None]:
    """With RECORD_HISTORIES=1, keep each path's history for the replay tests
    (tests/replay): run it after a change of the workflow that is meant to be compatible,
    never to paper over one that is not."""
    STARTED.clear()
    yield
    if os.environ.get("RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(parents=True, exist_ok=True)
        for number, handle in enumerate(STARTED):
            history = await handle.fetch_history()
            name = request.node.name.removeprefix("test_") + (f"-{number}" if number else "")
            (HISTORIES / f"{name}.json").write_text(history.to_json())


async def during_working_hours(env: WorkflowEnvironment) -> None:
    """Move the test server's clock to a working morning in Shanghai unless it is in one:
    with everyone on their day shift, an offer can go to a second technician."""
    now = (await env.get_current_time()).astimezone(SHANGHAI)
    target = now
    while not (STATUTORY.is_working_day(target.date()) and 9 <= target.hour < 15):
        target = (target + timedelta(days=1) if target.hour >= 9 else target).replace(
            hour=9, minute=0, second=0, microsecond=0)
    if target > now:
        await env.sleep(target - now)


async def start_repair(env: WorkflowEnvironment, task_queue: str, *, minutes: int = 20,
                       emergency: bool = False, finish_hours: int | None = None,
                       policy: LifecyclePolicy | None = None,
                       respond_minutes: int | None = None) -> WorkflowHandle:
    await during_working_hours(env)
    now = await env.get_current_time()
    repair_id = str(uuid.uuid4())
    handle = await env.client.start_workflow(
        RepairWorkflow.run,
        RepairInput(repair_id=repair_id, ticket="SH-LJ-000001", project="SH-LJ", building="1",
                    unit="1-502", common_area=None, category="LK-WET",
                    priority="emergency" if emergency else "routine",
                    time_zone="Asia/Shanghai", reported_at=now,
                    arrive_by=now + timedelta(minutes=minutes), trade="waterproofing",
                    emergency=emergency,
                    finish_by=now + timedelta(hours=finish_hours) if finish_hours else None,
                    policy=policy or LifecyclePolicy(),
                    respond_by=now + timedelta(minutes=respond_minutes)
                    if respond_minutes else None),
        id=workflow_id(repair_id), task_queue=task_queue,
    )
    STARTED.append(handle)
    return handle


async def state_of(handle: WorkflowHandle) -> RepairState:
    return await handle.query(RepairWorkflow.state)


async def offered(env: WorkflowEnvironment, handle: WorkflowHandle) -> RepairState:
    """Let the workflow reach its first offer (activities run on real services)."""
    for _ in range(100):
        state = await state_of(handle)
        if state.status == "offered":
            return state
        await env.sleep(timedelta(seconds=1))
    raise AssertionError(f"never offered: {state}")


def kinds(state: RepairState) -> list[str]:
    return [step.kind for step in state.timeline]


async def take_and_arrive(env: WorkflowEnvironment, handle: WorkflowHandle) -> str:
    technician = (await offered(env, handle)).offered_to or ""
    await handle.execute_update(RepairWorkflow.accept, Accept(technician))
    await handle.execute_update(RepairWorkflow.arrive,
                                Arrival(technician, await env.get_current_time()))
    return technician


async def finish_work(env: WorkflowEnvironment, handle: WorkflowHandle, technician: str
                      ) -> None:
    await handle.execute_update(RepairWorkflow.complete, Completion(
        technician, "重做卫生间防水层并闭水试验48小时", ["防水涂料 5kg"]))


async def test_on_time_from_report_to_the_owners_acceptance(
    time_skipping: WorkflowEnvironment, worker: Worker, bus: Bus, task_queue: str
):
    events = await bus.js.subscribe(bus.subject("repairs.status_changed.v1"))
    handle = await start_repair(time_skipping, task_queue)
    technician = await take_and_arrive(time_skipping, handle)
    diagnosed = await handle.execute_update(RepairWorkflow.diagnose, Diagnosis(
        technician, "construction_defect", "凿开地面重做防水", ["防水涂料"]))
    assert diagnosed.status == "diagnosed"
    assert diagnosed.warranty and diagnosed.warranty["cause"] == "construction_defect"
    await finish_work(time_skipping, handle, technician)
    closed = await handle.execute_update(RepairWorkflow.owner_acceptance,
                                         OwnerAcceptance(True, "王芳"))
    assert closed.status == "closed"
    result: RepairState = await handle.result()
    assert result.overdue is False and result.reworks == 0 and result.escalations == []
    assert kinds(result) == ["reported", "warranty_decided", "offered", "accepted", "arrived",
                             "diagnosed", "warranty_decided", "completed", "closed"]
    published = [json.loads((await events.next_msg(timeout=10)).data)
                 for _ in range(len(result.timeline))]
    assert [e["sequence"] for e in published] == list(range(1, len(result.timeline) + 1))
    assert [e["kind"] for e in published] == kinds(result)
    assert published[-1]["status"] == "closed"
    # The closed repair left its technician's open orders.
    orders = await bus.ask(DISPATCH_SUBJECTS["orders"], TechnicianOrders(
        technician_id=technician), Orders)
    assert result.repair_id not in [o.repair_id for o in orders.orders]
    description = await handle.describe()
    attributes = description.typed_search_attributes
    assert any(p.key.name == "RepairStatus" and p.value == "closed" for p in attributes)
    # Leakage of a bathroom floor within its 5-year period, caused by the construction: free
    # for the owner, and the liable contractor is chased (delegated).
    assert result.warranty and result.warranty["covered"] and not result.warranty["chargeable"]
    outcome = {p.key.name: p.value for p in attributes}["WarrantyOutcome"]
    assert outcome == ("delegated" if result.warranty["delegate"] else "free")


async def test_an_unanswered_offer_goes_to_the_next_technician(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=60)
    first = (await offered(time_skipping, handle)).offer_id
    await time_skipping.sleep(timedelta(minutes=5, seconds=30))
    state = await state_of(handle)
    assert "offer_timed_out" in kinds(state)
    assert len([s for s in state.timeline if s.kind == "offered"]) == 2
    assert state.offer_id != first


async def test_a_declined_offer_goes_to_the_next_technician_and_a_wrong_answer_is_refused(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=60)
    who = (await offered(time_skipping, handle)).offered_to
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(RepairWorkflow.accept, Accept("T-NOBODY"))
    assert f"offered to {who}" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(RepairWorkflow.decline, Decline(who, "  "))
    declined = await handle.execute_update(RepairWorkflow.decline, Decline(who, "在处理另一单急修"))
    assert "declined" in kinds(declined)
    for _ in range(50):  # the next offer follows the recorded decline
        state = await state_of(handle)
        if state.offered_to not in (who, None):
            break
        await time_skipping.sleep(timedelta(seconds=1))
    assert state.status == "offered" and state.offered_to and state.offered_to != who


async def test_a_missed_arrival_escalates_up_the_chain_one_step_per_hour(
    time_skipping: WorkflowEnvironment, worker: Worker, bus: Bus, task_queue: str
):
    escalated = await bus.js.subscribe(bus.subject("repairs.escalated.v1"))
    events = await bus.js.subscribe(bus.subject("repairs.*.v1"))
    handle = await start_repair(time_skipping, task_queue, minutes=20)
    who = (await offered(time_skipping, handle)).offered_to or ""
    await handle.execute_update(RepairWorkflow.accept, Accept(who))
    await time_skipping.sleep(timedelta(minutes=21))
    state = await state_of(handle)
    assert state.overdue is True
    assert [e.role for e in state.escalations] == ["duty_leader"]
    # repairs.overdue.v1 follows every earlier step's event: it never overtakes them.
    before = []
    while not (message := await events.next_msg(timeout=10)).subject.endswith(".overdue.v1"):
        event = json.loads(message.data)
        if event.get("repair_id") == handle.id.removeprefix("repair-") and "kind" in event:
            before.append(event["kind"])
    steps = kinds(state)
    assert before == steps[:steps.index("overdue")]
    await time_skipping.sleep(timedelta(minutes=61))
    assert [e.role for e in (await state_of(handle)).escalations] == [
        "duty_leader", "engineering_manager"]
    await time_skipping.sleep(timedelta(minutes=61))
    state = await state_of(handle)
    assert [(e.role, e.level) for e in state.escalations] == [
        ("duty_leader", 1), ("engineering_manager", 2), ("property_director", 3)]
    gaps = [b.at - a.at for a, b in zip(state.escalations, state.escalations[1:], strict=False)]
    assert all(timedelta(minutes=55) <= gap <= timedelta(minutes=65) for gap in gaps), gaps
    roles = [json.loads((await escalated.next_msg(timeout=10)).data)["role"] for _ in range(3)]
    assert roles == ["duty_leader", "engineering_manager", "property_director"]
    # Arriving late stops the chain; the breach stays on the record.
    await handle.execute_update(RepairWorkflow.arrive,
                                Arrival(who, await time_skipping.get_current_time()))
    await time_skipping.sleep(timedelta(hours=3))
    after = await state_of(handle)
    assert len(after.escalations) == 3 and after.overdue is True


async def test_an_emergency_escalates_every_fifteen_minutes(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=10, emergency=True)
    await offered(time_skipping, handle)
    await time_skipping.sleep(timedelta(minutes=10 + 31))
    state = await state_of(handle)
    assert [e.role for e in state.escalations] == [
        "duty_leader", "engineering_manager", "property_director"]


async def test_an_emergency_is_taken_within_15_minutes_and_assessed_within_30(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    """004 紧急维修制度 §4: respond within 15 minutes; assess within 30 of arrival."""
    handle = await start_repair(time_skipping, task_queue, minutes=10, emergency=True,
                                respond_minutes=15,  # the offer open longer than that
                                policy=LifecyclePolicy(assess_seconds=30 * 60,
                                                       offer_seconds=3600))
    who = (await offered(time_skipping, handle)).offered_to or ""
    await time_skipping.sleep(timedelta(minutes=16))  # nobody has taken it
    state = await state_of(handle)
    breaches = [s.detail.split()[0] for s in state.timeline if s.kind == "overdue"]
    assert breaches == ["arrive_by", "respond_by"]
    assert ("respond_by", "duty_leader") in [(e.deadline, e.role) for e in state.escalations]
    await handle.execute_update(RepairWorkflow.accept, Accept(who))
    arrived = await handle.execute_update(
        RepairWorkflow.arrive, Arrival(who, await time_skipping.get_current_time()))
    assert arrived.assess_by == arrived.arrived_at + timedelta(minutes=30)
    await time_skipping.sleep(timedelta(minutes=31))  # arrived, not assessed
    state = await state_of(handle)
    assert [s.detail.split()[0] for s in state.timeline if s.kind == "overdue"][-1] == \
        "assess_by"
    # Assessed late: its chain stops; the record stays.
    await handle.execute_update(RepairWorkflow.diagnose, Diagnosis(
        who, "construction_defect", "更换爆裂水管"))
    told = len(state.escalations)
    await time_skipping.sleep(timedelta(hours=2))
    assert not [e for e in (await state_of(handle)).escalations[told:]
                if e.deadline == "assess_by"]


async def test_rework_twice_then_accepted(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    technician = await take_and_arrive(time_skipping, handle)
    for attempt in (1, 2):
        await finish_work(time_skipping, handle, technician)
        state = await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(
            False, "王芳", "楼下天花板仍有水渍"))
        assert state.status == "accepted" and state.reworks == attempt
        await handle.execute_update(RepairWorkflow.arrive,
                                    Arrival(technician, await time_skipping.get_current_time()))
    await finish_work(time_skipping, handle, technician)
    await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(True, "王芳"))
    result: RepairState = await handle.result()
    assert result.status == "closed" and result.reworks == 2
    assert kinds(result).count("rework") == 2
    assert not any(e.role == "technical_department" for e in result.escalations)


async def test_a_reworks_missed_arrival_is_recorded_and_escalated_afresh(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=20)
    technician = (await offered(time_skipping, handle)).offered_to or ""
    await handle.execute_update(RepairWorkflow.accept, Accept(technician))
    await time_skipping.sleep(timedelta(minutes=21 + 61))  # late, two roles told
    await handle.execute_update(RepairWorkflow.arrive,
                                Arrival(technician, await time_skipping.get_current_time()))
    await finish_work(time_skipping, handle, technician)
    rework = await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(
        False, "王芳", "楼下天花板仍有水渍"))
    await time_skipping.sleep(rework.arrive_by - await time_skipping.get_current_time()
                              + timedelta(minutes=1))
    state = await state_of(handle)
    assert kinds(state).count("overdue") == 2 and state.overdue is True
    assert [e.role for e in state.escalations if e.deadline == "arrive_by"] == [
        "duty_leader", "engineering_manager", "duty_leader"]


async def test_a_reworks_arrival_span_follows_the_working_hours(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    """20 minutes for a rework asked within working hours, 1 hour outside them (003 §5.2)."""
    handle = await start_repair(time_skipping, task_queue)
    technician = await take_and_arrive(time_skipping, handle)
    await finish_work(time_skipping, handle, technician)
    asked = await time_skipping.get_current_time()
    within = await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(
        False, "王芳", "楼下天花板仍有水渍"))
    assert timedelta(minutes=20) <= within.arrive_by - asked < timedelta(minutes=21)
    await handle.execute_update(RepairWorkflow.arrive,
                                Arrival(technician, await time_skipping.get_current_time()))
    await finish_work(time_skipping, handle, technician)
    now = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    await time_skipping.sleep(now.replace(hour=19, minute=0) - now)  # the evening
    asked = await time_skipping.get_current_time()
    outside = await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(
        False, "王芳", "仍然渗水"))
    assert timedelta(hours=1) <= outside.arrive_by - asked < timedelta(hours=1, minutes=1)


async def test_past_the_rework_limit_the_technical_department_is_called_in(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue,
                                policy=LifecyclePolicy(rework_limit=1))
    technician = await take_and_arrive(time_skipping, handle)
    for _ in range(2):
        await finish_work(time_skipping, handle, technician)
        await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(
            False, "王芳", "仍然渗水"))
        await handle.execute_update(RepairWorkflow.arrive,
                                    Arrival(technician, await time_skipping.get_current_time()))
    state = await state_of(handle)
    assert [(e.deadline, e.role) for e in state.escalations] == [
        ("rework_limit", "technical_department")]
    assert state.reworks == 2 and state.status == "arrived"


async def test_an_agreed_visit_time_becomes_the_arrival_deadline(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=20)
    await offered(time_skipping, handle)
    visit = await time_skipping.get_current_time() + timedelta(hours=3)
    state = await handle.execute_update(RepairWorkflow.reschedule, Reschedule(
        visit, "业主下午3点后在家", "客服 李静"))
    assert state.arrive_by == visit
    await time_skipping.sleep(timedelta(hours=2))  # well past the first 20 minutes
    assert (await state_of(handle)).overdue is False
    await time_skipping.sleep(timedelta(hours=1, minutes=5))
    assert (await state_of(handle)).overdue is True
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(RepairWorkflow.reschedule, Reschedule(
            await time_skipping.get_current_time() - timedelta(minutes=1), "x", "客服"))
    assert "future" in str(refused.value.cause)


async def test_a_pause_stops_the_finish_clock_and_is_recorded(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, finish_hours=8)
    technician = await take_and_arrive(time_skipping, handle)
    finish_by = (await state_of(handle)).finish_by
    assert finish_by is not None
    await handle.execute_update(RepairWorkflow.pause, Pause("等待厂家配件", technician))
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(RepairWorkflow.pause, Pause("again", technician))
    await time_skipping.sleep(timedelta(hours=10))  # past the original finish_by
    state = await state_of(handle)
    assert state.overdue is False and state.pauses[0].ended_at is None
    resumed = await handle.execute_update(RepairWorkflow.resume, Resume(technician))
    assert resumed.finish_by is not None
    assert resumed.finish_by - finish_by == resumed.pauses[0].ended_at - resumed.pauses[
        0].started_at
    await time_skipping.sleep(timedelta(hours=9))
    assert "finish_by" in [e.deadline for e in (await state_of(handle)).escalations]


async def test_cancel_with_a_reason_ends_the_repair(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    await offered(time_skipping, handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(RepairWorkflow.cancel, Cancel("bored", "客服"))
    assert "duplicate" in str(refused.value.cause)
    await handle.execute_update(RepairWorkflow.cancel, Cancel("owner_withdrew", "客服 李静",
                                                              "业主自行修好"))
    result: RepairState = await handle.result()
    assert result.status == "cancelled" and kinds(result)[-1] == "cancelled"


async def test_actions_out_of_order_are_refused_with_the_reason(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    await offered(time_skipping, handle)
    now = await time_skipping.get_current_time()
    for update, argument, reason in (
        (RepairWorkflow.arrive, Arrival("T-SH-01", now), "needs it accepted"),
        (RepairWorkflow.complete, Completion("T-SH-01", "done"), "needs it arrived"),
        (RepairWorkflow.owner_acceptance, OwnerAcceptance(True, "王芳"), "needs it completed"),
        (RepairWorkflow.resume, Resume("客服"), "not paused"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(update, argument)
        assert reason in str(refused.value.cause), str(refused.value.cause)
    assert (await state_of(handle)).status == "offered"


async def settled(handle: WorkflowHandle) -> None:
    """Until the workflow only waits on its timers: no activity or task outstanding."""
    for _ in range(100):
        raw = (await handle.describe()).raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow never settled")


async def test_a_deadline_fires_after_the_worker_was_stopped_and_replaced(
    time_skipping: WorkflowEnvironment, bus: Bus, settings: dict, services: None,
    task_queue: str
):
    with time_skipping.auto_time_skipping_disabled():
        # Without a cache, so that the test server does not hold the repair's tasks for the
        # stopped worker's sticky queue.
        async with build_worker(time_skipping.client, bus, WorkerSettings(**settings),
                                max_cached_workflows=0):
            handle = await start_repair(time_skipping, task_queue, minutes=20)
            who = (await offered(time_skipping, handle)).offered_to or ""
            await handle.execute_update(RepairWorkflow.accept, Accept(who))
            await settled(handle)
        # The worker is gone mid-wait (a crash, a deploy). The test server cannot skip past
        # work nobody picks up, so the clock moves on only to just before the deadline.
        await time_skipping.sleep(timedelta(minutes=15))
        async with build_worker(time_skipping.client, bus, WorkerSettings(**settings)):
            # A new worker, with nothing cached: it replays the history and keeps the timer.
            assert (await state_of(handle)).overdue is False
            await time_skipping.sleep(timedelta(minutes=6))
            state = await state_of(handle)
            assert state.overdue is True
            assert [e.role for e in state.escalations] == ["duty_leader"]


QUOTE = Quote([QuoteLine("PL-01", "更换角阀", 2, 3500), QuoteLine("PL-09", "疏通下水", 1, 8000)],
              "T-SH-01")


async def quoted(env: WorkflowEnvironment, handle: WorkflowHandle, quote: Quote = QUOTE
                 ) -> str:
    """An owner's misuse found on site: the repair becomes paid and is quoted."""
    technician = await take_and_arrive(env, handle)
    state = await handle.execute_update(RepairWorkflow.diagnose, Diagnosis(
        technician, "owner_misuse", "业主自行改管导致渗漏，更换角阀并疏通", quote=quote))
    assert state.warranty and state.warranty["chargeable"] is True
    assert state.status == "quoted" and state.quote_state == "quoted"
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await finish_work(env, handle, technician)
    assert "the repair is quoted" in str(refused.value.cause)
    return technician


async def test_a_paid_repair_goes_ahead_once_the_owner_accepts_the_quote(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    technician = await quoted(time_skipping, handle)
    state = await handle.execute_update(RepairWorkflow.quote_decision,
                                        QuoteDecision("accept", "王芳"))
    assert state.status == "diagnosed" and state.quote_state == "accepted"
    await finish_work(time_skipping, handle, technician)
    await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(True, "王芳"))
    result: RepairState = await handle.result()
    assert result.status == "closed"
    assert "quote_accepted" in kinds(result) and "150.00 yuan" in result.timeline[
        kinds(result).index("quoted")].detail
    description = await handle.describe()
    assert {p.key.name: p.value for p in description.typed_search_attributes}[
        "WarrantyOutcome"] == "chargeable"


async def test_a_refused_quote_stops_the_service(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    await quoted(time_skipping, handle)
    await handle.execute_update(RepairWorkflow.quote_decision,
                                QuoteDecision("refuse", "王芳", "自己找人修"))
    result: RepairState = await handle.result()
    assert result.status == "refused" and result.quote_state == "refused"
    assert kinds(result)[-1] == "quote_refused"


async def test_a_disputed_quote_is_negotiated_against_a_deadline(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    await quoted(time_skipping, handle)
    state = await handle.execute_update(RepairWorkflow.quote_decision,
                                        QuoteDecision("dispute", "王芳", "价格太高"))
    assert state.status == "disputed"
    with pytest.raises(WorkflowUpdateFailedError):  # no second dispute while negotiating
        await handle.execute_update(RepairWorkflow.quote_decision,
                                    QuoteDecision("dispute", "王芳"))
    await time_skipping.sleep(timedelta(minutes=31))  # the housekeeper took too long
    state = await state_of(handle)
    assert [(e.deadline, e.role) for e in state.escalations] == [
        ("negotiate_by", "duty_leader")]
    state = await handle.execute_update(RepairWorkflow.quote_decision,
                                        QuoteDecision("accept", "王芳", "管家协商后同意"))
    assert state.status == "diagnosed"
    await time_skipping.sleep(timedelta(hours=2))  # the negotiation's chain has stopped
    assert len((await state_of(handle)).escalations) == 1


@pytest.mark.parametrize(("amount_fen", "needs"), [(10_000, "property_director"),
                                                  (15_000, "company_leader")])
async def test_a_fee_waiver_is_approved_by_the_role_its_amount_needs(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str, amount_fen: int,
    needs: str
):
    limit = LifecyclePolicy(director_limit_fen=12_000)  # a project's own limit: 120 yuan
    handle = await start_repair(time_skipping, task_queue, policy=limit)
    technician = await quoted(time_skipping, handle)
    with pytest.raises(WorkflowUpdateFailedError):  # more than the quote
        await handle.execute_update(RepairWorkflow.request_waiver,
                                    WaiverRequest(QUOTE.total_fen + 1, "x", "管家 赵敏"))
    state = await handle.execute_update(RepairWorkflow.request_waiver, WaiverRequest(
        amount_fen, "老业主，维修期内多次报修", "管家 赵敏"))
    assert state.status == "waiver_pending" and state.waiver_approver == needs
    if needs == "company_leader":
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(RepairWorkflow.waiver_decision, WaiverDecision(
                True, "property_director", "物业总监 孙强"))
        assert "needs the company_leader" in str(refused.value.cause)
    state = await handle.execute_update(RepairWorkflow.waiver_decision, WaiverDecision(
        True, needs, "审批人"))
    assert state.status == "diagnosed" and state.quote_state == "waived"
    await finish_work(time_skipping, handle, technician)  # the work may go ahead now


async def test_an_unanswered_waiver_escalates_and_a_rejection_returns_to_the_owner(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    await quoted(time_skipping, handle)
    await handle.execute_update(RepairWorkflow.request_waiver,
                                WaiverRequest(5_000, "特殊困难", "管家 赵敏"))
    await time_skipping.sleep(timedelta(hours=24, minutes=1))
    state = await state_of(handle)
    assert ("approve_by", "duty_leader") in [(e.deadline, e.role) for e in state.escalations]
    state = await handle.execute_update(RepairWorkflow.waiver_decision, WaiverDecision(
        False, "property_director", "物业总监 孙强", "不符合减免条件"))
    assert state.status == "quoted" and state.quote_state == "quoted"


async def test_a_pause_after_a_missed_deadline_does_not_start_its_chain_again(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, finish_hours=1)
    technician = await take_and_arrive(time_skipping, handle)
    await time_skipping.sleep(timedelta(hours=1, minutes=1))
    assert [e.role for e in (await state_of(handle)).escalations] == ["duty_leader"]
    await handle.execute_update(RepairWorkflow.pause, Pause("等待配件", technician))
    await time_skipping.sleep(timedelta(minutes=10))
    await handle.execute_update(RepairWorkflow.resume, Resume(technician))
    await time_skipping.sleep(timedelta(minutes=61))
    state = await state_of(handle)
    assert [e.role for e in state.escalations] == ["duty_leader", "engineering_manager"]
    assert kinds(state).count("overdue") == 1
