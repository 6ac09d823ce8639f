"""What goes in and out of `ReturnVisitWorkflow` (one dataclass each; new fields get
defaults so stored histories still decode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def workflow_id(visit_id: str) -> str:
    """One workflow per visit: a retried start is the same workflow."""
    return f"return-visit-{visit_id}"


def complaint_workflow_id(complaint_id: str) -> str:
    """One workflow per complaint's response deadline (the same workflow type)."""
    return f"complaint-response-{complaint_id}"


@dataclass
class LateStep:
    """Who is told, and when, about a visit not made in its window (上报)."""

    role: str
    at: datetime


@dataclass
class ReturnVisitInput:
    """A visit's deadlines, or (`target` "complaint", `visit_id` the complaint's id) a
    complaint's: remind, answered by `closes_at` (respond_by), then the late chain."""

    visit_id: str
    project: str
    remind_at: datetime
    closes_at: datetime
    late_steps: list[LateStep] = field(default_factory=list)
    target: str = "visit"  # visit, complaint

    @property
    def workflow_id(self) -> str:
        if self.target == "complaint":
            return complaint_workflow_id(self.visit_id)
        return workflow_id(self.visit_id)


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
    target: str = "visit"  # visit, complaint (visit_id is then the complaint's id)
