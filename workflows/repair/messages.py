"""What goes in and out of `RepairWorkflow`: its input, the people's actions (updates), the
query result and the activities' arguments. One dataclass each, so every one can grow
fields (new fields get defaults: stored histories must still decode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def workflow_id(repair_id: str) -> str:
    """A retried start of the same repair is the same workflow."""
    return f"repair-{repair_id}"


class Status:
    """A repair's states, in the order a repair normally passes them."""

    REPORTED = "reported"  # 已受理
    OFFERED = "offered"  # 已派单, waiting for the technician to accept
    UNASSIGNED = "unassigned"  # nobody could be offered the repair yet
    DELEGATED = "delegated"  # 已转责任方: the liable party is to attend and repair
    ACCEPTED = "accepted"  # 已接单
    ARRIVED = "arrived"  # 已到场
    DIAGNOSED = "diagnosed"  # 已诊断
    QUOTED = "quoted"  # 报价待业主确认 (a paid repair)
    DISPUTED = "disputed"  # 业主对报价有异议, the housekeeper negotiates
    WAIVER_PENDING = "waiver_pending"  # 费用减免审批中
    COMPLETED = "completed"  # 已完工, waiting for the owner's acceptance
    CLOSED = "closed"  # 已验收
    CANCELLED = "cancelled"  # 已取消
    REFUSED = "refused"  # 业主拒绝付费, the service stopped

    ENDED = (CLOSED, CANCELLED, REFUSED)

    OPEN_FOR_WORK = (ACCEPTED, ARRIVED, DIAGNOSED)


@dataclass
class LifecyclePolicy:
    """The project's lifecycle settings the workflow needs (see services/common/
    service_levels.py for the whole policy and its sources). Seconds, for the JSON."""

    offer_seconds: int = 300
    rework_limit: int = 2
    escalation_chain: list[str] = field(default_factory=lambda: [
        "duty_leader", "engineering_manager", "property_director"])
    escalation_seconds: int = 3600
    emergency_escalation_seconds: int = 900
    arrive_seconds_within_hours: int = 1200
    arrive_seconds_outside_hours: int = 3600
    arrive_seconds_emergency: int = 600
    negotiate_seconds: int = 1800  # the housekeeper's negotiation of a disputed quote
    waiver_approve_seconds: int = 86400
    director_limit_fen: int = 50_000  # waivers under 500 yuan: the property director
    delegate_attend_seconds: int = 86400  # the liable party attends within 24 h (002 篇5)
    delegate_attend_seconds_emergency: int = 0  # at once (Order 80 Art. 9)
    # Assess on site within this long of arrival (emergency: 30 min, 004 紧急维修制度 §4.3);
    # None: no target (a routine repair, or a policy from before the target was watched).
    assess_seconds: int | None = None
    # The project's business calendar, to tell a new visit within working hours from one
    # outside them: its hours ("HH:MM") and its own days off and working days (ISO dates).
    working_hours: list[str] = field(default_factory=lambda: ["08:00", "17:30"])
    extra_days_off: list[str] = field(default_factory=list)
    extra_working_days: list[str] = field(default_factory=list)


@dataclass
class VisitDue:
    """When a new visit (a rework, a repair taken back) must arrive, asked at `start`."""

    start: datetime
    time_zone: str
    emergency: bool
    policy: LifecyclePolicy


@dataclass
class QuoteLine:
    """One standard service item (常规服务项目) of a paid repair; money in fen (分)."""

    code: str
    name: str
    quantity: int
    unit_price_fen: int


@dataclass
class Quote:
    """The price of a paid repair (有偿维修报价), from the project's standard items."""

    lines: list[QuoteLine]
    by: str

    @property
    def total_fen(self) -> int:
        return sum(line.quantity * line.unit_price_fen for line in self.lines)


@dataclass
class QuoteDecision:
    """The owner's answer to a quote: accept, refuse (the service stops) or dispute."""

    decision: str
    by: str
    note: str | None = None


@dataclass
class WaiverRequest:
    """Ask to waive some or all of a quote (费用减免), e.g. after a negotiation."""

    amount_fen: int
    reason: str
    by: str


@dataclass
class WaiverDecision:
    """An approver's answer; the role must be the one the amount requires (or above)."""

    approved: bool
    approver_role: str
    by: str
    note: str | None = None


@dataclass
class Guarantee:
    """An earlier repair of the same place and category whose guarantee (维修质保) runs:
    the owner accepted it at `accepted_at`; it is guaranteed until `ends_at` (exclusive:
    midnight after the last day). Both in the project's zone."""

    repair_id: str
    ticket: str
    accepted_at: datetime
    ends_at: datetime


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
    trade: str = ""
    emergency: bool = False
    finish_by: datetime | None = None
    policy: LifecyclePolicy = field(default_factory=LifecyclePolicy)
    guarantee: Guarantee | None = None
    # Respond (a technician takes it, or it is handed to the liable party) by then (004
    # 紧急维修制度 §4.2: 15 minutes); None for reports from before it was watched.
    respond_by: datetime | None = None


@dataclass
class RaisePriority:
    """The owner called again about an open repair, and now it is an emergency (紧急):
    the arrival deadline moves to `arrive_by` if that is sooner."""

    arrive_by: datetime
    by: str
    reason: str
    assess_seconds: int | None = None  # the emergency's assessment span, if it has one


