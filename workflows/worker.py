"""The Temporal worker process: runs the repair workflows and their activities."""

from __future__ import annotations

import asyncio
import compileall
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from services.common.bus import Bus
from services.common.logging import configure_logging
from services.common.micro import wait_for_stop_signal
from services.common.settings import CommonSettings
from workflows.delegation.activities import DelegationActivities
from workflows.delegation.workflow import DelegationWorkflow
from workflows.repair.activities import RepairActivities
from workflows.repair.workflow import RepairWorkflow
from workflows.return_visit.activities import ReturnVisitActivities
from workflows.return_visit.workflow import ReturnVisitWorkflow
from workflows.revisit_plan.activities import RevisitPlanActivities
from workflows.revisit_plan.workflow import RevisitPlanWorkflow

log = structlog.get_logger(__name__)


class WorkerSettings(CommonSettings):
    # The SDK's defaults (5 pollers) left throughput unused on this machine; see architecture.md.
    worker_pollers: int = 20
    worker_max_concurrent_tasks: int = 200
    # Workflows kept in memory between their tasks (the SDK's default). Each costs about
    # 0.25 MB here (the sandbox's own copy of its workflow module); one evicted is replayed
    # from its history at its next task. bench/README.md measures both sides.
    worker_max_cached_workflows: int = 1000


def build_worker(client: Client, bus: Bus, settings: WorkerSettings, **options: Any) -> Worker:
    """The worker; `options` go to temporalio's Worker (tests use them)."""
    activities = RepairActivities(bus)
    delegation = DelegationActivities(bus)
    visits = ReturnVisitActivities(bus)
    revisit_plans = RevisitPlanActivities(bus)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[RepairWorkflow, DelegationWorkflow, ReturnVisitWorkflow, RevisitPlanWorkflow],
        activities=[activities.announce_overdue, activities.determine_warranty,
                    activities.visit_due, activities.offer, activities.answer_offer,
                    activities.publish_progress,
                    activities.release_offers, delegation.publish_delegation_step,
                    visits.check_visit, revisit_plans.plan_revisit_year],
        max_concurrent_workflow_task_polls=settings.worker_pollers,
        max_concurrent_activity_task_polls=settings.worker_pollers,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_tasks,
        # Let a running activity finish on SIGTERM instead of cancelling it at once.
        graceful_shutdown_timeout=timedelta(seconds=5),
        **{"max_cached_workflows": settings.worker_max_cached_workflows, **options},
    )


def cache_workflow_bytecode(home: Path) -> None:
    """Compile the workflow modules once, at start.

    The sandbox imports a workflow's module afresh for every workflow it runs, and each time
    Python compiles the source again unless the bytecode is cached. With
    PYTHONDONTWRITEBYTECODE set (common in containers) and an editable install, nothing is
    cached: compiling workflows/repair/workflow.py was about a quarter of the worker's CPU in
    a storm (bench/README.md). The bytecode goes to `<home>/pycache` (sys.pycache_prefix),
    not next to the sources, which the setting asked to leave alone."""
    if not sys.dont_write_bytecode:
        return  # Python caches the bytecode itself at the first import
    if sys.pycache_prefix is None:
        sys.pycache_prefix = str(home / "pycache")
    compileall.compile_dir(Path(__file__).parent, quiet=2)


async def serve(settings: WorkerSettings) -> None:
    cache_workflow_bytecode(settings.home)
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    bus = await Bus.connect(
        settings.nats_url, prefix=settings.nats_prefix, name="repairflow-worker"
    )
    worker = build_worker(client, bus, settings)
    run = asyncio.create_task(worker.run())
    log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    stop = asyncio.create_task(wait_for_stop_signal())
    await asyncio.wait({run, stop}, return_when=asyncio.FIRST_COMPLETED)
    if not run.done():
        log.info("worker stopping: finishing in-flight tasks")
        await worker.shutdown()
    await run  # raises if the worker failed, so the supervisor restarts us
    await bus.close()


def main() -> None:
    settings = WorkerSettings()
    configure_logging(service="worker", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve(settings))
