"""The property registry as exchanged between intake, tools and the warranty service:
a project document (项目档案) with its buildings, units, parties and contract terms, and the
warranty determination's request and answer. Shapes only; the rules live in warranty."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SeasonIn(Document):
    """A legal heating or cooling season as month-days, e.g. 11-15 to 03-15."""

    start: str = Field(examples=["11-15"])
    end: str = Field(examples=["03-15"])

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not MONTH_DAY.match(value):
            raise ValueError("must be MM-DD, such as 11-15")
        month, day = (int(x) for x in value.split("-"))
        date(2024, month, day)  # rejects 02-30, 04-31 (2024: 02-29 allowed)
        return value


class PeriodKindIn(StrEnum):
    years = "years"
    months = "months"
    heating_periods = "heating_periods"
    cooling_periods = "cooling_periods"


class ContractTermIn(Document):
    """A contract clause lengthening one layer's period of one warranty category."""

    warranty_category: str
    layer: Literal["contractor", "developer"]
    kind: PeriodKindIn
    count: int = Field(ge=1, le=100)
    clause: str = Field(min_length=1, max_length=200, examples=["购房合同第十二条"])


class CategoryIn(Document):
    """A group's own defect category, mapped to a warranty category and a trade."""

    code: str = Field(pattern=CODE)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    trade: str = Field(min_length=1, max_length=32)
    warranty_category: str
    always_emergency: bool = False


class ManufacturerIn(Document):
    """Equipment with the maker's own warranty, by trade (elevator, fire, hvac...)."""

    trade: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    warranty_ends_on: date


class CommonAreaIn(Document):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)


class UnitIn(Document):
    code: str = Field(pattern=CODE)
    delivered_on: date | None = None
    owner_name: str | None = Field(None, max_length=100)
    owner_phone: str | None = Field(None, max_length=32)


class BuildingIn(Document):
    """A building with its completion dates and the parties liable for its works."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    completion_accepted_on: date | None = None
    completion_reported_on: date | None = None
    acceptance_delayed_by_developer: bool = False
    possession_on: date | None = None
    design_service_life_years: int = Field(50, ge=1, le=200)
    general_contractor: str | None = Field(None, max_length=200)
    subcontractors: dict[str, str] = Field(default_factory=dict,
                                           examples=[{"waterproofing": "东方雨虹"}])
    manufacturers: list[ManufacturerIn] = []
    common_areas_delivered_on: date | None = None
    units: list[UnitIn] = []
    common_areas: list[CommonAreaIn] = []


class ProjectBody(Document):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    time_zone: str = "Asia/Shanghai"
    developer: str | None = Field(None, max_length=200)
    jurisdiction: str = "CN"
    heating_season: SeasonIn | None = Field(
        None, description="Default: the city's legal season where known (Beijing, Harbin...).")
    cooling_season: SeasonIn | None = None
    count_season_in_progress: bool = False
    period_convention: Literal["civil_code", "start_day_counted"] = "civil_code"
    extra_days_off: list[date] = []
    extra_working_days: list[date] = []
    contract_terms: list[ContractTermIn] = []
    categories: list[CategoryIn] = []
    buildings: list[BuildingIn] = []

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value


class ProjectIn(ProjectBody):
    """`PUT /v1/projects/{code}` and `warranty.registry.put_project`: the whole project."""

    group: str = Field(pattern=CODE)
    group_name: str | None = Field(None, max_length=200)


class GroupIn(Document):
    """A registry file: one group and its projects (YAML)."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    projects: list[ProjectBody] = []

    def project_documents(self) -> list[ProjectIn]:
        return [ProjectIn(**p.model_dump(), group=self.code, group_name=self.name)
                for p in self.projects]


class GetProject(Document):
    code: str


class ListProjects(Document):
    group: str | None = None


class ProjectSummary(Document):
    code: str
    name: str
    city: str
    group: str
    buildings: int
    units: int


class ProjectList(Document):
    projects: list[ProjectSummary]


class ProjectSaved(Document):
    code: str
    created: bool
    buildings: int
    units: int
    common_areas: int


class Cause(StrEnum):
    """What caused the defect, when known (原因)."""

    construction_defect = "construction_defect"
    design_defect = "design_defect"
    owner_misuse = "owner_misuse"
    owner_renovation = "owner_renovation"
    third_party = "third_party"
    force_majeure = "force_majeure"
    wear = "wear"
    unknown = "unknown"


class DetermineWarranty(Document):
    """`warranty.determine` and `POST /v1/warranty/determinations`."""

    project: str = Field(min_length=1, max_length=32)
    building: str = Field(min_length=1, max_length=32)
    unit: str | None = Field(None, description="Absent for a common area.")
    common_area: str | None = None
    category: str = Field(min_length=1, max_length=32)
    reported_on: date
    cause: Cause = Cause.unknown


class LayerView(Document):
    layer: Literal["contractor", "developer"]
    starts_on: date | None
    ends_on: date | None = Field(description="Inclusive, to 24:00 in the project's zone.")
    covered: bool
    period_en: str
    period_zh: str
    rule: str
    notes: list[str]


class WarrantyDecision(Document):
    project: str
    building: str
    unit: str | None
    common_area: str | None
    category: str
    warranty_category: str
    reported_on: date
    cause: Cause
    completion_on: date
    completion_rule: str
    contractor: LayerView
    developer: LayerView
    covered: bool
    chargeable: bool
    liable_party: str
    liable_party_name: str | None
    liability_confirmed: bool
    delegate: bool
    explanation_en: str
    explanation_zh: str
