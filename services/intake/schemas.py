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
    unit: str | None = Field(None, min_length=1, max_length=32)
    common_area: str | None = Field(None, min_length=1, max_length=32)
    reporter: Reporter
    channel: Channel
    category: str = Field(min_length=1, max_length=32)
    description: str = Field(min_length=1, max_length=4000)
    reported_at: AwareDatetime | None = Field(
        None, description="When the owner called; defaults to the moment of receipt."
    )
    preferred_visit_at: AwareDatetime | None = None
    emergency: bool = False


class Deadlines(BaseModel):
    arrive_by: datetime
    arrive_rule: str


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(examples=["reported", "called_again", "overdue"])
    detail: str


class RepairView(BaseModel):
    """A repair as the call center sees it."""

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
    repairs: list[RepairView]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; absent on the last page.")


class IntakeSettingsIn(BaseModel):
    """A project's intake policy."""

    model_config = ConfigDict(extra="forbid")
    duplicate_window_hours: int = Field(
        72, ge=1, le=24 * 365,
        description="An open repair of the same place and category reported within this "
                    "many hours absorbs a new report instead of a second repair.")
