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
        if value == "02-29":  # a legal season is the same every year
            raise ValueError("02-29 is not in every year; a season bound must be, such as 02-28")
        month, day = (int(x) for x in value.split("-"))
        date(2023, month, day)  # rejects 02-30, 04-31
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
    """Equipment with the maker's own warranty: for the component categories it names
    (warranty categories or defect codes), else for its trade (elevator, fire, hvac...)."""

    trade: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    warranty_ends_on: date
    categories: list[str] = Field(default_factory=list, max_length=50,
                                  examples=[["elevators"], ["SAN-WARE"]])


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


# A project of the demo data (deploy/demo/demo.yaml), cut down to one building.
PROJECT_EXAMPLE = {
    "code": "SH-LJ", "name": "上海绿景花园", "city": "Shanghai", "time_zone": "Asia/Shanghai",
    "developer": "上海华信房地产开发有限公司", "group": "HX", "group_name": "华信置业集团",
    "heating_season": {"start": "12-01", "end": "02-28"},
    "cooling_season": {"start": "05-15", "end": "09-30"},
    "contract_terms": [{"warranty_category": "electrical_wiring", "layer": "developer",
                        "kind": "years", "count": 2,
                        "clause": "住宅质量保证书第八条：电气管线2年"}],
    "buildings": [{
        "code": "1", "name": "1号楼", "completion_accepted_on": "2023-06-30",
        "general_contractor": "上海建工一建集团",
        "subcontractors": {"waterproofing": "东方雨虹防水工程公司",
                           "doors_windows": "坚朗门窗公司"},
        "manufacturers": [{"trade": "elevator", "name": "上海三菱电梯有限公司",
                           "warranty_ends_on": "2028-06-30"}],
        "common_areas": [{"code": "LOBBY", "name": "1号楼大堂"},
                         {"code": "ROOF", "name": "1号楼屋面"}],
        "units": [
            {"code": "1-101", "delivered_on": "2023-12-18", "owner_name": "张伟",
             "owner_phone": "13800138001"},
            {"code": "1-1201", "delivered_on": "2024-01-06", "owner_name": "李娜",
             "owner_phone": "13700137003"},
        ],
    }],
}


class ProjectIn(ProjectBody):
    """`PUT /v1/projects/{code}` and `warranty.registry.put_project`: the whole project."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROJECT_EXAMPLE]})
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
    model_config = ConfigDict(json_schema_extra={"examples": [{"projects": [
        {"code": "SH-LJ", "name": "上海绿景花园", "city": "Shanghai", "group": "HX",
         "buildings": 2, "units": 5},
        {"code": "BJ-YH", "name": "北京颐和雅苑", "city": "Beijing", "group": "HX",
         "buildings": 2, "units": 3},
    ]}]})
    projects: list[ProjectSummary]


class ProjectSaved(Document):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "SH-LJ", "created": True, "buildings": 1, "units": 2, "common_areas": 2}]})
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

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"project": "SH-LJ", "building": "1", "unit": "1-1201", "category": "LK-WET",
         "reported_on": "2026-06-03", "cause": "unknown"}]})
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


_NOTE_2028 = ("the statutory calendar of 2028 is not published yet: only weekends counted as "
              "days off")
_WET_ROOMS = "《建设工程质量管理条例》第四十条第(二)项：有防水要求的卫生间、房间的防渗漏5年"
_DEVELOPER = "《商品房销售管理办法》第三十三条：不得低于施工单位向建设单位出具的保修期的存续期"


class WarrantyDecision(Document):
    # What the warranty service answers for DetermineWarranty's example.
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "project": "SH-LJ", "building": "1", "unit": "1-1201", "common_area": None,
        "category": "LK-WET", "warranty_category": "wet_room_leakage",
        "reported_on": "2026-06-03", "cause": "unknown", "completion_on": "2023-06-30",
        "completion_rule": "the day completion acceptance was passed (司法解释一第九条第(一)项)",
        "contractor": {"layer": "contractor", "starts_on": "2023-06-30",
                       "ends_on": "2028-06-30", "covered": True, "period_en": "5 years",
                       "period_zh": "5年", "rule": _WET_ROOMS, "notes": [_NOTE_2028]},
        "developer": {"layer": "developer", "starts_on": "2024-01-06",
                      "ends_on": "2028-06-30", "covered": True,
                      "period_en": "not shorter than the contractor's warranty",
                      "period_zh": "不短于施工单位保修期", "rule": _DEVELOPER,
                      "notes": [_NOTE_2028]},
        "covered": True, "chargeable": False, "liable_party": "subcontractor",
        "liable_party_name": "东方雨虹防水工程公司", "liability_confirmed": True,
        "delegate": True,
        "explanation_en": (
            "Kitchen or bathroom floor leakage at SH-LJ 1 1-1201, reported on 2026-06-03. "
            "Contractor's warranty: from completion on 2023-06-30, 5 years, until 2028-06-30: "
            f"in force ({_WET_ROOMS}). Developer's warranty to the buyer: from delivery on "
            "2024-01-06, not shorter than the contractor's warranty, until 2028-06-30: in "
            f"force ({_DEVELOPER}). Free repair under warranty; the specialty subcontractor "
            "(东方雨虹防水工程公司) is liable and the repair is handed to them."),
        "explanation_zh": (
            "SH-LJ项目1楼栋1-1201的厨卫地面渗漏，报修日期2026-06-03。施工单位保修期：自竣工日"
            f"2023-06-30起，5年，至2028-06-30止，在保修期内（{_WET_ROOMS}）。开发商对业主的保修期："
            "自交付日2024-01-06起，不短于施工单位保修期，至2028-06-30止，在保修期内"
            f"（{_DEVELOPER}）。属于保修范围，免费维修，由专业分包单位（东方雨虹防水工程公司）"
            "负责，转交其维修。"),
    }]})
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
    covered: bool = Field(description=(
        "Covered by the warranty: a period runs (a layer's, or the manufacturer's) and the "
        "cause is not one the warranty excludes (owner misuse or renovation, a third party, "
        "force majeure, wear)."))
    chargeable: bool
    liable_party: str
    liable_party_name: str | None
    liability_confirmed: bool
    delegate: bool
    explanation_en: str
    explanation_zh: str


class GetWarrantyExpiries(Document):
    """`warranty.registry.expiries`: per building of a project, its first handover and when
    each warranty category's contractor-layer period ends (the annual revisit plan's facts)."""

    project: str = Field(min_length=1, max_length=32)


class CategoryExpiry(Document):
    warranty_category: str
    period_kind: str = Field(description="years, months, heating_periods, cooling_periods, "
                                         "service_life or agreement.")
    ends_on: date | None = Field(description="The last covered day (inclusive); None when no "
                                             "end is known (as agreed, or no season set).")
    notes: list[str] = []


class UnitDelivery(Document):
    code: str
    delivered_on: date | None


class BuildingExpiries(Document):
    building: str
    completion_on: date | None
    delivered_on: date | None = Field(description="The first handover: the earliest unit "
                                                  "delivery or the common parts' handover.")
    units: list[UnitDelivery]
    categories: list[CategoryExpiry]


class WarrantyExpiries(Document):
    project: str
    time_zone: str
    buildings: list[BuildingExpiries]
