"""The public wire shapes of the intake API (`/v1`)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from services.common.contracts import Channel, Priority
from services.common.service_levels import ServiceLevelPolicy

MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-.()（）]")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
# "010-88776655-123": a dash or space after a whole local number starts the extension.
_TRAILING_EXTENSION = re.compile(r"^(.*\d{7,8})[\s\-]+(\d{1,6})$")


def normalise_phone(value: str) -> str:
    """A mainland number in one form, however it was typed: a mobile as its 11 digits
    (`13800138000`), a landline as area code, number and extension (`021-62345678`,
    `0755-1234567-801`). Accepts spaces, dashes, dots, brackets, `+86`/`0086`, the
    international landline form without the trunk 0 (`+86 21 62345678`) and extensions
    written `-801`, `转801`, `ext 801`, `x801` or `#801`."""
    text, extension = unicodedata.normalize("NFKC", value).strip(), None  # full-width digits
    if found := _EXTENSION.search(text):
        text, extension = text[:found.start()], found.group(1)
    elif found := _TRAILING_EXTENSION.match(text):
        text, extension = found.group(1), found.group(2)
    digits = _SEPARATORS.sub("", text)
    international = digits.startswith(("+86", "0086"))
    if international:
        digits = digits.removeprefix("+86").removeprefix("0086")
    elif digits.startswith("86") and MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if not digits.isascii() or not digits.isdigit():
        raise PydanticCustomError("invalid_phone", "not a mainland mobile or landline number")
    if MOBILE.fullmatch(digits) and extension is None:
        return digits
    if international and not digits.startswith("0"):
        digits = "0" + digits
    # 010 and 02x are the three-digit area codes (eight-digit numbers); the others are
    # four digits (seven- or eight-digit numbers).
    if digits.startswith(("010", "02")):
        area, number, lengths = digits[:3], digits[3:], (8,)
    elif re.fullmatch(r"0[3-9]\d{2}", digits[:4]):
        area, number, lengths = digits[:4], digits[4:], (7, 8)
    else:
        raise PydanticCustomError("invalid_phone", "not a mainland mobile or landline number")
    if len(number) not in lengths:
        raise PydanticCustomError("invalid_phone", "not a mainland mobile or landline number")
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def plausible(moment: datetime) -> datetime:
    """A moment from 2000 to a year from now: anything else is a typo (and would overflow
    the date arithmetic of deadlines and of the database)."""
    if not EARLIEST <= moment <= datetime.now(UTC) + timedelta(days=366):
        raise PydanticCustomError("implausible_time",
                                  "must be from 2000 to a year from now: a typo?")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(plausible)]


class Reporter(BaseModel):
    """Who called (报修人): the owner, a tenant or staff."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(max_length=32)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)


