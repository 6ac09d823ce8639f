"""What goes in and out of `RepairWorkflow`: its input, updates, query result and the
activities' arguments. One dataclass each, so that every one can grow fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def workflow_id(repair_id: str) -> str:
    """A retried start of the same repair is the same workflow."""
    return f"repair-{repair_id}"


@dataclass
class RepairInput:
    repair_id: str
    ticket: str
    project: str
    building: str
    unit: str | None
    common_area: str | None
    category: str
    priority: str
    time_zone: str
    reported_at: datetime
    arrive_by: datetime


@dataclass
class Arrival:
    """The technician is on site (到场)."""

    technician_id: str
    arrived_at: datetime


@dataclass
class RepairState:
    repair_id: str
    status: str
    arrive_by: datetime
    overdue: bool
    arrived_at: datetime | None
    technician_id: str | None


@dataclass
class OverdueNotice:
    """A deadline passed: which one, when it was due, when the workflow noticed."""

    repair_id: str
    deadline: str
    due_at: datetime
    noticed_at: datetime
