"""Message contracts: the subjects, streams and payloads the services exchange.

Commands are imperative (`LocatePlace`), events past tense (`RepairReported`); each subject
carries its version (`repairs.reported.v1`). Only shapes live here, no rules.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

# JetStream streams: name → subjects (both get the deployment's prefix, see bus.py).
STREAMS: dict[str, list[str]] = {
    "REPAIRS": ["repairs.>"],
    # Named one by one: "dispatch.>" would also swallow dispatch's request subjects.
    "DISPATCH": ["dispatch.assigned.v1", "dispatch.accepted.v1", "dispatch.declined.v1",
                 "dispatch.timed_out.v1"],
    "FOLLOWUP": ["followup.events.>"],  # not "followup.>": its request subjects live there
}

REPAIR_REPORTED = "repairs.reported.v1"
REPAIR_OVERDUE = "repairs.overdue.v1"
REPAIR_PROGRESSED = "repairs.status_changed.v1"
REPAIR_ESCALATED = "repairs.escalated.v1"
REPAIR_DELEGATION = "repairs.delegation.v1"  # contract: workflows/delegation/messages.py

WARRANTY_LOCATE = "warranty.registry.locate"
WARRANTY_DETERMINE = "warranty.determine"
WARRANTY_PUT_PROJECT = "warranty.registry.put_project"
WARRANTY_GET_PROJECT = "warranty.registry.get_project"
WARRANTY_LIST_PROJECTS = "warranty.registry.list_projects"
# Per building: its first handover and each warranty category's contractor-layer end.
WARRANTY_EXPIRIES = "warranty.registry.expiries"


class Channel(StrEnum):
    """How the report reached the customer-service center (报修渠道)."""

    hotline = "hotline"
    app = "app"
    wechat = "wechat"
    email = "email"
    web = "web"
    walk_in = "walk_in"
    patrol = "patrol"
    return_visit = "return_visit"


class Priority(StrEnum):
    """紧急 emergency, 日常 routine, 计划性 planned (urgent sits between, set by staff)."""

    emergency = "emergency"
    urgent = "urgent"
    routine = "routine"
    planned = "planned"


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RepairReported(Contract):
    """A report was accepted and its repair workflow exists (or will, after a crash)."""

    repair_id: str
    ticket: str
    project: str
    building: str
    unit: str | None
    common_area: str | None
    category: str
    priority: Priority
    channel: Channel
    reported_at: AwareDatetime
    arrive_by: AwareDatetime


class RepairOverdue(Contract):
    """A deadline of a repair passed without the step it guards."""

    repair_id: str
    deadline: str
    due_at: AwareDatetime
    noticed_at: AwareDatetime


class RepairProgressed(Contract):
    """A step of a repair's lifecycle: its new status and what happened, in order
    (`sequence` counts the repair's steps from 1)."""

    repair_id: str
    project: str
    sequence: int
    status: str
    kind: str
    at: AwareDatetime
    by: str | None
    detail: str
    technician_id: str | None = None
    overdue: bool = False
    reworks: int = 0
    warranty_outcome: str | None = None
    arrive_by: AwareDatetime | None = None
    finish_by: AwareDatetime | None = None
    warranty: dict | None = None  # the whole decision, on a `warranty_decided` step
    quote_total_fen: int | None = None  # a paid repair (有偿维修): its quote in fen,
    quote_state: str | None = None  # quoted, accepted, disputed, refused or waived,
    waived_fen: int | None = None  # and the amount waived once a waiver is approved


class RepairEscalated(RepairProgressed):
    """A missed deadline went up the project's chain one step (逐级上报)."""

    role: str


class LocateReport(Contract):
    """Ask the registry whether a report names a real place and a known defect category.

    The place is a unit, or a common area (公共区域) of the building when unit is absent.
    """

    project: str
    building: str
    unit: str | None = None
    common_area: str | None = None
    category: str


class ReportLocated(Contract):
    """The registry's answer: the place exists, in this project and time zone."""

    project: str
    project_name: str
    time_zone: str
    building: str
    unit: str | None
    common_area: str | None
    category: str
    trade: str
    always_emergency: bool
    # The project's own exceptions to the statutory calendar, for its deadlines.
    extra_days_off: list[date] = []
    extra_working_days: list[date] = []
