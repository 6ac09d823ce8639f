"""What `repairflow followup …` does against a running stack: plan a project's year over
NATS (the follow-up service owns the plan) and create or update the project's yearly
schedule in Temporal; archive records past retention. The command-line wrappers are in
services/cli.py; these functions take their clients so tests can hand in theirs."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client

from services.common.bus import Bus
from services.common.followup_contracts import (
    FOLLOWUP_SUBJECTS,
    Archived,
    ArchiveRecords,
    PlanRevisits,
    RevisitPlan,
)
from services.common.settings import CommonSettings
from workflows.revisit_plan.schedule import ensure_revisit_schedule

YEARS = range(2000, 2101)  # what PlanRevisits accepts


@dataclass
class PlanOutcome:
    plan: RevisitPlan
    schedule_id: str | None  # None when the schedule could not be made (see error)
    schedule_error: str | None = None


async def plan_and_schedule(*, bus: Bus, temporal: Client, project: str, year: int,
                            task_queue: str) -> PlanOutcome:
    """Plan the year (refusals raise `Rejection`), then create or update the schedule."""
    plan = await ask_plan(bus, project=project, year=year)
    return await _scheduled(plan, temporal, task_queue)


async def ask_plan(bus: Bus, *, project: str, year: int) -> RevisitPlan:
    return await bus.ask(FOLLOWUP_SUBJECTS["plan_revisits"],
                         PlanRevisits(project=project, year=year), RevisitPlan, timeout=20)


async def plan_with_settings(settings: CommonSettings, *, project: str, year: int
                             ) -> PlanOutcome:
    """`repairflow followup plan`: connect to the stack the settings name, then plan."""
    bus = await Bus.connect(settings.nats_url, prefix=settings.nats_prefix,
                            name="repairflow-followup-cli", reconnect=False)
    try:
        plan = await ask_plan(bus, project=project, year=year)
    finally:
        await bus.close()
    return await _scheduled(plan, Client.connect(settings.temporal_address,
                                                 namespace=settings.temporal_namespace),
                            settings.task_queue)


async def _scheduled(plan: RevisitPlan, temporal: Client | Awaitable[Client],
                     task_queue: str) -> PlanOutcome:
    """The plan is saved whatever happens here: a failure is reported, not raised."""
    try:
        client = temporal if isinstance(temporal, Client) else await temporal
        made = await ensure_revisit_schedule(client, project=plan.project,
                                             time_zone=plan.time_zone, task_queue=task_queue)
    except Exception as error:  # noqa: BLE001 - Temporal unreachable or refusing
        return PlanOutcome(plan, None, str(error) or repr(error))
    return PlanOutcome(plan, made)


async def archive_with_settings(settings: CommonSettings, *, project: str | None,
                                as_of: datetime | None) -> Archived:
    """`repairflow followup archive`."""
    bus = await Bus.connect(settings.nats_url, prefix=settings.nats_prefix,
                            name="repairflow-followup-cli", reconnect=False)
    try:
        return await bus.ask(FOLLOWUP_SUBJECTS["archive"], ArchiveRecords(
            project=project, as_of=as_of), Archived, timeout=60)
    finally:
        await bus.close()


def plan_table(plan: RevisitPlan) -> list[str]:
    """The plan as aligned text lines (Chinese characters count two columns)."""
    header = ("id", "due on", "building", "kind", "method", "status", "scope")
    rows = [(str(r.id), r.due_on.isoformat(), r.building, r.kind, r.method, r.status, r.scope)
            for r in plan.revisits]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell + " " * (width - _width(cell)) for cell, width in zip(row, widths,
                                                                             strict=False)]
        lines.append("  ".join([*cells, row[-1]]))
    return lines


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
