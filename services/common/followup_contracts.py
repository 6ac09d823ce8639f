"""Messages of the follow-up service (回访): return visits due and their results, the
quarter's statistics, and the ReturnVisitWorkflow's checks. Commands are imperative,
answers plain views; `within` is the caller's API-key scope (see dispatch_contracts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from services.common.dispatch_contracts import Message, Scoped

FOLLOWUP_SUBJECTS = {
    "put_policy": "followup.policies.put",
    "get_policy": "followup.policies.get",
    "due": "followup.visits.due",
    "get": "followup.visits.get",
    "record": "followup.visits.record",
    "check": "followup.visits.check",
    "handle_complaint": "followup.complaints.handled",
    "statistics": "followup.statistics.get",
}
# The follow-up service's own events.
VISIT_SCHEDULED = "followup.events.visit_scheduled.v1"
VISIT_RECORDED = "followup.events.visit_recorded.v1"
VISIT_LATE = "followup.events.visit_late.v1"
CORRECTIVE_ACTION = "followup.events.corrective_action.v1"

VisitKind = Literal["complaint", "repair", "special_service", "other"]
Method = Literal["phone", "visit", "letter", "online"]
VisitStatus = Literal["due", "done", "not_selected"]


class VisitResult(Message):
    """What the owner said at the return visit (回访记录)."""

    method: Method
    quality: int = Field(ge=1, le=5, description="The work's quality as the owner sees it.")
    effect: int = Field(ge=1, le=5, description="Whether the defect stayed fixed.")
    satisfaction: int = Field(ge=1, le=5, description="1 very unsatisfied … 5 very satisfied.")
    satisfied: bool = Field(description="The owner's own word: satisfied or not (满意/不满意).")
    shortcomings: str | None = Field(None, max_length=2000)
    suggestions: str | None = Field(None, max_length=2000)
    owner_confirmed: bool = Field(description="The owner confirmed the record (业主签认).")
    by: str = Field(min_length=1, max_length=100)
    at: AwareDatetime
    defect_found: str | None = Field(None, min_length=1, max_length=2000,
                                     description="A defect seen at the visit: a new repair.")
    new_repair_id: str | None = Field(None, max_length=36)


class Escalation(Message):
    role: str
    level: int
    at: datetime


class Visit(Message):
    id: str
    kind: VisitKind
    project: str
    building: str | None
    unit: str | None
    category: str | None
    repair_id: str | None
    complaint_id: str | None
    served_at: datetime = Field(description="The repair completed / complaint handled.")
    opens_at: datetime
    closes_at: datetime
    status: VisitStatus
    selected_by: str = Field(description="Why it is visited or not: the rate, in-unit, all.")
    assignee_role: str
    assignee: str | None
    reminded_at: datetime | None = None
    late: bool = False
    escalations: list[Escalation] = Field(default_factory=list)
    result: VisitResult | None = None


class PutPolicy(Scoped):
    """Replace a project's follow-up policy (a `FollowupPolicy` document, as JSON)."""

    project: str = Field(min_length=1, max_length=32)
    policy: dict


class GetPolicy(Scoped):
    project: str = Field(min_length=1, max_length=32)


class PolicyView(Message):
    project: str
    policy: dict  # the whole FollowupPolicy in force, defaults filled in
    updated_at: datetime | None


class ListDueVisits(Scoped):
    project: str | None = None
    assignee: str | None = None
    closes_before: AwareDatetime | None = None
    include_done: bool = False
    limit: int = Field(200, ge=1, le=1000)


class Visits(Message):
    visits: list[Visit]


class GetVisit(Scoped):
    visit_id: str = Field(min_length=1, max_length=80)


class RecordVisit(Scoped):
    visit_id: str = Field(min_length=1, max_length=80)
    result: VisitResult


class CheckVisit(Message):
    """The ReturnVisitWorkflow asks at a deadline: remind, mark late or escalate a visit
    still not made (idempotent: a step done once is not done again)."""

    visit_id: str
    step: Literal["remind", "late", "escalate"]
    role: str | None = None
    level: int = 0
    at: AwareDatetime


class VisitCheck(Message):
    open: bool  # still not made: the workflow goes on


class HandleComplaint(Scoped):
    """A complaint is handled (投诉处理完毕): its return visit is due within 3 days."""

    complaint_id: str = Field(min_length=1, max_length=80)
    by: str = Field(min_length=1, max_length=100)
    at: AwareDatetime
    outcome: str = Field(min_length=1, max_length=2000)


class Complaint(Message):
    id: str
    project: str
    unit: str | None
    subject: str
    major: bool
    source_visit_id: str | None
    opened_at: datetime
    handled_at: datetime | None
    handled_by: str | None
    outcome: str | None
    assignee_role: str


class GetStatistics(Scoped):
    project: str = Field(min_length=1, max_length=32)
    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4)


class KindRow(Message):
    kind: VisitKind
    eligible: int
    due: int
    done: int
    on_time: int
    late_done: int
    overdue: int
    pending: int
    failed: int
    rate: float | None
    target: float
    met: bool


class CorrectiveActionView(Message):
    id: str
    project: str
    building: str
    unit: str
    category: str
    repair_ids: list[str]
    owner: str
    detected_on: str
    due_on: str


class DeveloperFlagView(Message):
    project: str
    building: str | None
    category: str
    units: list[str]
    repair_ids: list[str]


class Statistics(Message):
    project: str
    year: int
    quarter: int
    starts: datetime
    ends: datetime
    kinds: list[KindRow]
    failed_visits: list[str]
    repeated_complaints: list[dict]
    corrective_actions: list[CorrectiveActionView]
    developer_flags: list[DeveloperFlagView]