class ReportRepair(BaseModel):
    """`POST /v1/repairs`: a defect reported by an owner or found by staff."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True,
        json_schema_extra={"examples": [{
            "project": "SH-LJ", "building": "1", "unit": "1-1201",
            "reporter": {"name": "张伟", "phone": "13800138001"}, "channel": "hotline",
            "category": "LK-WET", "description": "卫生间地面渗水到楼下",
        }]},
    )
    project: str = Field(min_length=1, max_length=32)
    building: str = Field(min_length=1, max_length=32)
    unit: str | None = Field(None, min_length=1, max_length=32,
                             description="The unit (房号), e.g. `1-1201`; or give `common_area`.")
    common_area: str | None = Field(
        None, min_length=1, max_length=32,
        description="A common area (公共区域) of the building, e.g. `LOBBY`, instead of a unit.")
    reporter: Reporter
    channel: Channel
    category: str = Field(min_length=1, max_length=32,
                          description="A defect category code, e.g. `LK-WET` (厨卫地面渗漏).")
    description: str = Field(min_length=1, max_length=4000)
    reported_at: Moment | None = Field(
        None, description="When the owner called; defaults to the moment of receipt."
    )
    preferred_visit_at: Moment | None = Field(
        None, description="When the owner would like the visit, with its offset.")
    emergency: bool = Field(False, description="The caller says it is an emergency (紧急); "
                                               "some categories always are.")
    priority: Literal["routine", "urgent", "planned"] | None = Field(None, description=(
        "The center's classification (分类) when it is not an emergency: `routine` (日常, the "
        "default), `urgent` (set by staff, between an emergency and a routine repair) or "
        "`planned` (计划性: work at the agreed `preferred_visit_at`, which becomes the "
        "arrival deadline). An emergency flag or an emergency category wins."))


class Deadlines(BaseModel):
    arrive_by: datetime
    arrive_rule: str
    finish_by: datetime | None = Field(
        None, description="When the work must be done (完工时限), as set at the report; "
                          "None where the project sets no target.")
    finish_rule: str | None = None
    respond_by: datetime | None = Field(
        None, description="When a technician must have taken it, or the liable party have "
                          "been handed it (响应时限); None where the project sets no target.")
    respond_rule: str | None = None


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(examples=["reported", "called_again", "offered", "accepted", "overdue"])
    detail: str
    by: str | None = Field(None, description="Who acted, for a step someone took.")
    technician_id: str | None = Field(
        None, description="The technician of the step: offered, assigned or acting.")


# Examples for the OpenAPI page: the report of ReportRepair's example as it comes back, then
# as GET shows it after a second call and a photo (tests/unit/intake/test_openapi.py checks
# that they validate).
REPAIR_ID = "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"
REPAIR_EXAMPLE = {
    "id": REPAIR_ID, "ticket": "SH-LJ-000128", "project": "SH-LJ", "building": "1",
    "unit": "1-1201", "common_area": None, "category": "LK-WET", "channel": "hotline",
    "priority": "routine", "status": "reported",
    "reporter": {"name": "张伟", "phone": "13800138001"}, "description": "卫生间地面渗水到楼下",
    "reported_at": "2026-06-03T09:12:04+08:00", "received_at": "2026-06-03T09:12:04+08:00",
    "preferred_visit_at": None,
    "deadlines": {"arrive_by": "2026-06-03T09:32:04+08:00", "arrive_rule": (
        "routine: receipt within working hours (08:00-17:30 on a working day), so arrive "
        "within 20 minutes of receipt (003 §5.2, 004 §4.1.2.2)"),
        "finish_by": "2026-06-08T17:30:00+08:00", "finish_rule": (
        "routine: finish within 3 working days (工作日) of receipt: the day of receipt (Wed "
        "2026-06-03) is not counted; the 3rd working day after it on the project's calendar "
        "is Mon 2026-06-08, due at the end of its working hours (17:30) (our default)")},
    "workflow_id": f"repair-{REPAIR_ID}", "overdue": False, "duplicate_of": None,
    "repeat_calls": 0, "trade": "waterproofing", "assignee": None, "reworks": 0,
    "warranty_outcome": None, "warranty": None, "repair_guarantee": None, "timeline": None,
}
DUPLICATE_EXAMPLE = REPAIR_EXAMPLE | {"duplicate_of": REPAIR_ID, "repeat_calls": 1}
FOLLOWED_EXAMPLE = REPAIR_EXAMPLE | {
    "status": "arrived", "assignee": "T-SH-02", "warranty_outcome": "delegated",
    "repeat_calls": 1, "timeline": [
        {"at": "2026-06-03T09:12:04+08:00", "kind": "reported",
         "detail": "hotline: 张伟 13800138001"},
        {"at": "2026-06-03T09:12:05+08:00", "kind": "warranty_decided", "by": None,
         "technician_id": None, "detail": "delegated: within the 5-year waterproofing period"},
        {"at": "2026-06-03T09:12:06+08:00", "kind": "offered", "by": None,
         "technician_id": "T-SH-02", "detail": "李强 (T-SH-02): on shift, fewest open orders"},
        {"at": "2026-06-03T09:14:30+08:00", "kind": "accepted", "by": "T-SH-02",
         "technician_id": "T-SH-02", "detail": "took the repair"},
        {"at": "2026-06-03T09:20:41+08:00", "kind": "called_again",
         "detail": "wechat: 王芳 13900139002: 楼上卫生间漏水，我家天花板在滴水"},
        {"at": "2026-06-03T09:25:13+08:00", "kind": "photo",
         "detail": f"/v1/repairs/{REPAIR_ID}/photos/9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64"},
        {"at": "2026-06-03T09:29:52+08:00", "kind": "arrived", "by": "T-SH-02",
         "technician_id": "T-SH-02", "detail": "on site"},
    ]}


class RepairGuaranteeView(BaseModel):
    """An earlier repair of the same place and category still under its guarantee (维修质保):
    the same problem is repaired again free unless the technician finds a cause that is not
    that repair's fault (misuse, renovation, a third party, force majeure)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "repair_id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "ticket": "SH-LJ-000031",
        "accepted_at": "2026-04-20T16:05:00+08:00", "guaranteed_through": "2026-07-20"}]})
    repair_id: str
    ticket: str
    accepted_at: datetime = Field(description="When the owner accepted that repair.")
    guaranteed_through: date = Field(description="The guarantee's last day (the project's "
                                                 "`repair_guarantee.months` after).")


