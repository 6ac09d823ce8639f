"""The raw ceilings of the Temporal server the stack uses, measured in the same run with the
same client settings (a default `Client.connect`, as intake's and the worker's) and a worker
process with our worker's pollers and task slots (bench/ceiling_workflows.py):

- starts/s of a no-op workflow (`start_workflow`, at most `concurrency` calls in flight);
- completed/s of a repair-shaped workflow: four no-op activities, a 100 ms timer and a
  signal the bench sends once it is started, from the first start to the last result.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from bench.ceiling_workflows import NoOpWorkflow, RepairShapedWorkflow
from bench.report import rate, summary
from services.stack.servers import ServerSpec, stop_process

QUEUE_PREFIX = "bench-ceiling"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CeilingWorker:
    """The ceiling workflows' worker, a child process stopped by its PID."""

    spec: ServerSpec
    process: subprocess.Popen
    task_queue: str

    @classmethod
    def start(cls, address: str, namespace: str, log_dir: Path) -> CeilingWorker:
        queue = f"{QUEUE_PREFIX}-{uuid.uuid4().hex[:8]}"
        spec = ServerSpec("bench-ceiling-worker",
                          [sys.executable, "-m", "bench.ceiling_workflows", address, namespace,
                           queue], log_dir / "bench-ceiling-worker.log",
                          env={"PYTHONPATH": str(ROOT), "REPAIRFLOW_LOG_LEVEL": "WARNING"})
        return cls(spec, spec.spawn(), queue)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process, self.spec.stop_signal)


async def history_events(client: Client, workflow_ids: list[str]) -> float | None:
    """The mean number of history events of these workflows (what the server stores and
    serves for each: the plainest measure of a workflow's weight)."""
    counts = []
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        counts.append(len(history.events))
    return sum(counts) / len(counts) if counts else None


async def warm_up(client: Client, task_queue: str, timeout: float = 60) -> None:
    """Until the worker runs workflows (its process is importing and polling)."""
    deadline = time.monotonic() + timeout
    while True:
        handle = await client.start_workflow(NoOpWorkflow.run, id=f"bench-warm-{uuid.uuid4()}",
                                             task_queue=task_queue)
        try:
            await asyncio.wait_for(handle.result(), 10)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise RuntimeError("the ceiling worker never ran a workflow") from None


async def start_ceiling(client: Client, task_queue: str, *, count: int, concurrency: int
                        ) -> dict:
    """Starts/s of the no-op workflow, then waits for them all to finish (untimed)."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    handles = []
    run = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        async with gate:
            began = time.perf_counter()
            handles.append(await client.start_workflow(
                NoOpWorkflow.run, id=f"bench-noop-{run}-{i}", task_queue=task_queue))
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    took = time.perf_counter() - began
    drained = time.perf_counter()
    await asyncio.gather(*(h.result() for h in handles))
    return {"starts": count, "seconds": round(took, 3), "per_s": rate(count, took),
            "start_ms": summary(latencies, scale=1000),
            "all_done_after_s": round(time.perf_counter() - drained + took, 3),
            "sample_ids": [h.id for h in handles[:3]]}


async def shaped_ceiling(client: Client, task_queue: str, *, count: int, concurrency: int
                         ) -> dict:
    """Completed/s of the repair-shaped workflow: each started and signalled (at most
    `concurrency` calls in flight, as the bench's HTTP calls are), awaited without a slot."""
    gate = asyncio.Semaphore(concurrency)
    run = uuid.uuid4().hex[:8]
    durations: list[float] = []
    ended: list[float] = []

    async def one(i: int) -> None:
        began = time.perf_counter()
        async with gate:
            handle = await client.start_workflow(
                RepairShapedWorkflow.run, id=f"bench-shaped-{run}-{i}", task_queue=task_queue)
        async with gate:
            await handle.signal(RepairShapedWorkflow.done)
        await handle.result()
        now = time.perf_counter()
        ended.append(now)
        durations.append(now - began)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    took = max(ended) - began
    return {"workflows": count, "seconds": round(took, 3), "per_s": rate(count, took),
            "duration_s": summary(durations, digits=3),
            "sample_ids": [f"bench-shaped-{run}-{i}" for i in range(min(3, count))]}
