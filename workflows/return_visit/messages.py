"""What goes in and out of `ReturnVisitWorkflow` (one dataclass each; new fields get
defaults so stored histories still decode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def workflow_id(visit_id: str) -> str:
    """One workflow per visit: a retried start is the same workflow."""
    return f"return-visit-{visit_id}"


@dataclass
class LateStep:
    """Who is told, and when, about a visit not made in its window (上报)."""

    role: str
    at: datetime


@dataclass
class ReturnVisitInput:
    visit_id: str
    project: str
    remind_at: datetime
    closes_at: datetime
    late_steps: list[LateStep] = field(default_factory=list)


@dataclass
class ReturnVisitOutcome:
    visit_id: str
    outcome: str  # done (made or no longer due), late (the chain ran to its end)
    reminded: bool = False
    escalated_to: list[str] = field(default_factory=list)


@dataclass
class VisitStep:
    """A deadline reached: `remind`, `late` or `escalate` (to `role`, at `level`)."""

    visit_id: str
    step: str
    at: datetime
    role: str | None = None
    level: int = 0