@dataclass
class Accept:
    """The offered technician takes the repair (接单)."""

    technician_id: str
    at: datetime | None = None


@dataclass
class Decline:
    technician_id: str
    reason: str
    at: datetime | None = None


@dataclass
class Arrival:
    """The technician is on site (到场)."""

    technician_id: str
    arrived_at: datetime


@dataclass
class Diagnosis:
    """The cause confirmed on site and the plan (故障诊断, 维修方案)."""

    technician_id: str
    cause: str  # services.common.registry_contracts.Cause values
    plan: str
    materials: list[str] = field(default_factory=list)
    needs_appraisal: bool = False  # a hard case for the technical department (技术部鉴定)
    at: datetime | None = None
    quote: Quote | None = None  # for a paid repair, priced from the standard items
    # Cannot be fixed on site: the liable party is to repair it (转开发商/厂家处理).
    hand_over: bool = False


@dataclass
class Completion:
    """The work is done (完工): what was done and with what."""

    technician_id: str
    work_done: str
    materials: list[str] = field(default_factory=list)
    photo_ids: list[str] = field(default_factory=list)
    at: datetime | None = None


@dataclass
class OwnerAcceptance:
    """The owner inspects (验收): accepted closes the repair, rejected sends it back."""

    accepted: bool
    signed_by: str
    reason: str | None = None
    at: datetime | None = None
    # A rework by another technician (the dispatcher's call when the owner asks for one).
    another_technician: bool = False


@dataclass
class Reschedule:
    """An agreed visit time (预约上门时间) becomes the arrival deadline."""

    visit_at: datetime
    reason: str
    by: str


@dataclass
class Pause:
    """Waiting for parts or the owner (等待配件/业主): the finish clock stops."""

    reason: str
    by: str


@dataclass
class Resume:
    by: str


@dataclass
class Cancel:
    """Cancelled with a reason: duplicate, owner_withdrew, not_our_scope."""

    reason: str
    by: str
    note: str | None = None


@dataclass
class Step:
    """One entry of the repair's timeline, as the workflow saw it."""

    at: datetime
    kind: str
    by: str | None
    detail: str


@dataclass
class Escalated:
    deadline: str
    role: str
    level: int
    at: datetime


@dataclass
class PausedSpan:
    reason: str
    started_at: datetime
    ended_at: datetime | None = None


@dataclass
class RepairState:
    repair_id: str
    status: str
    arrive_by: datetime
    overdue: bool
    arrived_at: datetime | None
    technician_id: str | None
    offer_id: int | None = None
    offered_to: str | None = None
    finish_by: datetime | None = None
    reworks: int = 0
    warranty: dict | None = None
    warranty_outcome: str | None = None  # free, delegated, chargeable, undetermined
    quote: Quote | None = None
    quote_state: str | None = None  # quoted, accepted, disputed, refused, waived
    waiver: WaiverRequest | None = None
    waiver_approver: str | None = None
    escalations: list[Escalated] = field(default_factory=list)
    pauses: list[PausedSpan] = field(default_factory=list)
    timeline: list[Step] = field(default_factory=list)
    delegation_id: str | None = None  # the DelegationWorkflow of the liable party, if any
    liable_party_name: str | None = None
    priority: str | None = None
    respond_by: datetime | None = None
    assess_by: datetime | None = None


@dataclass
class OverdueNotice:
    """A deadline passed: which one, when it was due, when the workflow noticed."""

    repair_id: str
    deadline: str
    due_at: datetime
    noticed_at: datetime


@dataclass
class OfferRequest:
    """Ask dispatch for a technician: first (`assign`) or the next one (`next`)."""

    repair_id: str
    project: str
    trade: str
    at: datetime
    emergency: bool
    arrive_by: datetime
    next: bool = False
    timed_out: bool = False


@dataclass
class OfferResult:
    offer_id: int | None
    technician_id: str | None
    name: str | None
    rule: str
    available_from: datetime | None = None


@dataclass
class OfferAnswer:
    offer_id: int
    technician_id: str
    accept: bool
    reason: str | None = None


@dataclass
class WarrantyRequest:
    repair_id: str
    project: str
    building: str
    unit: str | None
    common_area: str | None
    category: str
    reported_at: datetime
    time_zone: str  # the day of the report is the project's local day
    cause: str = "unknown"


def warranty_outcome(decision: dict | None) -> str | None:
    """free (a warranty repair), delegated (to the liable party) or chargeable (paid)."""
    if decision is None:
        return None
    if decision.get("chargeable"):
        return "chargeable"
    return "delegated" if decision.get("delegate") else "free"


@dataclass
class Progress:
    """A step to publish as `repairs.status_changed.v1` (and `repairs.escalated.v1`)."""

    repair_id: str
    project: str
    sequence: int  # the workflow's own count: with the repair id, the event's message id
    status: str
    kind: str
    at: datetime
    by: str | None
    detail: str
    technician_id: str | None = None
    overdue: bool = False
    escalation_role: str | None = None
    reworks: int = 0
    warranty_outcome: str | None = None
    arrive_by: datetime | None = None
    finish_by: datetime | None = None
    warranty: dict | None = None  # the decision, on a `warranty_decided` step only
    quote_total_fen: int | None = None  # a paid repair's quote, its state and any waiver
    quote_state: str | None = None
    waived_fen: int | None = None
    overdue_notice: OverdueNotice | None = None  # `repairs.overdue.v1`, on an overdue step
