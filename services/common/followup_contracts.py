"""Messages of the follow-up service (回访): return visits due and their results, the
quarter's statistics, and the ReturnVisitWorkflow's checks. Commands are imperative,
answers plain views; `within` is the caller's API-key scope (see dispatch_contracts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from services.common.dispatch_contracts import Message, Scoped

FOLLOWUP_SUBJECTS = {
    "put_policy": "followup.policies.put",
    "get_policy": "followup.policies.get",
    "due": "followup.visits.due",
    "get": "followup.visits.get",
    "record": "followup.visits.record",
    "check": "followup.visits.check",
    "handle_complaint": "followup.complaints.handled",
    "get_complaint": "followup.complaints.get",
    "list_complaints": "followup.complaints.list",
    "statistics": "followup.statistics.get",
    # Planned quality revisits (质量回访), certificates (保修证书/维修卡), retention (存档).
    "plan_revisits": "followup.revisits.plan",
    "list_revisits": "followup.revisits.list",
    "record_revisit": "followup.revisits.record",
    "issue_certificate": "followup.certificates.issue",
    "missing_certificates": "followup.certificates.missing",
    "archive": "followup.archive",
}
# The follow-up service's own events.
VISIT_SCHEDULED = "followup.events.visit_scheduled.v1"
VISIT_RECORDED = "followup.events.visit_recorded.v1"
VISIT_LATE = "followup.events.visit_late.v1"
CORRECTIVE_ACTION = "followup.events.corrective_action.v1"
COMPLAINT_LATE = "followup.events.complaint_late.v1"  # not answered within its time

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


VISIT_EXAMPLE = {
    "id": "repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08", "kind": "repair",
    "project": "SH-LJ", "building": "1", "unit": "1-1201", "category": "LK-WET",
    "repair_id": "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08", "complaint_id": None,
    "served_at": "2026-06-05T16:20:00+08:00", "opens_at": "2026-07-05T00:00:00+08:00",
    "closes_at": "2026-08-06T00:00:00+08:00", "status": "due", "selected_by": "rate 0.8",
    "assignee_role": "customer_specialist", "assignee": "客服 王敏", "joint_role": None,
    "reminded_at": None, "late": False, "escalations": [], "result": None,
}
DONE_EXAMPLE = VISIT_EXAMPLE | {"status": "done", "result": {
    "method": "phone", "quality": 5, "effect": 5, "satisfaction": 5, "satisfied": True,
    "shortcomings": None, "suggestions": "希望维修前电话预约", "owner_confirmed": True,
    "by": "客服 王敏", "at": "2026-07-08T10:12:00+08:00", "defect_found": None,
    "new_repair_id": None}}


class Visit(Message):
    """A return visit (回访): its window, who makes it, whether it is late, its result."""

    model_config = ConfigDict(json_schema_extra={"examples": [VISIT_EXAMPLE, DONE_EXAMPLE]})
    id: str
    kind: VisitKind
    project: str
    building: str | None
    unit: str | None
    category: str | None
    repair_id: str | None
    complaint_id: str | None
    served_at: datetime = Field(description="The repair completed (its last `completed` "
                                "step) / the complaint handled: the window counts from it, "
                                "and the quarter it falls in counts the job.")
    opens_at: datetime
    closes_at: datetime
    status: VisitStatus
    selected_by: str = Field(description="Why it is visited or not: the rate, in-unit, all.")
    assignee_role: str
    assignee: str | None
    joint_role: str | None = Field(None, description=(
        "Who makes the visit together with `assignee_role`: an ordinary complaint's visit is "
        "made by the complained-of department's head with the customer center's specialist "
        "(被投诉部门主管与客户中心专员共同进行, 002 篇1 §4.1.3 b)."))
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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "policy": {"rates": {"repair": 0.8, "complaint": 1.0},
                                       "specialists": ["客服 王敏", "客服 李静"]},
        "updated_at": "2026-06-01T09:00:00+08:00"}]})
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
    model_config = ConfigDict(json_schema_extra={"examples": [{"visits": [VISIT_EXAMPLE]}]})
    visits: list[Visit]


class GetVisit(Scoped):
    visit_id: str = Field(min_length=1, max_length=80)


class RecordVisit(Scoped):
    visit_id: str = Field(min_length=1, max_length=80)
    result: VisitResult


class CheckVisit(Message):
    """The ReturnVisitWorkflow asks at a deadline: remind, mark late or escalate a visit
    still not made, or (`target` complaint, `visit_id` the complaint's id) a complaint still
    not answered (idempotent: a step done once is not done again)."""

    visit_id: str
    target: Literal["visit", "complaint"] = "visit"
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


COMPLAINT_EXAMPLE = {
    "id": "visit-repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08", "project": "SH-LJ",
    "unit": "1-1201", "subject": "LK-WET", "major": False,
    "source_visit_id": "repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08",
    "opened_at": "2026-07-08T10:12:00+08:00", "respond_by": "2026-07-09T10:12:00+08:00",
    "handled_at": "2026-07-09T15:00:00+08:00", "handled_by": "经理 孙强",
    "outcome": "重新维修并致歉，业主认可", "assignee_role": "manager", "late": True,
    "reminded_at": "2026-07-09T06:12:00+08:00",
    "escalations": [{"role": "property_director", "level": 1,
                     "at": "2026-07-09T10:12:00+08:00"}]}


class Complaint(Message):
    """A complaint (投诉), as opened by an unsatisfactory visit: answered (handled) by
    `respond_by` (24 hours by default, 004 紧急维修制度 §8.2), or late and escalated."""

    model_config = ConfigDict(json_schema_extra={"examples": [COMPLAINT_EXAMPLE]})
    id: str
    project: str
    unit: str | None
    subject: str
    major: bool
    source_visit_id: str | None
    opened_at: datetime
    respond_by: datetime = Field(description="The complaint is answered (handled) by then.")
    handled_at: datetime | None
    handled_by: str | None
    outcome: str | None
    assignee_role: str
    late: bool = Field(False, description="Not handled by `respond_by` (still open, or "
                                          "handled after it).")
    reminded_at: datetime | None = None
    escalations: list[Escalation] = Field(default_factory=list)


class GetComplaint(Scoped):
    complaint_id: str = Field(min_length=1, max_length=80)


class ListComplaints(Scoped):
    project: str | None = Field(None, min_length=1, max_length=32)
    include_handled: bool = False
    late_only: bool = False
    limit: int = Field(200, ge=1, le=1000)


class Complaints(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "complaints": [COMPLAINT_EXAMPLE]}]})
    complaints: list[Complaint]


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
    unit: str | None = Field(description="None: the place is a common area of the building.")
    common_area: str | None = None
    category: str
    repair_ids: list[str]
    owner: str
    detected_on: str
    due_on: str


class ComplaintResponsesRow(Message):
    """The quarter's complaints (by when they were opened) against their response time."""

    opened: int
    handled: int
    on_time: int
    late_handled: int
    overdue: int = Field(description="Not handled, and past `respond_by`.")
    pending: int
    late: int = Field(description="late_handled + overdue.")
    late_ids: list[str]


class RevisitFindingsRow(Message):
    """The repairs found by the quarter's revisits (by the revisit's day) against their due
    day (发现问题15日内解决): found = solved + solved_late + overdue + open."""

    found: int = 0
    solved: int = Field(0, description="Completed on or before due_on.")
    solved_late: int = 0
    overdue: int = Field(0, description="Not completed, and past due_on.")
    open: int = Field(0, description="Not completed, due_on not passed yet.")
    solved_ids: list[str] = Field(default_factory=list)
    solved_late_ids: list[str] = Field(default_factory=list)
    overdue_ids: list[str] = Field(default_factory=list)
    open_ids: list[str] = Field(default_factory=list)


class DeveloperFlagView(Message):
    project: str
    building: str | None
    category: str
    units: list[str]
    repair_ids: list[str]


class Statistics(Message):
    """A quarter of a project (季度回访统计)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "year": 2026, "quarter": 3,
        "starts": "2026-07-01T00:00:00+08:00", "ends": "2026-10-01T00:00:00+08:00",
        "kinds": [{"kind": "repair", "eligible": 40, "due": 32, "done": 31, "on_time": 30,
                   "late_done": 1, "overdue": 1, "pending": 0, "failed": 2, "rate": 0.75,
                   "target": 0.8, "met": False}],
        "failed_visits": ["repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"],
        "repeated_complaints": [],
        "corrective_actions": [{
            "id": "SH-LJ/1-1201/LK-WET/2026-08-14", "project": "SH-LJ", "building": "1",
            "unit": "1-1201", "category": "LK-WET",
            "repair_ids": ["5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"],
            "owner": "technical_department", "detected_on": "2026-08-14",
            "due_on": "2026-08-29"}],
        "developer_flags": [],
        "complaint_responses": {
            "opened": 3, "handled": 3, "on_time": 2, "late_handled": 1, "overdue": 0,
            "pending": 0, "late": 1,
            "late_ids": ["visit-repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"]},
        "revisit_findings": {
            "found": 2, "solved": 1, "solved_late": 0, "overdue": 1, "open": 0,
            "solved_ids": ["5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"], "solved_late_ids": [],
            "overdue_ids": ["7a1d2e4f-9b3c-4d5e-8f6a-1b2c3d4e5f60"], "open_ids": []}}]})
    project: str
    year: int
    quarter: int
    starts: datetime
    ends: datetime
    kinds: list[KindRow] = Field(description=(
        "Per kind, the jobs served in the quarter (a repair completed, a complaint handled: "
        "the quarter the sampler keeps the rate in), counted with every visit recorded so "
        "far, even those made after the quarter."))
    failed_visits: list[str]
    repeated_complaints: list[dict]
    corrective_actions: list[CorrectiveActionView]
    developer_flags: list[DeveloperFlagView]
    complaint_responses: ComplaintResponsesRow
    revisit_findings: RevisitFindingsRow = Field(default_factory=RevisitFindingsRow)


# --- planned quality revisits, certificates, retention ------------------------------------

RevisitKind = Literal["half_yearly", "quarterly", "seasonal", "expiry_notice"]
RevisitStatus = Literal["planned", "done"]
FindingState = Literal["open", "solved", "solved_late", "overdue"]
RepairId = Annotated[str, Field(min_length=1, max_length=36)]


class PlanRevisits(Scoped):
    """Plan a project's quality revisits of a year (年度工程质量回访计划) from its policy and
    the registry, and track its units' certificates. Planning a year again adds only what
    is missing; revisits already stored stay as they are."""

    project: str = Field(min_length=1, max_length=32)
    year: int = Field(ge=2000, le=2100)


REVISIT_EXAMPLE = {
    "id": 17, "project": "SH-LJ", "year": 2027, "kind": "expiry_notice",
    "due_on": "2027-11-18", "building": "1", "scope": "roof_leakage: every owner",
    "method": "letter", "reason": "屋面防水保修期将于2027-12-18届满，请业主及时报修",
    "status": "planned", "result": None, "done_at": None, "done_by": None,
    "found_repair_ids": [], "findings": []}
CERTIFICATE_EXAMPLE = {
    "project": "SH-LJ", "building": "1", "unit": "1-1201", "delivered_on": "2024-01-06",
    "due_on": "2024-02-06", "issued_on": None, "issued_by": None, "overdue": True}


class RevisitFinding(Message):
    """A repair a revisit found, to be solved (its work completed) by `due_on`."""

    repair_id: str
    due_on: date = Field(description="The revisit's day plus the policy's findings_days "
                                     "(发现问题15日内解决).")
    solved_at: datetime | None = Field(None, description="Its work's latest completion.")
    state: FindingState


class Revisit(Message):
    """One planned revisit: a task with a due day, a result and the repairs it found."""

    model_config = ConfigDict(json_schema_extra={"examples": [REVISIT_EXAMPLE]})

    id: int
    project: str
    year: int
    kind: RevisitKind
    due_on: date
    building: str
    scope: str
    method: str
    reason: str
    status: RevisitStatus
    result: str | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    found_repair_ids: list[str] = Field(default_factory=list)
    findings: list[RevisitFinding] = Field(default_factory=list, description=(
        "Each found repair against its due day, as of now."))


class RevisitPlan(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "year": 2027, "time_zone": "Asia/Shanghai", "added": 14,
        "revisits": [REVISIT_EXAMPLE], "certificates_missing": 1}]})
    project: str
    year: int
    time_zone: str
    added: int = Field(description="Revisits stored by this call (0 when planned before).")
    revisits: list[Revisit] = Field(description="All the year's revisits, soonest first.")
    certificates_missing: int = Field(description="Delivered units without a certificate.")


class ListRevisits(Scoped):
    project: str | None = Field(None, min_length=1, max_length=32)
    year: int | None = Field(None, ge=2000, le=2100)
    status: RevisitStatus | None = None
    due_before: date | None = None
    limit: int = Field(500, ge=1, le=2000)


class Revisits(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [{"revisits": [REVISIT_EXAMPLE]}]})
    revisits: list[Revisit]


class RecordRevisit(Scoped):
    """A revisit's result (回访记录), once."""

    revisit_id: int = Field(ge=1)
    result: str = Field(min_length=1, max_length=4000)
    by: str = Field(min_length=1, max_length=100)
    at: AwareDatetime
    found_repair_ids: list[RepairId] = Field(default_factory=list, max_length=100,
                                             description="Repairs reported from it.")


class IssueCertificate(Scoped):
    """A unit's warranty certificate and repair card were handed to its owner."""

    project: str = Field(min_length=1, max_length=32)
    building: str = Field(min_length=1, max_length=32)
    unit: str = Field(min_length=1, max_length=32)
    issued_on: date
    by: str | None = Field(None, min_length=1, max_length=100)


class Certificate(Message):
    """A unit's warranty certificate and repair card (保修证书/维修卡)."""

    model_config = ConfigDict(json_schema_extra={"examples": [CERTIFICATE_EXAMPLE]})
    project: str
    building: str
    unit: str
    delivered_on: date
    due_on: date = Field(description="One month after the building's completion (竣工一个月"
                                     "内, 002 篇4 §3); after delivery when it is not known.")
    issued_on: date | None
    issued_by: str | None = None
    overdue: bool = Field(description="Issued after due_on, or still not issued after it.")


class ListMissingCertificates(Scoped):
    project: str = Field(min_length=1, max_length=32)
    as_of: date | None = Field(None, description="Default: today in the project's zone.")
    overdue_only: bool = False


class Certificates(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "as_of": "2026-11-22", "certificates": [CERTIFICATE_EXAMPLE]}]})
    project: str
    as_of: date
    certificates: list[Certificate]


class ArchiveRecords(Scoped):
    """Archive what is past each project's retention (存档, default two years): made
    visits and revisits, handled complaints. Archived rows are kept, only no longer listed."""

    project: str | None = Field(None, min_length=1, max_length=32)
    as_of: AwareDatetime | None = Field(None, description="Default: now.")


class ArchivedProject(Message):
    project: str
    retention_years: int
    cutoff: datetime
    visits: int
    revisits: int
    complaints: int


class Archived(Message):
    as_of: datetime
    projects: list[ArchivedProject]
    total: int
