"""What goes in and out of `RevisitPlanWorkflow` and its activity (one dataclass each; new
fields get defaults so stored histories still decode)."""

from __future__ import annotations

from dataclasses import dataclass


def schedule_id(project: str) -> str:
    """One schedule per project: creating it again updates it."""
    return f"revisit-plan-{project}"


@dataclass
class RevisitPlanInput:
    project: str
    # None: the year after the one the run starts in (UTC), which is what the schedule's
    # run on 1 December plans; a number plans that year (a manual run).
    year: int | None = None


@dataclass
class PlanYear:
    project: str
    year: int


@dataclass
class RevisitPlanOutcome:
    project: str
    year: int
    revisits: int  # the year's revisits stored, this run's and earlier ones
    added: int  # stored by this run
    certificates_missing: int = 0
