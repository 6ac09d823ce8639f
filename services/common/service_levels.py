"""A project's service-level policy (服务时限标准) as a document: shapes and defaults only.

It travels as JSON (HTTP, NATS, Temporal) and is written by staff as YAML, so durations are
plain numbers with their unit in the key (`{"minutes": 20}`, `{"working_days": 3}`). Every
default is the seeds' value where a seed gives one (see SOURCES and docs/service-levels.md);
the arithmetic lives in workflows/deadlines.py. Leave a field out to keep its default; write
`null` where a target may be absent to have no target at all.
"""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from typing import Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)
from typing_extensions import TypedDict  # pydantic needs it on Python 3.11

# Bounds keep a typo (minutes: 200000) from becoming a deadline nobody will ever see.
MAX_MINUTES = 7 * 24 * 60
MAX_HOURS = 366 * 24
MAX_WORKING_DAYS = 250  # about one year of working days


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetJson(TypedDict, total=False):
    """A target as it is written: only the keys given (for the serialization schema)."""

    minutes: int
    hours: int
    working_days: int
    immediately: Literal[True]
    outside_hours_minutes: int


class Target(Document):
    """One time limit: a wall-clock span, a number of working days (工作日), or at once.

    Exactly one of `minutes`, `hours`, `working_days`, `immediately` is given. A wall-clock
    span may name another span for a start outside working hours (`outside_hours_minutes`).
    """

    minutes: int | None = Field(None, ge=1, le=MAX_MINUTES)
    hours: int | None = Field(None, ge=1, le=MAX_HOURS)
    working_days: int | None = Field(None, ge=1, le=MAX_WORKING_DAYS)
    immediately: Literal[True] | None = None
    outside_hours_minutes: int | None = Field(
        None,
        ge=1,
        le=MAX_MINUTES,
        description="The span instead, when the clock starts outside working hours.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        given = [
            self.minutes is not None,
            self.hours is not None,
            self.working_days is not None,
            self.immediately is not None,
        ]
        if sum(given) != 1:
            raise ValueError("give exactly one of minutes, hours, working_days, immediately")
        if self.outside_hours_minutes is not None and self.minutes is None and self.hours is None:
            raise ValueError("outside_hours_minutes goes with minutes or hours only")
        return self

    @model_serializer(mode="wrap")
    def _only_what_is_given(self, handler: SerializerFunctionWrapHandler) -> TargetJson:
        # {"minutes": 20}, not five keys of which four are null: it reads like the YAML.
        given = {key: value for key, value in handler(self).items() if value is not None}
        return cast(TargetJson, given)

    def span(self, *, within_hours: bool = True) -> timedelta | None:
        """The wall-clock span, or None for a working-day target."""
        if not within_hours and self.outside_hours_minutes is not None:
            return timedelta(minutes=self.outside_hours_minutes)
        if self.minutes is not None:
            return timedelta(minutes=self.minutes)
        if self.hours is not None:
            return timedelta(hours=self.hours)
        if self.immediately:
            return timedelta(0)
        return None


class WorkingHours(Document):
    """Working hours (工作时间) on a working day, both ends included; default 08:00-17:30.

    Write times in quotes in YAML: unquoted 17:30 is read by YAML as the number 1050.
    """

    start: time = time(8, 0)
    end: time = time(17, 30)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _a_clock_time(cls, value: object) -> object:
        # pydantic would read a number as seconds after midnight: 1050 would become 00:17:30.
        if isinstance(value, int | float):
            raise ValueError('write the time as text, "HH:MM" (in YAML: quoted, "17:30")')
        return value

    @field_validator("start", "end")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        if value.tzinfo is not None or value.second or value.microsecond:
            raise ValueError("a clock time in whole minutes, without a zone, such as 08:00")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("working hours must end after they start, on the same day")
        return self

    @field_serializer("start", "end")
    def _as_hh_mm(self, value: time) -> str:
        return value.strftime("%H:%M")


