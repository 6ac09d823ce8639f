"""RepairWorkflow's arrival deadline on the time-skipping test server (no sleeping)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.common.bus import Bus
from workflows.repair.activities import RepairActivities
from workflows.repair.messages import Arrival, RepairInput, RepairState, workflow_id
from workflows.repair.workflow import RepairWorkflow


@pytest.fixture
async def worker(time_skipping: WorkflowEnvironment, bus: Bus, task_queue: str
                 ) -> AsyncIterator[Worker]:
    activities = RepairActivities(bus)
    async with Worker(time_skipping.client, task_queue=task_queue,
                      workflows=[RepairWorkflow], activities=[activities.announce_overdue]
                      ) as running:
        yield running


async def start_repair(env: WorkflowEnvironment, task_queue: str, *, minutes: int
                       ) -> WorkflowHandle:
    now = await env.get_current_time()
    repair_id = str(uuid.uuid4())
    return await env.client.start_workflow(
        RepairWorkflow.run,
        RepairInput(repair_id=repair_id, ticket="SH-LJ-000001", project="SH-LJ", building="1",
                    unit="1-502", common_area=None, category="LK-WET", priority="routine",
                    time_zone="Asia/Shanghai", reported_at=now,
                    arrive_by=now + timedelta(minutes=minutes)),
        id=workflow_id(repair_id), task_queue=task_queue,
    )


async def test_nobody_arriving_by_the_deadline_makes_the_repair_overdue(
    time_skipping: WorkflowEnvironment, worker: Worker, bus: Bus, task_queue: str
):
    overdue_events = await bus.js.subscribe(bus.subject("repairs.overdue.v1"))
    handle = await start_repair(time_skipping, task_queue, minutes=20)

    await time_skipping.sleep(timedelta(minutes=19))
    assert (await handle.query(RepairWorkflow.state)).overdue is False

    await time_skipping.sleep(timedelta(minutes=2))
    state: RepairState = await handle.query(RepairWorkflow.state)
    assert state.overdue is True
    event = await overdue_events.next_msg(timeout=10)
    repair_id = handle.id.removeprefix("repair-")
    assert event.headers["Nats-Msg-Id"] == f"{repair_id}:overdue:arrive_by"
    assert b'"deadline":"arrive_by"' in event.data


async def test_an_arrival_in_time_is_recorded_and_never_overdue(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=20)
    await time_skipping.sleep(timedelta(minutes=12))
    arrived_at = await time_skipping.get_current_time()
    state = await handle.execute_update(
        RepairWorkflow.record_arrival, Arrival(technician_id="T-SH-01", arrived_at=arrived_at)
    )
    assert state.status == "arrived"
    assert state.technician_id == "T-SH-01"
    await time_skipping.sleep(timedelta(minutes=30))  # well past the deadline
    later: RepairState = await handle.query(RepairWorkflow.state)
    assert later.overdue is False
    assert later.arrived_at == arrived_at


async def test_a_second_arrival_is_refused_with_the_reason(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=60)
    first = Arrival(technician_id="T-SH-01", arrived_at=await time_skipping.get_current_time())
    await handle.execute_update(RepairWorkflow.record_arrival, first)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            RepairWorkflow.record_arrival,
            Arrival(technician_id="T-SH-02", arrived_at=await time_skipping.get_current_time()),
        )
    assert "already arrived" in str(refused.value.cause)
    assert (await handle.query(RepairWorkflow.state)).technician_id == "T-SH-01"


async def test_an_arrival_without_a_technician_is_refused(
    time_skipping: WorkflowEnvironment, worker: Worker, task_queue: str
):
    handle = await start_repair(time_skipping, task_queue, minutes=60)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            RepairWorkflow.record_arrival,
            Arrival(technician_id="", arrived_at=await time_skipping.get_current_time()),
        )
    assert "technician_id is required" in str(refused.value.cause)
    assert (await handle.query(RepairWorkflow.state)).status == "reported"
