"""What goes in and out of `DelegationWorkflow`: its input, the actions (updates), the query
and result, and its event (`repairs.delegation.v1`). Dataclasses for Temporal; new fields
get defaults, so that stored histories still decode."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import AwareDatetime

# One subject for every step of a delegation; the REPAIRS stream (`repairs.>`) keeps it.
from services.common.contracts import REPAIR_DELEGATION, Contract  # noqa: F401 - re-exported

DAY_SECONDS = 24 * 3600  # 002 篇5: the contractor enters the site within 24 h of the notice
REMIND_SECONDS = 4 * 3600
REMIND_SECONDS_EMERGENCY = 15 * 60
ESCALATION_SECONDS = 3600  # the parent's defaults (LifecyclePolicy)
ESCALATION_SECONDS_EMERGENCY = 15 * 60


def workflow_id(repair_id: str, round: int = 0) -> str:
    """The repair's delegation; a rework after the liable party's repair is a new round
    (its events' message ids count on the pair)."""
    return f"delegation-{repair_id}" + (f"-{round}" if round else "")


class LiableParty:
    """Who a repair can be handed to (services.warranty.determination.LiableParty)."""

    DEVELOPER = "developer"  # 开发商
    GENERAL_CONTRACTOR = "general_contractor"  # 总包
    SUBCONTRACTOR = "subcontractor"  # 专业分包
    MANUFACTURER = "manufacturer"  # 厂家 / 安装单位

    ALL = (DEVELOPER, GENERAL_CONTRACTOR, SUBCONTRACTOR, MANUFACTURER)


class Status:
    NOTIFIED = "notified"  # 已发保修通知, waiting for the liable party on site
    EXPIRED = "expired"  # 逾期未到场: the developer may have another party repair
    ATTENDED = "attended"  # 已到场
    REPAIRED = "repaired"  # 已修复 (the owner's acceptance is the parent's)
    BACK_CHARGED = "back_charged"  # 另行委托维修, 费用由责任方承担
    WITHDRAWN = "withdrawn"  # 已撤回: the repair no longer needs it

    FINISHED = (REPAIRED, BACK_CHARGED, WITHDRAWN)


@dataclass
class DelegationInput:
    """None takes the default for an ordinary or an emergency delegation: attend within
    24 h or at once (Order 80 Art. 9: structural safety or use seriously affected), remind
    every 4 h or 15 min before that, escalate every 60 or 15 min after it."""

    repair_id: str
    project: str
    liable_party: str  # LiableParty
    liable_party_name: str
    emergency: bool = False
    attend_seconds: int | None = None  # 0: at once
    remind_seconds: int | None = None
    escalation_chain: list[str] = field(default_factory=lambda: [
        "duty_leader", "engineering_manager", "property_director"])
    escalation_seconds: int | None = None
    summary: str = ""  # what the notice says: place, defect, ticket
    round: int = 0  # 0 the first handover; n after the owner's n-th rejection of the work

    def attend_within(self) -> int:
        if self.attend_seconds is not None:
            return self.attend_seconds
        return 0 if self.emergency else DAY_SECONDS

    def remind_every(self) -> int:
        if self.remind_seconds is not None:
            return self.remind_seconds
        return REMIND_SECONDS_EMERGENCY if self.emergency else REMIND_SECONDS

    def escalate_every(self) -> int:
        if self.escalation_seconds is not None:
            return self.escalation_seconds
        return ESCALATION_SECONDS_EMERGENCY if self.emergency else ESCALATION_SECONDS


@dataclass
class Attendance:
    """The liable party is on site (到场); `at` defaults to now."""

    by: str
    at: datetime | None = None


@dataclass
class EmergencyMeasures:
    """The property's own team acts while waiting (应急处理: shut a valve, cordon off)."""

    by: str
    what: str


@dataclass
class Repaired:
    """The liable party's repair is done (维修完成); the owner's acceptance follows."""

    by: str
    work_done: str
    at: datetime | None = None


@dataclass
class AnotherParty:
    """After expiry the developer has another party repair at the liable party's cost
    (Order 80 Art. 12: 另行委托维修, 费用由原施工单位承担)."""

    party_name: str
    by: str
    reason: str = ""


@dataclass
class Withdrawal:
    by: str
    reason: str


@dataclass
class Step:
    """One entry of the delegation's timeline."""

    at: datetime
    kind: str
    by: str | None
    detail: str


@dataclass
class Escalation:
    role: str
    level: int
    at: datetime


@dataclass
class EmergencyMeasure:
    by: str
    what: str
    at: datetime


@dataclass
class BackCharge:
    """Who pays for whose work, since when and why (费用追偿)."""

    liable_party: str
    liable_party_name: str
    other_party: str
    assigned_by: str
    assigned_at: datetime
    attend_by: datetime  # the deadline the liable party missed
    reason: str


@dataclass
class DelegationState:
    repair_id: str
    status: str
    liable_party: str
    liable_party_name: str
    emergency: bool
    notified_at: datetime
    attend_by: datetime
    attended_at: datetime | None = None
    attended_by: str | None = None
    late: bool = False
    reminders: int = 0
    repaired_at: datetime | None = None
    escalations: list[Escalation] = field(default_factory=list)
    emergency_measures: list[EmergencyMeasure] = field(default_factory=list)
    back_charge: BackCharge | None = None
    timeline: list[Step] = field(default_factory=list)


@dataclass
class DelegationResult:
    outcome: str  # repaired, back_charged or withdrawn
    attended_at: datetime | None
    repaired_at: datetime | None
    back_charge: BackCharge | None
    late: bool = False
    emergency_measures: list[EmergencyMeasure] = field(default_factory=list)
    repaired_by: str | None = None
    work_done: str | None = None


@dataclass
class DelegationNews:
    """What the parent repair is told (signal `delegation_step`): the liable party attended,
    or its deadline expired."""

    kind: str  # attended, expired
    at: datetime
    by: str | None
    detail: str
    late: bool = False


@dataclass
class DelegationProgress:
    """A step to publish as `repairs.delegation.v1`."""

    repair_id: str
    project: str
    sequence: int  # with the repair id, the event's message id
    status: str
    kind: str
    at: datetime
    by: str | None
    detail: str
    liable_party: str
    liable_party_name: str
    late: bool = False
    escalation_role: str | None = None
    other_party: str | None = None
    round: int = 0


class RepairDelegationStep(Contract):
    """A step of a repair's delegation to the liable party, in order (`sequence` from 1)."""

    repair_id: str
    project: str
    sequence: int
    status: str
    kind: str  # notice, reminder, expired, escalated, attended, emergency_measures, ...
    at: AwareDatetime
    by: str | None
    detail: str
    liable_party: str
    liable_party_name: str
    late: bool = False
    escalation_role: str | None = None
    other_party: str | None = None
    round: int = 0