class RepairView(BaseModel):
    """A repair as the call center sees it."""

    model_config = ConfigDict(json_schema_extra={"examples": [REPAIR_EXAMPLE, FOLLOWED_EXAMPLE]})
    id: str
    ticket: str
    project: str
    building: str
    unit: str | None
    common_area: str | None
    category: str
    channel: Channel
    priority: Priority
    status: str = Field(description="Where the repair is (reported, offered, accepted, "
                                    "arrived, diagnosed, completed, closed, cancelled...), "
                                    "followed from its workflow, a moment behind it.")
    reporter: Reporter
    description: str
    reported_at: datetime
    received_at: datetime
    preferred_visit_at: datetime | None
    deadlines: Deadlines
    workflow_id: str
    overdue: bool = Field(False, description="A deadline passed without its step.")
    duplicate_of: str | None = Field(
        None, description="Set when this report was folded into an open repair of the same "
                          "place and category: that repair's id (the one returned).")
    repeat_calls: int = Field(0, description="Further reports attached to this repair.")
    trade: str | None = Field(None, description="The trade the defect needs (工种), from its "
                                                "category.")
    assignee: str | None = Field(None, description="The technician who accepted the repair.")
    reworks: int = Field(0, description="Times the owner rejected the work (返工).")
    warranty_outcome: str | None = Field(
        None, description="`free` (warranty repair), `delegated` (to the liable party), "
                          "`chargeable` (the owner pays) or `undetermined`, once decided.")
    warranty: dict | None = Field(None, description=(
        "The warranty decision once the workflow has made it (made again with the cause the "
        "technician confirms), as `POST /v1/warranty/determinations` answers: both layers "
        "with their end dates, `covered`, `chargeable`, `liable_party` and the explanation "
        "in English and Chinese to read to the owner."))
    repair_guarantee: RepairGuaranteeView | None = Field(
        None, description="Set when the report came within an earlier repair's guarantee.")
    timeline: list[TimelineEntry] | None = Field(
        None, description="What happened, oldest first (on GET /v1/repairs/{id}).")


class RepairPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "repairs": [REPAIR_EXAMPLE],
        "next_cursor": "MjAyNi0wNi0wM1QwMToxMjowNCswMDowMHw1ZjBjOWE1Mi0zZDFlLTRiOGEtOWMzZi0y"
                       "YTdlNmQxYjRjMDg",
    }]})
    repairs: list[RepairView]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; absent on the last page.")


class IntakeSettingsIn(BaseModel):
    """A project's intake policy."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"duplicate_window_hours": 72}]})
    duplicate_window_hours: int = Field(
        72, ge=1, le=24 * 365,
        description="An open repair of the same place and category reported within this "
                    "many hours absorbs a new report instead of a second repair.")


# docs/service-levels.md's example: what a call-center integrator sends.
SERVICE_LEVELS_EXAMPLE = {
    "working_hours": {"start": "08:30", "end": "17:30"},
    "targets": {"routine": {"finish": {"working_days": 5}, "respond": None},
                "emergency": {"arrive": {"minutes": 15}}},
    "dispatching": {"offer_minutes": 7},
    "fee_waiver": {"director_limit_yuan": 1000},
    "escalation": {"chain": ["duty_leader", "engineering_manager", "property_director",
                             "company_leader"], "interval_minutes": 30},
}


class ServiceLevels(ServiceLevelPolicy):
    """A project's service levels (服务时限, docs/service-levels.md): leave a setting out to
    keep its default; `null` for no target."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        SERVICE_LEVELS_EXAMPLE,
        ServiceLevelPolicy.model_validate(SERVICE_LEVELS_EXAMPLE).model_dump(mode="json")]})
