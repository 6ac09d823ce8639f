"""Intake's read model follows the repairs' events: a durable JetStream consumer shared by
all intake replicas keeps each repair's status, assignee, reworks, warranty outcome and
overdue flag, and the workflow's steps for the timeline.

Events come at least once and, across replicas, in any order: a step is kept once (its
repair and sequence), and a repair's status moves only to a newer step's (see
repository.apply_step), so a redelivered or late event never moves a repair backwards."""

from __future__ import annotations

import asyncio

import structlog
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.bus import Bus
from services.common.consumer import Unreadable, consume
from services.common.contracts import (
    REPAIR_ESCALATED,
    REPAIR_OVERDUE,
    REPAIR_PROGRESSED,
    RepairOverdue,
    RepairProgressed,
)
from services.intake import repository
from services.intake.models import RepairStep

log = structlog.get_logger(__name__)
# A new name, not the old overdue-only one: an existing durable keeps its filter subjects.
CONSUMER = "intake-read-model-2"
SUBJECTS = (REPAIR_OVERDUE, REPAIR_PROGRESSED, REPAIR_ESCALATED)


class Progressed(RepairProgressed):
    """`repairs.status_changed.v1` and `repairs.escalated.v1` as the read model takes them:
    fields it does not use (an escalation's role, fields added later) are let through."""

    model_config = ConfigDict(extra="ignore")


async def apply(session: AsyncSession, subject: str, data: bytes) -> None:
    """Apply one event; ValidationError when it cannot be read."""
    if subject == REPAIR_OVERDUE:
        overdue = RepairOverdue.model_validate_json(data)
        await repository.mark_overdue(session=session, repair_id=overdue.repair_id,
                                      due_at=overdue.due_at)
        return
    event = Progressed.model_validate_json(data)
    # Cut to the columns: an overlong name must not stall the consumer on one event.
    step = RepairStep(repair_id=event.repair_id, sequence=event.sequence, at=event.at,
                      kind=event.kind[:32], by=event.by and event.by[:100],
                      detail=event.detail,
                      technician_id=event.technician_id and event.technician_id[:32])
    facts = {"status": event.status, "reworks": event.reworks,
             "warranty_outcome": event.warranty_outcome, "arrive_by": event.arrive_by,
             "finish_by": event.finish_by, "warranty": event.warranty,
             "quote_total_fen": event.quote_total_fen, "quote_state": event.quote_state,
             "waived_fen": event.waived_fen}
    if not await repository.apply_step(session=session, step=step, facts=facts,
                                       overdue=event.overdue):
        log.warning("event of an unknown repair ignored", repair_id=event.repair_id,
                    subject=subject)


async def follow_events(*, bus: Bus, sessions: async_sessionmaker, stop: asyncio.Event
                        ) -> None:
    """Apply events until `stop` is set; each is acknowledged after its commit (at least
    once, and applying one twice changes nothing)."""

    async def handle(subject: str, message: Msg) -> None:
        try:
            async with sessions.begin() as session:
                await apply(session, subject, message.data)
        except ValidationError as error:
            raise Unreadable(str(error)) from None

    await consume(bus=bus, name=CONSUMER, subjects=list(SUBJECTS), handle=handle, stop=stop,
                  config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT,
                                        deliver_policy=DeliverPolicy.ALL, max_deliver=20,
                                        ack_wait=30))
