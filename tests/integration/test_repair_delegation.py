"""RepairWorkflow with its liable party (转开发商/厂家维修) and with a rework by another
technician, on the time-skipping server with the real warranty and dispatch services: the
technician cannot fix a construction defect on site, the repair goes to the contractor the
warranty decision names, and comes back to the owner's acceptance, or to our own teams when
the contractor does not come."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.common.bus import Bus
from services.common.dispatch_contracts import DISPATCH_SUBJECTS, Orders, TechnicianOrders
from tests.integration.test_repair_workflow import (  # noqa: F401 - fixtures
    during_working_hours,
    finish_work,
    kinds,
    offered,
    record_histories,
    services,
    start_repair,
    state_of,
    take_and_arrive,
    worker,
)
from workflows.delegation.messages import (
    AnotherParty,
    Attendance,
    DelegationResult,
    Repaired,
)
from workflows.delegation.messages import workflow_id as delegation_id
from workflows.delegation.workflow import DelegationWorkflow
from workflows.repair.messages import (
    Accept,
    Arrival,
    Cancel,
    Diagnosis,
    OwnerAcceptance,
    RepairState,
)
from workflows.repair.workflow import RepairWorkflow

CONTRACTOR_WORKER = "东方雨虹 维修员 陈刚"


async def until(env: WorkflowEnvironment, handle: WorkflowHandle,
                condition: Callable[[RepairState], bool], what: str) -> RepairState:
    """The repair's state once the condition holds (the workflow reacts to its child)."""
    for _ in range(60):
        state = await state_of(handle)
        if condition(state):
            return state
        await env.sleep(timedelta(seconds=1))
    raise AssertionError(f"never {what}: {state.status} {kinds(state)}")


async def handed_over(env: WorkflowEnvironment, handle: WorkflowHandle) -> tuple[
        str, RepairState, WorkflowHandle]:
    """Our technician finds on site that the contractor must redo the waterproofing."""
    technician = await take_and_arrive(env, handle)
    await handle.execute_update(RepairWorkflow.diagnose, Diagnosis(
        technician, "construction_defect", "防水层失效，需原施工单位重做", hand_over=True))
    state = await until(env, handle, lambda s: s.status == "delegated" and bool(
        s.delegation_id), "delegated")
    return technician, state, env.client.get_workflow_handle_for(
        DelegationWorkflow.run, state.delegation_id or "")


async def open_orders(bus: Bus, technician: str) -> list[str]:
    orders = await bus.ask(DISPATCH_SUBJECTS["orders"], TechnicianOrders(
        technician_id=technician), Orders)
    return [order.repair_id for order in orders.orders]


