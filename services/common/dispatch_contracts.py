"""Dispatch's messages: its teams, technicians, rosters and working hours as documents, and
the questions the lifecycle and the call center ask it (who goes, who is next, who leads
today). Shapes only; the rules live in services/dispatch."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
OFFER_ID_MAX = 2**63 - 1  # a PostgreSQL bigint
DISPATCH_ASSIGNED = "dispatch.assigned.v1"
DISPATCH_ACCEPTED = "dispatch.accepted.v1"
DISPATCH_DECLINED = "dispatch.declined.v1"
DISPATCH_TIMED_OUT = "dispatch.timed_out.v1"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Scoped(Message):
    """A command made for a caller whose API key covers some projects only."""

    within: list[str] | None = Field(
        None, description="Only these projects' data (the caller's API-key scope); absent "
                          "means unrestricted.")


def _plausible(moment: datetime) -> datetime:
    """A dispatch moment within this century: rosters are looked up a month either side."""
    if not datetime(2000, 1, 1, tzinfo=UTC) <= moment <= datetime(2100, 1, 1, tzinfo=UTC):
        raise ValueError("must be between 2000 and 2100")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


class Trade(StrEnum):
    """The trades (工种) a repair needs; every defect category maps to one."""

    plumbing = "plumbing"
    electrical = "electrical"
    waterproofing = "waterproofing"
    doors_windows = "doors_windows"
    hvac = "hvac"
    elevator = "elevator"
    fire = "fire"
    low_voltage = "low_voltage"
    civil = "civil"
    decoration = "decoration"
    facade = "facade"
    landscaping = "landscaping"


class TeamKind(StrEnum):
    property_engineering = "property_engineering"  # 物业工程部
    developer_after_sales = "developer_after_sales"  # 开发商售后维修小组
    contractor = "contractor"  # 总包/专业分包
    manufacturer = "manufacturer"  # 厂家


# Examples for the OpenAPI page, from the demo data (deploy/demo/demo.yaml).
TEAM_EXAMPLE = {"id": "SH-ENG", "name": "绿景花园物业工程部", "kind": "property_engineering",
                "projects": ["SH-LJ"]}
CONTRACTOR_TEAM_EXAMPLE = {"id": "YH-WP", "name": "东方雨虹维修队", "kind": "contractor",
                           "party_name": "东方雨虹防水工程公司", "projects": ["SH-LJ"]}
TECHNICIAN_EXAMPLE = {"id": "T-SH-01", "name": "马建国", "phone": "13811110001",
                      "team": "SH-ENG", "trades": ["plumbing", "waterproofing", "hvac"],
                      "projects": ["SH-LJ"], "day_shift": True, "max_open_orders": 3}
REPAIR_ID_EXAMPLE = "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"
OFFER_RULE_EXAMPLE = ("on shift (08:00-17:30 on a working day); serves SH-LJ; trade "
                      "waterproofing; fewest open orders (0) among 2 able")
OFFER_EXAMPLE = {"offer_id": 311, "repair_id": REPAIR_ID_EXAMPLE, "technician_id": "T-SH-01",
                 "state": "offered", "offered_at": "2026-06-03T09:12:06+08:00",
                 "arrive_by": "2026-06-03T09:32:04+08:00", "reason": None,
                 "rule": OFFER_RULE_EXAMPLE}


class TeamIn(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [TEAM_EXAMPLE,
                                                              CONTRACTOR_TEAM_EXAMPLE]})
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=100)
    kind: TeamKind
    party_name: str | None = Field(
        None, max_length=200,
        description="For a contractor's or manufacturer's team: the company, as the registry "
                    "names it, so that delegated repairs find it.")
    projects: list[str] = Field(min_length=1)


class TechnicianIn(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [TECHNICIAN_EXAMPLE]})
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=32)
    team: str = Field(pattern=ID)
    trades: list[Trade] = Field(min_length=1)
    projects: list[str] = Field(min_length=1)
    day_shift: bool = Field(True, description="Works the project's working hours.")
    max_open_orders: int = Field(3, ge=1, le=50)


class ProjectHoursIn(Message):
    """A project's working hours and calendar exceptions, as dispatch uses them."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"project": "SH-LJ", "time_zone": "Asia/Shanghai", "day_start": "08:00:00",
         "day_end": "17:30:00", "extra_days_off": ["2026-08-14"],
         "extra_working_days": ["2026-09-26"]}]})
    project: str = Field(pattern=ID)
    time_zone: str = "Asia/Shanghai"
    day_start: time = time(8, 0)
    day_end: time = time(17, 30)
    extra_days_off: list[date] = []
    extra_working_days: list[date] = []

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value


class OnCallIn(Message):
    technician: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class LeaveIn(Message):
    technician: str
    first_day: date
    last_day: date


class DutyLeaderIn(Message):
    day: date
    technician: str


class RosterIn(Message):
    """A team's on-call rota, leave and duty leaders (当日总负责人); replaced as a whole."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "team": "SH-ENG",
        "on_call": [{"technician": "T-SH-04", "starts_at": "2026-06-03T17:30:00+08:00",
                     "ends_at": "2026-06-04T08:00:00+08:00"}],
        "leave": [{"technician": "T-SH-02", "first_day": "2026-06-08",
                   "last_day": "2026-06-10"}],
        "duty_leaders": [{"day": "2026-06-03", "technician": "T-SH-01"}],
    }]})
    team: str = Field(pattern=ID)
    on_call: list[OnCallIn] = []
    leave: list[LeaveIn] = []
    duty_leaders: list[DutyLeaderIn] = []


# The documents above are also what GETs return and imports read, so the scope rides on
# these subclasses: the same JSON plus `within`, which intake sets from the caller's key.


class PutTeam(TeamIn, Scoped):
    """`dispatch.teams.put`: a team, on behalf of a caller."""


class PutTechnician(TechnicianIn, Scoped):
    """`dispatch.technicians.put`: a technician, on behalf of a caller."""


class PutRoster(RosterIn, Scoped):
    """`dispatch.rosters.put`: a team's roster, on behalf of a caller."""


