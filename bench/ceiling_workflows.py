"""The trivial workflows whose throughput is the ceiling a repair is measured against, and
the worker that runs them (`python -m bench.ceiling_workflows ADDRESS NAMESPACE QUEUE`), a
process of its own like ours, with our worker's settings (workflows/worker.py)."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio import activity, workflow

TIMER = timedelta(milliseconds=100)
ACTIVITY = {"start_to_close_timeout": timedelta(seconds=30)}


@activity.defn
async def nothing(step: int) -> int:
    return step


@workflow.defn
class NoOpWorkflow:
    """Started and done: the cost of a start and one workflow task."""

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class RepairShapedWorkflow:
    """A repair's shape without its work: four activities, a timer, a signal."""

    def __init__(self) -> None:
        self._signalled = False

    @workflow.run
    async def run(self) -> int:
        total = await workflow.execute_activity(nothing, 1, **ACTIVITY)
        total += await workflow.execute_activity(nothing, 2, **ACTIVITY)
        await workflow.sleep(TIMER)
        total += await workflow.execute_activity(nothing, 3, **ACTIVITY)
        await workflow.wait_condition(lambda: self._signalled)
        total += await workflow.execute_activity(nothing, 4, **ACTIVITY)
        return total

    @workflow.signal
    def done(self) -> None:
        self._signalled = True


async def serve(address: str, namespace: str, task_queue: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from services.common.micro import wait_for_stop_signal
    from workflows.worker import WorkerSettings

    settings = WorkerSettings()  # the same pollers and task slots as our worker
    client = await Client.connect(address, namespace=namespace)
    worker = Worker(
        client, task_queue=task_queue, workflows=[NoOpWorkflow, RepairShapedWorkflow],
        activities=[nothing],
        # Named, so that the SDK does not hash every loaded module's code at start (slow
        # where no bytecode is cached); it has no other effect here.
        build_id="repairflow-bench-ceilings",
        max_concurrent_workflow_task_polls=settings.worker_pollers,
        max_concurrent_activity_task_polls=settings.worker_pollers,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
    )
    run = asyncio.create_task(worker.run())
    print("ceiling worker started", flush=True)
    await wait_for_stop_signal()
    await worker.shutdown()
    await run


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:4]))