@pytest.mark.usefixtures("worker")
async def test_a_defect_not_fixable_on_site_is_repaired_by_the_liable_party(
    time_skipping: WorkflowEnvironment, bus: Bus, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    technician, state, child = await handed_over(time_skipping, handle)
    # The bathroom's waterproofing is the specialty subcontractor's (the registry's name).
    assert state.warranty and state.warranty["delegate"] and state.warranty_outcome == "delegated"
    assert state.liable_party_name == state.warranty["liable_party_name"]
    assert state.delegation_id == delegation_id(state.repair_id)
    assert state.technician_id is None
    assert state.repair_id not in await open_orders(bus, technician)
    # The liable party's attend deadline (24 h) stands for the arrival.
    now = await time_skipping.get_current_time()
    assert timedelta(hours=23) < state.arrive_by - now <= timedelta(hours=24)
    # Our technician is out of it; the contractor's people act on the delegation.
    await child.execute_update(DelegationWorkflow.attend, Attendance(CONTRACTOR_WORKER))
    await until(time_skipping, handle, lambda s: "liable_party_attended" in kinds(s),
                "told of the attendance")
    await child.execute_update(DelegationWorkflow.repaired, Repaired(
        CONTRACTOR_WORKER, "凿除地面重做防水层，闭水试验48小时无渗漏"))
    state = await until(time_skipping, handle, lambda s: s.status == "completed", "completed")
    closed = await handle.execute_update(RepairWorkflow.owner_acceptance,
                                         OwnerAcceptance(True, "王芳"))
    assert closed.status == "closed"
    result: RepairState = await handle.result()
    assert kinds(result)[-5:] == ["warranty_decided", "delegated", "liable_party_attended",
                                  "completed", "closed"]
    assert result.overdue is False and result.escalations == []
    delegation: DelegationResult = await child.result()
    assert delegation.outcome == "repaired" and delegation.late is False
    attributes = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert attributes["Assignee"] == state.liable_party_name


@pytest.mark.usefixtures("worker")
async def test_a_liable_party_that_does_not_attend_is_back_charged_and_we_repair_it(
    time_skipping: WorkflowEnvironment, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    technician, state, child = await handed_over(time_skipping, handle)
    await time_skipping.sleep(timedelta(hours=24, minutes=1))
    state = await until(time_skipping, handle, lambda s: s.overdue, "overdue")
    assert "overdue" in kinds(state)
    attributes = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert attributes["Overdue"] is True
    # The child escalates (the parent only flags the repair): one role at once.
    assert [e.role for e in (await child.query(DelegationWorkflow.state)).escalations][:1] == [
        "duty_leader"]
    await during_working_hours(time_skipping)
    await child.execute_update(DelegationWorkflow.assign_another_party, AnotherParty(
        "物业工程部", "工程经理 周明", "总包逾期未到场"))
    again = await offered(time_skipping, handle)
    assert "back_charged" in kinds(again)
    # Someone not tried yet: the technician who handed it over is not offered it again.
    assert again.offered_to not in (None, technician)
    second = await take_and_arrive(time_skipping, handle)
    await finish_work(time_skipping, handle, second)
    await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(True, "王芳"))
    result: RepairState = await handle.result()
    assert result.status == "closed" and result.technician_id == second
    delegation: DelegationResult = await child.result()
    assert delegation.outcome == "back_charged" and delegation.back_charge is not None
    assert delegation.back_charge.liable_party_name == state.liable_party_name


@pytest.mark.usefixtures("worker")
async def test_the_owner_rejecting_the_liable_partys_work_sends_it_back_to_it(
    time_skipping: WorkflowEnvironment, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    _, state, child = await handed_over(time_skipping, handle)
    await child.execute_update(DelegationWorkflow.attend, Attendance(CONTRACTOR_WORKER))
    await child.execute_update(DelegationWorkflow.repaired, Repaired(CONTRACTOR_WORKER,
                                                                     "局部补刷防水涂料"))
    await until(time_skipping, handle, lambda s: s.status == "completed", "completed")
    await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(
        False, "王芳", "楼下天花板仍有水渍"))
    state = await until(time_skipping, handle, lambda s: s.delegation_id == delegation_id(
        s.repair_id, 1) and s.status == "delegated", "delegated again")
    assert state.reworks == 1
    second = time_skipping.client.get_workflow_handle_for(DelegationWorkflow.run,
                                                          state.delegation_id or "")
    await second.execute_update(DelegationWorkflow.attend, Attendance(CONTRACTOR_WORKER))
    await second.execute_update(DelegationWorkflow.repaired, Repaired(
        CONTRACTOR_WORKER, "整体重做防水层"))
    await until(time_skipping, handle, lambda s: s.status == "completed", "completed again")
    await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(True, "王芳"))
    result: RepairState = await handle.result()
    assert result.status == "closed" and result.reworks == 1
    assert kinds(result).count("delegated") == 2


@pytest.mark.usefixtures("worker")
async def test_cancelling_a_delegated_repair_withdraws_the_delegation(
    time_skipping: WorkflowEnvironment, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    _, _, child = await handed_over(time_skipping, handle)
    await handle.execute_update(RepairWorkflow.cancel, Cancel("owner_withdrew", "客服 李静"))
    result: RepairState = await handle.result()
    assert result.status == "cancelled"
    delegation: DelegationResult = await child.result()
    assert delegation.outcome == "withdrawn"


@pytest.mark.usefixtures("worker")
async def test_a_hand_over_without_a_liable_party_stays_ours(
    time_skipping: WorkflowEnvironment, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    technician = await take_and_arrive(time_skipping, handle)
    state = await handle.execute_update(RepairWorkflow.diagnose, Diagnosis(
        technician, "owner_misuse", "业主装修破坏防水层", hand_over=True))
    assert state.status == "diagnosed" and state.delegation_id is None
    assert "not_handed_over" in kinds(state) and state.warranty_outcome == "chargeable"


@pytest.mark.usefixtures("worker")
async def test_a_rework_can_go_to_another_technician(
    time_skipping: WorkflowEnvironment, bus: Bus, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue)
    first = await take_and_arrive(time_skipping, handle)
    await finish_work(time_skipping, handle, first)
    await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(
        False, "王芳", "两次上门仍渗漏，要求换人", another_technician=True))
    state = await offered(time_skipping, handle)
    assert state.offered_to not in (None, first) and state.reworks == 1
    assert state.repair_id not in await open_orders(bus, first)
    second = state.offered_to or ""
    await handle.execute_update(RepairWorkflow.accept, Accept(second))
    await handle.execute_update(RepairWorkflow.arrive,
                                Arrival(second, await time_skipping.get_current_time()))
    await finish_work(time_skipping, handle, second)
    await handle.execute_update(RepairWorkflow.owner_acceptance, OwnerAcceptance(True, "王芳"))
    result: RepairState = await handle.result()
    assert result.status == "closed" and result.technician_id == second
    assert "rework 1, to another technician" in [s.detail for s in result.timeline
                                                 if s.kind == "rework"][0]