class PriorityTargets(Document):
    """The four targets of one priority; None means no target.

    respond, arrive and finish count from receipt (finish from an agreed visit when there is
    one); assess counts from arrival.
    """

    respond: Target | None = None
    arrive: Target | None = None
    assess: Target | None = None
    finish: Target | None = None


class EmergencyTargets(PriorityTargets):
    """紧急: burst pipe, leak at a key place, power loss, lift failure, anything unsafe."""

    respond: Target | None = Target(minutes=15)
    arrive: Target | None = Target(minutes=10)
    assess: Target | None = Target(minutes=30)
    finish: Target | None = Target(hours=2)


class UrgentTargets(PriorityTargets):
    """Urgent: set by staff between an emergency and a routine repair (our defaults)."""

    respond: Target | None = Target(minutes=15)
    arrive: Target | None = Target(minutes=20, outside_hours_minutes=60)
    assess: Target | None = Target(minutes=30)
    finish: Target | None = Target(working_days=1)


class RoutineTargets(PriorityTargets):
    """日常: an ordinary repair; its response is the arrival itself (003 §5.2 sets only
    that), so it has no response target of its own."""

    respond: Target | None = None
    arrive: Target | None = Target(minutes=20, outside_hours_minutes=60)
    assess: Target | None = None
    finish: Target | None = Target(working_days=3)


class PlannedTargets(PriorityTargets):
    """计划性: work from a plan; the visit is agreed, so there is no arrival target."""

    respond: Target | None = None
    arrive: Target | None = None
    assess: Target | None = None
    finish: Target | None = Target(working_days=10)


class Targets(Document):
    """Targets per priority (the values of services.common.contracts.Priority)."""

    emergency: EmergencyTargets = EmergencyTargets()
    urgent: UrgentTargets = UrgentTargets()
    routine: RoutineTargets = RoutineTargets()
    planned: PlannedTargets = PlannedTargets()

    def of(self, priority: str) -> PriorityTargets:
        if priority not in type(self).model_fields:
            raise ValueError(f"unknown priority {priority!r}")
        return getattr(self, priority)


class Dispatching(Document):
    """How long an offer waits for a technician before the next one is tried."""

    offer_minutes: int = Field(5, ge=1, le=24 * 60)


class Rework(Document):
    """Reworks (返工) allowed before the repair goes to the technical department (技术部)."""

    limit: int = Field(2, ge=0, le=10)


class FeeWaiver(Document):
    """Who approves waiving a paid repair's fee (签免费用), and by when.

    Under `director_limit_yuan` the property director (物业总监) approves; that amount and
    over, a company leader (公司领导).
    """

    director_limit_yuan: int = Field(500, ge=1)
    approve: Target = Target(working_days=1)


class Delegation(Document):
    """How soon a liable party handed a repair (contractor, developer, maker) must attend."""

    attend: Target = Target(hours=24)
    attend_emergency: Target = Field(
        Target(immediately=True),
        description="For a defect touching structural safety or seriously affecting use.",
    )


class QuoteDispute(Document):
    """How long the housekeeper (管家) has to settle a quote the owner disputes."""

    negotiate: Target = Target(minutes=30)


class RepairGuarantee(Document):
    """Our own repair's guarantee (维修质保): the same problem at the same place within
    `months` of the owner's acceptance is repaired again free; 0: no guarantee."""

    months: int = Field(3, ge=0, le=24)


class EscalationRole(StrEnum):
    duty_leader = "duty_leader"  # 售后维修小组当日总负责人
    engineering_manager = "engineering_manager"  # 工程部经理
    property_director = "property_director"  # 物业总监
    company_leader = "company_leader"  # 公司领导


