"""The public wire shapes of the intake API (`/v1`)."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.common.contracts import Channel, Priority

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalise_phone(value: str) -> str:
    """Mainland mobile (13800138000) or landline (021-12345678, 0755 1234 5678 ext.)."""
    compact = value.strip().replace(" ", "")
    if compact.startswith("+86"):
        compact = compact[3:].lstrip("-")
    if MOBILE.match(compact) or LANDLINE.match(compact):
        return compact
    raise ValueError("not a mainland mobile or landline number")


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
    reported_at: AwareDatetime | None = Field(
        None, description="When the owner called; defaults to the moment of receipt."
    )
    preferred_visit_at: AwareDatetime | None = Field(
        None, description="When the owner would like the visit, with its offset.")
    emergency: bool = Field(False, description="The caller says it is an emergency (紧急); "
                                               "some categories always are.")


class Deadlines(BaseModel):
    arrive_by: datetime
    arrive_rule: str


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(examples=["reported", "called_again", "overdue"])
    detail: str


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
        "within 20 minutes of receipt (003 §5.2, 004 §4.1.2.2)")},
    "workflow_id": f"repair-{REPAIR_ID}", "overdue": False, "duplicate_of": None,
    "repeat_calls": 0, "warranty": None, "timeline": None,
}
DUPLICATE_EXAMPLE = REPAIR_EXAMPLE | {"duplicate_of": REPAIR_ID, "repeat_calls": 1}
FOLLOWED_EXAMPLE = REPAIR_EXAMPLE | {"repeat_calls": 1, "timeline": [
    {"at": "2026-06-03T09:12:04+08:00", "kind": "reported",
     "detail": "hotline: 张伟 13800138001"},
    {"at": "2026-06-03T09:20:41+08:00", "kind": "called_again",
     "detail": "wechat: 王芳 13900139002: 楼上卫生间漏水，我家天花板在滴水"},
    {"at": "2026-06-03T09:25:13+08:00", "kind": "photo",
     "detail": f"/v1/repairs/{REPAIR_ID}/photos/9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64"},
]}


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
    status: str
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
    warranty: dict | None = Field(None, description="The warranty decision, once made.")
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
