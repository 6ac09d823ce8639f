"""Wire shapes of the registry: how a property group describes its projects."""

from __future__ import annotations

from datetime import date
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommonAreaIn(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)


class UnitIn(Strict):
    code: str = Field(pattern=CODE)
    delivered_on: date | None = None
    owner_name: str | None = Field(None, max_length=100)
    owner_phone: str | None = Field(None, max_length=32)


class BuildingIn(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    completion_accepted_on: date | None = None
    units: list[UnitIn] = []
    common_areas: list[CommonAreaIn] = []


class ProjectIn(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    time_zone: str = "Asia/Shanghai"
    developer: str | None = None
    buildings: list[BuildingIn] = []

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value


class GroupIn(Strict):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    projects: list[ProjectIn] = []
