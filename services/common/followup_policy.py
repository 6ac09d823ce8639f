"""A project's follow-up policy (回访制度) as a document: shapes and defaults only.

Return visits after a complaint, a repair or a service (回访), the share of jobs that must
get one (回访率), the quarterly count of repeated defects (走访回访统计), and the annual plan
of quality revisits (年度工程质量回访计划). Like the service levels it is written as YAML and
travels as JSON, so spans are plain numbers with their unit in the key. Every default is a
seed's where one gives it (see SOURCES); the arithmetic lives in visits.py, statistics.py
and plan.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

# Bounds keep a typo (closes_months: 120) from becoming a window nobody will ever see.
MAX_MONTHS = 24
MAX_DAYS = 366


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VisitKind(StrEnum):
    """What the return visit follows (002 篇1 §4.1.1)."""

    complaint = "complaint"  # 投诉回访
    repair = "repair"  # 维修回访
    special_service = "special_service"  # 特约服务回访
    other = "other"  # 其他管理服务的回访


class FollowupRole(StrEnum):
    customer_specialist = "customer_specialist"  # 客户专员
    center_supervisor = "center_supervisor"  # 客户中心主管
    department_head = "department_head"  # 被投诉部门主管 (the complained-of department's head)
    manager = "manager"  # 管理处经理
    property_director = "property_director"  # 物业总监
    company_leader = "company_leader"  # 公司领导
    technical_department = "technical_department"  # 技术部
    developer = "developer"  # 开发商 / 项目公司工程部


def _each_once(chain: tuple[FollowupRole, ...]) -> tuple[FollowupRole, ...]:
    if len(set(chain)) != len(chain):
        raise ValueError("each role appears once in the chain")
    return chain


# Who is told, in order, when a deadline passes; each role once.
Chain = Annotated[tuple[FollowupRole, ...], AfterValidator(_each_once)]


class RevisitMethod(StrEnum):
    """How a planned quality revisit is made (回访方式, 000 §3)."""

    phone = "phone"  # 电话
    letter = "letter"  # 信函
    visit = "visit"  # 走访


class Window(Document):
    """When a return visit may be made, counted in the project's calendar days and months
    from the end of the work: it opens on the day `opens_*` after and closes at the end of
    the day `closes_*` after (the day the work ended is day 0). Months first, then days."""

    opens_months: int = Field(0, ge=0, le=MAX_MONTHS)
    opens_days: int = Field(0, ge=0, le=MAX_DAYS)
    closes_months: int = Field(0, ge=0, le=MAX_MONTHS)
    closes_days: int = Field(0, ge=0, le=MAX_DAYS)

    @model_validator(mode="after")
    def _opens_before_it_closes(self) -> Window:
        # A month is 28 to 31 days, so only compare what holds for every start day: the
        # months between the two ends are worth at least 28 days each.
        spare_days = 28 * (self.closes_months - self.opens_months) + self.closes_days
        if self.closes_months < self.opens_months or spare_days < self.opens_days:
            raise ValueError("a window must not close before it opens")
        return self


class Windows(Document):
    """Return-visit windows per kind of work (回访时间安排)."""

    complaint: Window = Window(closes_days=3)
    repair: Window = Window(opens_months=1, closes_months=2)
    # Counted from the middle and from the end of the service contract: two visits.
    special_service: Window = Window(closes_days=7)
    other: Window = Window(closes_days=7)

    def of(self, kind: VisitKind) -> Window:
        return getattr(self, VisitKind(kind).value)


class Rates(Document):
    """The share of jobs that must get a return visit (回访率), 0 to 1."""

    complaint: float = Field(1.0, ge=0, le=1)
    repair: float = Field(0.8, ge=0, le=1)
    special_service: float = Field(0.8, ge=0, le=1)
    # Set by the center supervisor (由客户中心主管确认): none is required until they do.
    other: float = Field(0.0, ge=0, le=1)
    in_unit_repairs_all: bool = Field(
        False, description="Every repair in an owner's unit gets a visit (涉及业户的应为100%)."
    )

    def of(self, kind: VisitKind) -> float:
        return getattr(self, VisitKind(kind).value)


class LateVisit(Document):
    """A reminder before a window closes; who hears of a visit not made in time."""

    remind_before_days: int = Field(1, ge=1, le=31)
    # The supervisor arranges the visits (4.3); the manager hears if it stays undone.
    chain: Chain = Field(
        (FollowupRole.center_supervisor, FollowupRole.manager), min_length=1
    )
    interval_days: int = Field(1, ge=1, le=31)


class ComplaintResponse(Document):
    """A complaint is answered (handled) within `respond_hours` of being opened (接到投诉后
    24小时内给予回应, 004 紧急维修制度 §8.2); its handler is reminded `remind_before_hours`
    before (0: no reminder), and when it is late the chain hears of it, one role every
    `interval_hours`: above the manager who owns complaints (物业总监 → 公司领导)."""

    respond_hours: int = Field(24, ge=1, le=MAX_DAYS * 24)
    remind_before_hours: int = Field(4, ge=0, le=MAX_DAYS * 24)
    chain: Chain = Field(
        (FollowupRole.property_director, FollowupRole.company_leader), min_length=1
    )
    interval_hours: int = Field(24, ge=1, le=MAX_DAYS * 24)


class Repeats(Document):
    """What counts as a repeated defect in the quarterly statistics (002 篇1 §4.7).

    Occurrences are counted over `lookback_months` up to the end of the quarter, and a
    finding is reported in a quarter only when one of its occurrences falls in it: a
    repeat that straddles two quarters is still seen, and an old one is not reported again
    unless it happens again.
    """

    lookback_months: int = Field(12, ge=1, le=MAX_MONTHS)
    same_complaint: int = Field(2, ge=2)  # 连续就同一事项投诉两次以上
    same_repair: int = Field(3, ge=2)  # 同一种维修3次以上: same unit, same category
    building_units: int = Field(3, ge=2)  # distinct units of a building, same category
    project_units: int = Field(5, ge=2)  # distinct units of a project, same category
    # A failed visit (回访不合格): satisfaction at or under this on 1-5, or the owner says so.
    unsatisfied_at_most: int = Field(2, ge=1, le=4)
    corrective_days: int = Field(15, ge=1, le=MAX_DAYS)


class Retention(Document):
    """Visit records go to the office by a day of the next quarter and are kept (存档)."""

    archive_by_day: int = Field(10, ge=1, le=28)
    years: int = Field(2, ge=1, le=30)


class HalfYearly(Document):
    """The regular revisit of every building, due on the last day of each listed month."""

    enabled: bool = True
    months: tuple[int, ...] = (6, 12)
    after_warranty: bool = True
    method: RevisitMethod = RevisitMethod.visit

    @field_validator("months")
    @classmethod
    def _twice_a_year(cls, months: tuple[int, ...]) -> tuple[int, ...]:
        _check_months(months)
        if len(months) < 2:
            raise ValueError("at least twice a year (每年至少回访两次)")
        return tuple(sorted(months))


class Quarterly(Document):
    """Where a contract promises it: a revisit every three months during the warranty."""

    enabled: bool = False
    months: tuple[int, ...] = (3, 6, 9, 12)
    method: RevisitMethod = RevisitMethod.visit

    @field_validator("months")
    @classmethod
    def _months(cls, months: tuple[int, ...]) -> tuple[int, ...]:
        _check_months(months)
        return tuple(sorted(months))


class Seasonal(Document):
    """A look at roofs and walls before the rain and typhoon season (季节性回访).

    Due on the last day of `month`; April suits most of China (the main flood season runs
    May to September), a region with an earlier or later season sets its own.
    """

    enabled: bool = True
    month: int = Field(4, ge=1, le=12)
    categories: tuple[str, ...] = ("roof_leakage", "exterior_wall_leakage")
    method: RevisitMethod = RevisitMethod.visit


class ExpiryNotice(Document):
    """Before a warranty category of a building ends: tell every owner and revisit."""

    enabled: bool = True
    lead_days: int = Field(30, ge=1, le=MAX_DAYS)
    method: RevisitMethod = RevisitMethod.letter


class PlannedRevisits(Document):
    """The rhythms of the annual quality-revisit plan (年度工程质量回访计划)."""

    half_yearly: HalfYearly = HalfYearly()
    quarterly: Quarterly = Quarterly()
    seasonal: Seasonal = Seasonal()
    expiry_notice: ExpiryNotice = ExpiryNotice()
    # A problem a revisit finds is solved within this many days (发现问题15日内解决).
    findings_days: int = Field(15, ge=1, le=MAX_DAYS)


class FollowupPolicy(Document):
    """A project's follow-up rules (回访制度); the defaults are the seeds' (domain.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [
        {"rates": {"repair": 1.0, "in_unit_repairs_all": True},
         "specialists": ["客服 王敏", "客服 李静"]}]})

    windows: Windows = Windows()
    rates: Rates = Rates()
    late: LateVisit = LateVisit()
    complaints: ComplaintResponse = ComplaintResponse()
    repeats: Repeats = Repeats()
    retention: Retention = Retention()
    planned: PlannedRevisits = PlannedRevisits()
    # The project's customer specialists (客户专员): a visit goes to the one with the fewest
    # visits still to make. None named: visits wait for the center to hand them out.
    specialists: tuple[str, ...] = Field((), max_length=100)

    @field_validator("specialists")
    @classmethod
    def _named_once(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if any(not n.strip() or len(n) > 100 for n in names) or len(set(names)) != len(names):
            raise ValueError("specialists are distinct names of 1 to 100 characters")
        return names


def _check_months(months: tuple[int, ...]) -> None:
    if any(not 1 <= m <= 12 for m in months) or len(set(months)) != len(months):
        raise ValueError("months are distinct numbers from 1 to 12")


DEFAULT_POLICY = FollowupPolicy()

OUR_DEFAULT = "our default"

# Where each default comes from: a seed section under ../shared/reference/seeds, or ours.
SOURCES: dict[str, str] = {
    "windows.complaint": "002 篇1 §4.1.1 a)",
    "windows.repair": "002 篇1 §4.1.1 b)",
    "windows.special_service": "002 篇1 §4.1.1 c) (mid-term and end); 7 days: our default",
    "windows.other": "002 篇1 §4.1.1 f)",
    "rates.complaint": "002 篇1 §4.1.2 a)",
    "rates.repair": "002 篇1 §4.1.2 b) (004 §4.1.4.4: at least 60 %)",
    "rates.special_service": "002 篇1 §4.1.2 b)",
    "rates.other": "002 篇1 §4.1.2 d): set by the center supervisor; 0 until then",
    "rates.in_unit_repairs_all": "004 §4.1.4.4 (off by default: 002 does not ask it)",
    "late.remind_before_days": OUR_DEFAULT,
    "late.chain": "002 篇1 §4.3, §4.6",
    "late.interval_days": OUR_DEFAULT,
    # The same 24 hours as the service levels' complaint_respond (intake's store, which this
    # service does not read): set both when a project changes it.
    "complaints.respond_hours": "004 紧急维修制度 §8.2",
    "complaints.remind_before_hours": OUR_DEFAULT,
    "complaints.chain": "domain.md (escalations: property director, company leader); ours",
    "complaints.interval_hours": OUR_DEFAULT,
    "repeats.lookback_months": OUR_DEFAULT,
    "repeats.same_complaint": "002 篇1 §4.7",
    "repeats.same_repair": "002 篇1 §4.7",
    "repeats.building_units": OUR_DEFAULT,
    "repeats.project_units": OUR_DEFAULT,
    "repeats.unsatisfied_at_most": OUR_DEFAULT,
    "repeats.corrective_days": "ours, after 002 篇5's 15 days for revisit findings",
    "retention.archive_by_day": "002 篇1 §4.8",
    "retention.years": "002 篇1 §4.8",
    "planned.half_yearly": "000 §3 (保修外每半年), 002 篇3 §二.2(4), 002 篇4 §1",
    "planned.quarterly": "002 篇5 (保修期内每三个月)",
    "planned.seasonal": "002 篇3 §二.1(1); the month: our default",
    "planned.expiry_notice": "002 篇3 §二.1(3); 30 days: our default",
    "planned.findings_days": "002 篇5 (发现问题15日内解决)",
}
