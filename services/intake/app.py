"""The intake HTTP application and its process entry point."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
import uvicorn
from fastapi import Depends, FastAPI
from temporalio.client import Client

from services.common.bus import Bus
from services.common.db import make_engine, make_sessionmaker
from services.common.logging import configure_logging
from services.common.settings import CommonSettings
from services.intake import (
    delegation_endpoints,
    dispatch_endpoints,
    endpoints,
    followup_endpoints,
    lifecycle_endpoints,
    openapi,
    photo_endpoints,
    problems,
    registry_endpoints,
    report_endpoints,
    service_item_endpoints,
    webhooks,
)
from services.intake.auth import ProjectDirectory, RateLimits, authorize
from services.intake.endpoints import Runtime, operations
from services.intake.nul_guard import RefuseNul
from services.intake.outbox import OutboxRelay
from services.intake.read_model import follow_events
from services.intake.storage import DirectoryStore
from services.intake.webhooks import DeliveryPolicy, WebhookSender, fan_out

log = structlog.get_logger(__name__)


class IntakeSettings(CommonSettings):
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    intake_db_pool_size: int = 10
    # Seconds between sweeps of the outbox for entries a crash or an outage left behind.
    outbox_interval: float = 1.0
    photo_max_bytes: int = 10_000_000
    # Webhooks (webhooks.py): seconds between looks for due deliveries when nothing new
    # arrived, one POST's timeout, the backoff between attempts (doubling from base, capped,
    # jittered) and when a delivery is given up (attempts or seconds since it was queued).
    webhook_interval: float = 1.0
    webhook_timeout: float = 10.0
    webhook_backoff_base: float = 1.0
    webhook_backoff_cap: float = 3600.0
    webhook_max_attempts: int = 50
    webhook_max_age: float = 24 * 3600.0
    # Receivers on loopback or private addresses: for a local demo or tests, never in
    # production (a key could make intake POST into the internal network).
    webhook_allow_private_networks: bool = False


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.intake_db_pool_size)
        bus = await Bus.connect(settings.nats_url, prefix=settings.nats_prefix,
                                name="repairflow-intake")
        # Lazy: intake serves (and stores reports) even while Temporal is still starting.
        temporal = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace, lazy=True
        )
        sessions = make_sessionmaker(engine)
        relay = OutboxRelay(sessions=sessions, bus=bus, temporal=temporal,
                            task_queue=settings.task_queue)
        store = DirectoryStore(settings.home / "attachments")
        app.state.runtime = Runtime(sessions=sessions, bus=bus, temporal=temporal, relay=relay,
                                    store=store, photo_max_bytes=settings.photo_max_bytes,
                                    directory=ProjectDirectory(bus), rate_limits=RateLimits())
        stopping = asyncio.Event()
        sweeper = asyncio.create_task(relay.run_forever(interval=settings.outbox_interval))
        follower = asyncio.create_task(follow_events(bus=bus, sessions=sessions,
                                                     stop=stopping))
        sender = WebhookSender(sessions=sessions, policy=DeliveryPolicy(
            timeout=settings.webhook_timeout, backoff_base=settings.webhook_backoff_base,
            backoff_cap=settings.webhook_backoff_cap,
            max_attempts=settings.webhook_max_attempts, max_age=settings.webhook_max_age,
            allow_private_networks=settings.webhook_allow_private_networks))
        hooks = [asyncio.create_task(fan_out(bus=bus, sessions=sessions, stop=stopping,
                                             queued=sender.queued)),
                 asyncio.create_task(sender.run(stop=stopping,
                                                interval=settings.webhook_interval))]
        try:
            yield
        finally:
            stopping.set()
            sender.queued.set()  # ends the sender's wait at once
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            for task in (follower, *hooks):
                try:  # a send in flight may take its timeout; a cancelled one is resent
                    await asyncio.wait_for(task, timeout=5)
                except (TimeoutError, asyncio.CancelledError):
                    pass
            await sender.close()
            await bus.close()
            await engine.dispose()

    app = FastAPI(
        title="RepairFlow intake API",
        version="1",
        summary="Report defects, follow repairs to the owner's sign-off.",
        lifespan=lifespan,
    )
    problems.install(app)
    lifecycle_endpoints.install(app)
    app.add_middleware(RefuseNul)
    app.include_router(operations)
    # Every other route needs an API key, whether or not its handler asks who is calling.
    keyed = [Depends(authorize)]
    for module in (endpoints, lifecycle_endpoints, delegation_endpoints, registry_endpoints,
                   service_item_endpoints, dispatch_endpoints, photo_endpoints, webhooks,
                   followup_endpoints, report_endpoints):
        app.include_router(module.router, dependencies=keyed)
    openapi.document(app)
    return app


def main() -> None:
    settings = IntakeSettings()
    configure_logging(service="intake", level=settings.log_level, json=settings.log_json)
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port,
        log_config=None, timeout_graceful_shutdown=5,
    )
