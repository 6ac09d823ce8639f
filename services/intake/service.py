"""Taking a report (报修受理): the repair row and its outbox entries, in the caller's
transaction. Nothing here commits or talks to other servers."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.contracts import RepairReported, ReportLocated
from services.intake import repository
from services.intake.models import OutboxEntry, Repair, RepairCall
from services.intake.schemas import ReportRepair
from workflows.deadlines import arrive_by
from workflows.repair.messages import RepairInput, workflow_id

START_WORKFLOW = "start_workflow"
PUBLISH_REPORTED = "publish_reported"


def priority_of(command: ReportRepair, located: ReportLocated) -> str:
    """An emergency when the caller says so or the category is one by itself (004)."""
    return "emergency" if command.emergency or located.always_emergency else "routine"


async def record_report(
    *, session: AsyncSession, command: ReportRepair, located: ReportLocated, received_at: datetime
) -> Repair:
    """Store a new repair with what must follow it: its workflow and its event."""
    repair_id = str(uuid.uuid4())
    priority = priority_of(command, located)
    reported_at = command.reported_at or received_at
    # The clock starts when the center received the call (a late-keyed report is not given
    # extra time, and a report typed in before the call time is not given less).
    deadline = arrive_by(
        received_at=min(reported_at, received_at), emergency=priority == "emergency",
        time_zone=located.time_zone,
    )
    number = await repository.next_ticket_number(session=session, project=located.project)
    repair = Repair(
        id=repair_id,
        ticket=f"{located.project}-{number:06d}",
        project=located.project,
        building=located.building,
        unit=located.unit,
        common_area=located.common_area,
        category=located.category,
        channel=command.channel.value,
        priority=priority,
        emergency=priority == "emergency",
        reporter_name=command.reporter.name,
        reporter_phone=command.reporter.phone,
        description=command.description,
        time_zone=located.time_zone,
        reported_at=reported_at,
        received_at=received_at,
        preferred_visit_at=command.preferred_visit_at,
        arrive_by=deadline.due_at,
        arrive_rule=deadline.rule,
        status="reported",
        workflow_id=workflow_id(repair_id),
    )
    session.add(repair)
    # What must follow the commit; the relay rebuilds both from the row (see outbox.py).
    session.add_all([
        OutboxEntry(repair_id=repair.id, kind=START_WORKFLOW, payload={}),
        OutboxEntry(repair_id=repair.id, kind=PUBLISH_REPORTED, payload={}),
    ])
    await session.flush()
    return repair


def workflow_input(repair: Repair) -> RepairInput:
    """The input of the repair's workflow, from its row."""
    return RepairInput(
        repair_id=repair.id, ticket=repair.ticket, project=repair.project,
        building=repair.building, unit=repair.unit, common_area=repair.common_area,
        category=repair.category, priority=repair.priority, time_zone=repair.time_zone,
        reported_at=repair.reported_at, arrive_by=repair.arrive_by,
    )


def reported_event(repair: Repair) -> RepairReported:
    """The `repairs.reported.v1` event, from the row."""
    return RepairReported(
        repair_id=repair.id, ticket=repair.ticket, project=repair.project,
        building=repair.building, unit=repair.unit, common_area=repair.common_area,
        category=repair.category, priority=repair.priority, channel=repair.channel,
        reported_at=repair.reported_at, arrive_by=repair.arrive_by,
    )


def attach_call(*, session: AsyncSession, repair: Repair, command: ReportRepair,
                received_at: datetime) -> RepairCall:
    """Record another report of an open repair: who called again, when and how."""
    call = RepairCall(
        repair_id=repair.id, channel=command.channel.value,
        reporter_name=command.reporter.name, reporter_phone=command.reporter.phone,
        description=command.description, reported_at=command.reported_at or received_at,
        received_at=received_at, emergency=command.emergency,
    )
    session.add(call)
    return call


def request_hash(command: ReportRepair) -> str:
    """The same report, whatever its key order or spacing, hashes the same."""
    canonical = json.dumps(command.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
