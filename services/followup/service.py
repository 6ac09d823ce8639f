"""Entry point of the follow-up service (回访): a `nats.micro` service named
`repairflow-followup`. It follows the repairs' events (a durable JetStream consumer) to
schedule return visits, starts each chosen visit's `ReturnVisitWorkflow` (and each
complaint's, for its response deadline), and answers the visits, results, complaints and
statistics commands (see handlers.py), and the planned
revisits, certificates and archiving commands (see revisit_handlers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack

import structlog
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.micro.service import Service
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.common.bus import Bus
from services.common.consumer import Unreadable, consume
from services.common.contracts import (
    REPAIR_PROGRESSED,
    REPAIR_REPORTED,
    RepairProgressed,
    RepairReported,
)
from services.common.db import make_engine, make_sessionmaker
from services.common.followup_contracts import (
    FOLLOWUP_SUBJECTS,
    ArchiveRecords,
    CheckVisit,
    GetComplaint,
    GetPolicy,
    GetStatistics,
    GetVisit,
    HandleComplaint,
    IssueCertificate,
    ListComplaints,
    ListDueVisits,
    ListMissingCertificates,
    ListRevisits,
    PlanRevisits,
    PutPolicy,
    RecordRevisit,
    RecordVisit,
)
from services.common.logging import configure_logging
from services.common.micro import json_endpoint, micro_service, serve_until_signalled
from services.common.settings import CommonSettings
from services.followup.handlers import FollowupHandlers
from services.followup.revisit_handlers import RevisitHandlers
from workflows.return_visit.messages import ReturnVisitInput
from workflows.return_visit.workflow import ReturnVisitWorkflow

VERSION = "0.2.0"
CONSUMER = "followup-repairs"
log = structlog.get_logger(__name__)


class FollowupSettings(CommonSettings):
    followup_db_pool_size: int = 5


def running(settings: FollowupSettings, temporal: Client | None = None
            ) -> AbstractAsyncContextManager[Service]:
    """The service, serving for the duration of an `async with` block; `temporal` is the
    client that starts visits' workflows (connected from the settings when not given)."""

    async def build(service: Service, bus: Bus, resources: AsyncExitStack
                    ) -> Callable[[], Awaitable[None]]:
        engine = make_engine(settings.database_url, pool_size=settings.followup_db_pool_size)
        resources.push_async_callback(engine.dispose)
        client = temporal or await Client.connect(settings.temporal_address,
                                                  namespace=settings.temporal_namespace,
                                                  lazy=True)

        async def start_visit(visit: ReturnVisitInput) -> None:
            try:
                await client.start_workflow(
                    ReturnVisitWorkflow.run, visit, id=visit.workflow_id,
                    task_queue=settings.task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
            except WorkflowAlreadyStartedError:
                pass  # a redelivered event: the visit's (complaint's) workflow exists already

        handlers = FollowupHandlers(make_sessionmaker(engine), bus, start_visit)
        for name, command in (
            ("due", ListDueVisits), ("get", GetVisit), ("record", RecordVisit),
            ("check", CheckVisit), ("handle_complaint", HandleComplaint),
            ("get_complaint", GetComplaint), ("list_complaints", ListComplaints),
            ("statistics", GetStatistics), ("put_policy", PutPolicy), ("get_policy", GetPolicy),
        ):
            group, endpoint = FOLLOWUP_SUBJECTS[name].rsplit(".", 1)
            await service.add_group(name=bus.subject(group)).add_endpoint(
                name=endpoint, handler=json_endpoint(command, getattr(handlers, name)))
        revisits = RevisitHandlers(handlers.sessions, bus, handlers._zone)
        for name, command in (
            ("plan_revisits", PlanRevisits), ("list_revisits", ListRevisits),
            ("record_revisit", RecordRevisit), ("issue_certificate", IssueCertificate),
            ("missing_certificates", ListMissingCertificates), ("archive", ArchiveRecords),
        ):
            group, endpoint = FOLLOWUP_SUBJECTS[name].rsplit(".", 1)
            await service.add_group(name=bus.subject(group)).add_endpoint(
                name=endpoint, handler=json_endpoint(command, getattr(revisits, name)))
        stop = asyncio.Event()
        follower = asyncio.create_task(follow_repairs(bus=bus, handlers=handlers, stop=stop))
        resuming = asyncio.create_task(resume(handlers))

        async def stop_following() -> None:
            stop.set()
            resuming.cancel()
            await follower

        return stop_following

    return micro_service(
        bus_url=settings.nats_url, prefix=settings.nats_prefix, name="repairflow-followup",
        version=VERSION, description="Return visits, repeated-defect control, planned revisits",
        build=build,
    )


async def resume(handlers: FollowupHandlers, attempts: int = 30) -> None:
    """At start: the workflows of visits due that have none, retried while Temporal or the
    registry are still starting."""
    for attempt in range(attempts):
        try:
            started = await handlers.resume()
            log.info("return visits resumed", visits=started)
            return
        except Exception as exc:  # noqa: BLE001 - Temporal or the registry not up yet
            log.warning("return visits not resumed yet", error=repr(exc), attempt=attempt)
            await asyncio.sleep(2)


async def follow_repairs(*, bus: Bus, handlers: FollowupHandlers, stop: asyncio.Event) -> None:
    """Apply the repairs' reported and status events until `stop`; each is acknowledged
    after it is applied (at least once; applying one twice changes nothing). A closed
    repair whose report has not come yet is asked for again a second later."""

    async def handle(subject: str, message: Msg) -> None:
        try:
            if subject == REPAIR_REPORTED:
                await handlers.on_reported(RepairReported.model_validate_json(message.data))
            else:
                await handlers.on_progressed(
                    RepairProgressed.model_validate_json(message.data))
        except ValidationError as error:
            raise Unreadable(str(error)) from None

    await consume(
        bus=bus, name=CONSUMER, subjects=[REPAIR_REPORTED, REPAIR_PROGRESSED], handle=handle,
        stop=stop, retry_delay=lambda delivered: 1.0 if delivered < 5 else 5.0,
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT,
                              deliver_policy=DeliverPolicy.ALL, max_deliver=50, ack_wait=30))


def main() -> None:
    settings = FollowupSettings()
    configure_logging(service="followup", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve_until_signalled(running(settings)))