class PutHours(ProjectHoursIn, Scoped):
    """`dispatch.hours.put`: a project's working hours; the project must be within."""


class Saved(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "SH-ENG",
                                                               "created": True}]})
    id: str
    created: bool


class ListTeams(Scoped):
    project: str | None = None


class Teams(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"teams": [TEAM_EXAMPLE, CONTRACTOR_TEAM_EXAMPLE]}]})
    teams: list[TeamIn]


class GetRoster(Scoped):
    team: str


class FindTechnicians(Scoped):
    project: str | None = None
    trade: Trade | None = None


class TechnicianList(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [{"technicians": [
        TECHNICIAN_EXAMPLE,
        {"id": "T-ALL-01", "name": "何立新", "phone": "13811110006", "team": "HX-AS",
         "trades": ["waterproofing", "facade", "decoration"], "projects": ["SH-LJ", "BJ-YH"],
         "day_shift": True, "max_open_orders": 3},
    ]}]})
    technicians: list[TechnicianIn]


class AssignRepair(Scoped):
    """Offer a repair to the best technician now (the lifecycle's `dispatch.assign`)."""

    repair_id: str = Field(min_length=1, max_length=36)
    project: str = Field(min_length=1, max_length=32)
    trade: Trade
    at: Moment
    emergency: bool = False
    delegate_to: str | None = Field(None, max_length=200)
    arrive_by: AwareDatetime | None = None


class NextCandidate(Scoped):
    """After a decline or an unanswered offer: the next technician, skipping those tried."""

    repair_id: str = Field(min_length=1, max_length=36)
    at: Moment
    timed_out: bool = Field(False, description="The open offer was not answered in time.")


class Assignment(Message):
    # Someone offered the repair; or nobody can go now, and from when someone can.
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"repair_id": REPAIR_ID_EXAMPLE, "offer_id": 311, "technician_id": "T-SH-01",
         "name": "马建国", "phone": "13811110001", "rule": OFFER_RULE_EXAMPLE,
         "available_from": None},
        {"repair_id": REPAIR_ID_EXAMPLE, "offer_id": None, "technician_id": None,
         "name": None, "phone": None, "rule": "nobody is on shift or on call now",
         "available_from": "2026-06-04T08:00:00+08:00"},
    ]})
    repair_id: str
    offer_id: int | None
    technician_id: str | None
    name: str | None
    phone: str | None
    rule: str
    available_from: datetime | None = None


class RespondToOffer(Scoped):
    offer_id: int = Field(ge=1, le=OFFER_ID_MAX)
    technician_id: str = Field(min_length=1, max_length=32)
    accept: bool
    reason: str | None = Field(None, max_length=500)


class Offer(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [
        OFFER_EXAMPLE | {"state": "accepted"},
        OFFER_EXAMPLE | {"state": "declined", "reason": "正在处理另一起紧急维修"},
    ]})
    offer_id: int
    repair_id: str
    technician_id: str
    state: Literal["offered", "accepted", "declined", "timed_out"]
    offered_at: datetime
    arrive_by: datetime | None
    reason: str | None
    rule: str


class Orders(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"technician_id": "T-SH-01", "orders": [OFFER_EXAMPLE]}]})
    technician_id: str
    orders: list[Offer]


class RemoveTechnician(Scoped):
    technician_id: str


class RemoveTeam(Scoped):
    team: str


class Removed(Message):
    id: str


class CloseRepair(Scoped):
    """The repair ended (closed, cancelled, refused), or its technician is released (a
    rework by another, a handover to the liable party): its offers stop counting as open
    work, and the next `assign` offers it afresh to someone not tried yet."""

    repair_id: str = Field(min_length=1, max_length=36)
    at: Moment
    outcome: str = Field(min_length=1, max_length=32)


class RepairClosed(Message):
    repair_id: str
    offers_closed: int


class TechnicianOrders(Scoped):
    technician_id: str


class WhoLeads(Scoped):
    team: str
    day: date


class DutyLeader(Message):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"team": "HX-AS", "day": "2026-06-03", "technician_id": "T-ALL-01", "name": "何立新",
         "phone": "13811110006"}]})
    team: str
    day: date
    technician_id: str
    name: str
    phone: str


class DispatchEvent(Message):
    """`dispatch.assigned|accepted|declined|timed_out.v1`."""

    repair_id: str
    offer_id: int
    technician_id: str
    at: datetime
    reason: str | None = None


DISPATCH_SUBJECTS = {
    "assign": "dispatch.assign", "next": "dispatch.next", "respond": "dispatch.offers.respond",
    "duty_leader": "dispatch.duty_leader", "orders": "dispatch.technicians.orders",
    "put_team": "dispatch.teams.put", "list_teams": "dispatch.teams.list",
    "put_technician": "dispatch.technicians.put", "find_technicians": "dispatch.technicians.find",
    "put_roster": "dispatch.rosters.put", "get_roster": "dispatch.rosters.get",
    "put_hours": "dispatch.hours.put", "remove_technician": "dispatch.technicians.remove",
    "remove_team": "dispatch.teams.remove", "close_repair": "dispatch.repairs.close",
}
