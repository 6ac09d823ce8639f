"""Intake's read model follows the repairs' events: a durable JetStream consumer shared by
all intake replicas marks a repair overdue when its workflow says a deadline passed."""

from __future__ import annotations

import asyncio

import structlog
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.common.bus import Bus
from services.common.contracts import REPAIR_OVERDUE, RepairOverdue
from services.intake import repository

log = structlog.get_logger(__name__)
CONSUMER = "intake-read-model"


async def follow_events(*, bus: Bus, sessions: async_sessionmaker, stop: asyncio.Event
                        ) -> None:
    """Apply events until `stop` is set; each is acknowledged after its commit (at least
    once, and applying one twice changes nothing). A stop event, not cancellation, ends
    the loop: the NATS client turns a cancelled fetch into a timeout."""
    while True:  # the stream may not exist yet (declared by `up` or a deploy step)
        try:
            subscription = await bus.js.pull_subscribe(
                bus.subject(REPAIR_OVERDUE), durable=bus.stream(CONSUMER).replace(".", "_"),
                stream=bus.stream("REPAIRS"),
                config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT,
                                      deliver_policy=DeliverPolicy.ALL, max_deliver=20,
                                      ack_wait=30),
            )
            break
        except Exception as exc:  # noqa: BLE001 - retried until the stream is there
            log.warning("read model cannot subscribe yet", error=repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=2)
                return
            except TimeoutError:
                continue
    try:
        while not stop.is_set():
            try:
                messages = await subscription.fetch(batch=50, timeout=1)
            except (TimeoutError, NatsTimeout):
                continue
            except Exception as exc:  # noqa: BLE001 - NATS reconnecting: try again shortly
                if not stop.is_set():
                    log.warning("read model fetch failed", error=repr(exc))
                    await asyncio.sleep(1)
                continue
            for message in messages:
                try:
                    event = RepairOverdue.model_validate_json(message.data)
                except ValidationError:
                    log.error("unreadable event dropped", subject=message.subject)
                    await message.term()
                    continue
                try:
                    async with sessions.begin() as session:
                        await repository.mark_overdue(session=session, repair_id=event.repair_id,
                                                      due_at=event.due_at)
                except Exception as exc:  # noqa: BLE001 - redelivered later
                    log.warning("read model update failed", repair_id=event.repair_id,
                                error=repr(exc))
                    await message.nak(delay=2)
                    continue
                await message.ack()
    finally:
        # An open pull subscription would hold the connection's drain for its full timeout.
        await subscription.unsubscribe()
