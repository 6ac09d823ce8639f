"""The outbox relay: what a committed report still owes the world, delivered until done.

A report is accepted once its row and outbox entries are committed. Right after the commit
the request delivers them itself (so a 2xx normally means the workflow already runs); if
the process dies first, or Temporal or NATS is down, the relay loop of any intake replica
delivers them later. Both steps are idempotent: the workflow id is `repair-<id>` and the
event carries a message id, so a second delivery changes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.common.bus import Bus
from services.common.contracts import REPAIR_REPORTED
from services.intake import repository
from services.intake.models import OutboxEntry, Repair
from services.intake.service import (
    PUBLISH_REPORTED,
    RAISE_PRIORITY,
    START_WORKFLOW,
    reported_event,
    workflow_input,
)
from workflows import search_attributes as sa
from workflows.repair.messages import RaisePriority
from workflows.repair.workflow import RepairWorkflow

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(
        self, *, sessions: async_sessionmaker, bus: Bus, temporal: Client, task_queue: str
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.temporal = temporal
        self.task_queue = task_queue

    async def deliver(
        self, *, repair_id: str | None = None, limit: int = 100, grace: float = 0.0
    ) -> int:
        """Deliver due entries (of one repair, or any); returns how many were delivered.

        `grace` leaves alone entries younger than that many seconds: the request that wrote
        them is delivering them itself.
        """
        delivered = 0
        cutoff = datetime.now(UTC) - timedelta(seconds=grace)
        async with self.sessions.begin() as session:
            # A repair's next entry becomes claimable once the one before is delivered.
            while entries := await repository.claim_pending(
                session=session, now=cutoff, limit=limit, repair_id=repair_id
            ):
                for entry in entries:
                    repair = await repository.get_repair(session=session,
                                                         repair_id=entry.repair_id)
                    assert repair is not None, f"outbox entry {entry.id} without its repair"
                    try:
                        await self._deliver_one(entry, repair)
                    except Exception as exc:  # noqa: BLE001 - any failure is retried later
                        log.warning("outbox delivery failed", repair_id=entry.repair_id,
                                    kind=entry.kind, attempt=entry.attempts + 1,
                                    error=repr(exc))
                        await repository.mark_failed(session=session, entry=entry,
                                                     now=datetime.now(UTC), error=repr(exc))
                        return delivered  # the rest waits for the next round
                    await repository.mark_delivered(
                        session=session, entry_id=entry.id, now=datetime.now(UTC)
                    )
                    delivered += 1
        return delivered

    async def _deliver_one(self, entry: OutboxEntry, repair: Repair) -> None:
        if entry.kind == START_WORKFLOW:
            await self._start_workflow(repair, entry.payload.get("policy"))
        elif entry.kind == PUBLISH_REPORTED:
            await self.bus.publish_event(
                REPAIR_REPORTED, reported_event(repair), msg_id=f"{repair.id}:reported"
            )
        elif entry.kind == RAISE_PRIORITY:
            await self._raise_priority(repair, entry.payload)
        else:
            raise ValueError(f"unknown outbox kind {entry.kind!r}")

    async def _start_workflow(self, repair: Repair, policy: dict | None) -> None:
        try:
            await self.temporal.start_workflow(
                RepairWorkflow.run,
                workflow_input(repair, policy),
                id=repair.workflow_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=TypedSearchAttributes([
                    SearchAttributePair(sa.PROJECT, repair.project),
                    SearchAttributePair(sa.BUILDING, repair.building),
                    SearchAttributePair(sa.CATEGORY, repair.category),
                    SearchAttributePair(sa.PRIORITY, repair.priority),
                    SearchAttributePair(sa.REPAIR_STATUS, repair.status),
                    SearchAttributePair(sa.OVERDUE, False),
                ]),
            )
        except WorkflowAlreadyStartedError:
            pass  # started before (and finished): the same repair, nothing to do
        log.info("repair workflow started", repair_id=repair.id, workflow_id=repair.workflow_id)

    async def _raise_priority(self, repair: Repair, payload: dict) -> None:
        handle = self.temporal.get_workflow_handle(repair.workflow_id)
        raised = RaisePriority(arrive_by=datetime.fromisoformat(payload["arrive_by"]),
                               by=payload["by"], reason=payload["reason"],
                               assess_seconds=payload.get("assess_seconds"))
        try:
            await handle.execute_update(RepairWorkflow.raise_to_emergency, raised,
                                        rpc_timeout=timedelta(seconds=10))
        except WorkflowUpdateFailedError as refused:  # ended meanwhile: nothing to raise
            log.info("priority not raised", repair_id=repair.id, reason=str(refused.cause))
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            described = await handle.describe(rpc_timeout=timedelta(seconds=10))
            if described.status == WorkflowExecutionStatus.RUNNING:
                raise  # not there for a moment: retried
            log.info("priority not raised: the repair has ended", repair_id=repair.id)

    async def run_forever(self, *, interval: float = 1.0, grace: float = 5.0) -> None:
        """Poll for entries left behind by a crash or an outage."""
        while True:
            try:
                while await self.deliver(grace=grace) > 0:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL restarting
                log.warning("outbox relay round failed", error=repr(exc))
            await asyncio.sleep(interval)