class Escalation(Document):
    """Who is told when a deadline passes (逐级上报), and how long each step waits."""

    chain: tuple[EscalationRole, ...] = Field(
        (
            EscalationRole.duty_leader,
            EscalationRole.engineering_manager,
            EscalationRole.property_director,
        ),
        min_length=1,
    )
    interval_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    emergency_interval_minutes: int = Field(15, ge=1, le=7 * 24 * 60)

    @field_validator("chain")
    @classmethod
    def _each_once(cls, chain: tuple[EscalationRole, ...]) -> tuple[EscalationRole, ...]:
        if len(set(chain)) != len(chain):
            raise ValueError("each role appears once in the chain")
        return chain


class ServiceLevelPolicy(Document):
    """A project's service levels (服务时限); the defaults are the seeds' (domain.md)."""

    working_hours: WorkingHours = WorkingHours()
    targets: Targets = Targets()
    complaint_respond: Target = Target(hours=24)
    dispatching: Dispatching = Dispatching()
    rework: Rework = Rework()
    fee_waiver: FeeWaiver = FeeWaiver()
    delegation: Delegation = Delegation()
    quote_dispute: QuoteDispute = QuoteDispute()
    repair_guarantee: RepairGuarantee = RepairGuarantee()
    escalation: Escalation = Escalation()

    @model_validator(mode="after")
    def _emergencies_escalate_faster(self) -> ServiceLevelPolicy:
        if self.escalation.emergency_interval_minutes > self.escalation.interval_minutes:
            raise ValueError("emergencies must not escalate more slowly than other repairs")
        return self


DEFAULT_POLICY = ServiceLevelPolicy()

OUR_DEFAULT = "our default"

# Where each default comes from: a seed section under ../shared/reference/seeds, or ours.
SOURCES: dict[str, str] = {
    "working_hours": "003 §5.2",
    "targets.emergency.respond": "004 紧急维修制度 §4.2",
    "targets.emergency.arrive": "001 §4.3.5",
    "targets.emergency.assess": "004 紧急维修制度 §4.3",
    "targets.emergency.finish": "004 紧急维修制度 §5.1",
    "targets.urgent.respond": OUR_DEFAULT,
    "targets.urgent.arrive": "003 §5.2, 004 §4.1.2.2",
    "targets.urgent.assess": OUR_DEFAULT,
    "targets.urgent.finish": OUR_DEFAULT,
    "targets.routine.respond": OUR_DEFAULT,
    "targets.routine.arrive": "003 §5.2, 004 §4.1.2.2",
    "targets.routine.assess": OUR_DEFAULT,
    "targets.routine.finish": OUR_DEFAULT,
    "targets.planned.respond": OUR_DEFAULT,
    "targets.planned.arrive": OUR_DEFAULT,
    "targets.planned.assess": OUR_DEFAULT,
    "targets.planned.finish": OUR_DEFAULT,
    "complaint_respond": "004 紧急维修制度 §8.2",
    "dispatching.offer_minutes": OUR_DEFAULT,
    "rework.limit": "000 §4.7, 002 篇1 §4.7",
    "fee_waiver.director_limit_yuan": "004 §4.1.4.4",
    "fee_waiver.approve": OUR_DEFAULT,
    "delegation.attend": "002 篇5",
    "delegation.attend_emergency": "Order 80 Art. 9 (房屋建筑工程质量保修办法 第九条)",
    "quote_dispute.negotiate": OUR_DEFAULT,
    "repair_guarantee.months": "004 紧急维修制度 §7",
    "escalation.chain": "003 §5.2, 004 §4.2.1.2, 004 §4.1.4.1",
    "escalation.interval_minutes": OUR_DEFAULT,
    "escalation.emergency_interval_minutes": OUR_DEFAULT,
}


def source_of(policy: ServiceLevelPolicy, path: str) -> str:
    """The reference for one setting: its seed section while it keeps the default."""
    mine: object = policy
    default: object = DEFAULT_POLICY
    for name in path.split("."):
        mine, default = getattr(mine, name), getattr(default, name)
    return SOURCES.get(path, OUR_DEFAULT) if mine == default else "the project's policy"
