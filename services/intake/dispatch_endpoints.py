"""Teams, technicians, rosters, working hours and offers over HTTP; intake forwards each to
the dispatch service, which owns them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.common.dispatch_contracts import (
    DISPATCH_SUBJECTS,
    OFFER_ID_MAX,
    Assignment,
    AssignRepair,
    DutyLeader,
    FindTechnicians,
    GetRoster,
    ListTeams,
    Offer,
    Orders,
    ProjectHoursIn,
    PutHours,
    PutRoster,
    PutTeam,
    PutTechnician,
    Removed,
    RemoveTeam,
    RemoveTechnician,
    RespondToOffer,
    RosterIn,
    Saved,
    TeamIn,
    Teams,
    TechnicianIn,
    TechnicianList,
    TechnicianOrders,
    Trade,
    WhoLeads,
)
from services.common.errors import Rejection
from services.intake import repository
from services.intake.auth import Authorized
from services.intake.endpoints import Rt

router = APIRouter(tags=["dispatch"])
TeamId = Annotated[str, Path(description="A team's id.", examples=["SH-ENG"])]
TechnicianId = Annotated[str, Path(description="A technician's id.", examples=["T-SH-01"])]
ProjectCode = Annotated[str, Path(description="A project's code.", examples=["SH-LJ"])]
ProjectFilter = Annotated[str | None, Query(description="Only this project's.",
                                            examples=["SH-LJ"])]


def _same(path_value: str, body_value: str, field: str) -> None:
    if path_value != body_value:
        raise Rejection(f"{field}_mismatch", f"The body's {field} {body_value!r} is not "
                        f"{path_value!r}.", f"请求体中的{field}“{body_value}”与路径不一致。",
                        field, 422)


async def _put(rt: Rt, name: str, command: BaseModel, response: Response) -> Saved:
    saved = await rt.bus.ask(DISPATCH_SUBJECTS[name], command, Saved)
    response.status_code = status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK
    return saved


@router.put("/v1/teams/{team_id}", response_model=Saved, summary="Create or replace a team")
async def put_team(team_id: TeamId, team: TeamIn, rt: Rt, caller: Authorized,
                   response: Response) -> Saved:
    _same(team_id, team.id, "id")
    return await _put(rt, "put_team", PutTeam(**team.model_dump(), within=await caller.within()),
                      response)


@router.get("/v1/teams", response_model=Teams, summary="Teams, optionally of one project")
async def list_teams(rt: Rt, caller: Authorized, project: ProjectFilter = None) -> Teams:
    """A team serving several projects shows to a key that has any of them."""
    if project is not None:
        await caller.require(project)
    return await rt.bus.ask(DISPATCH_SUBJECTS["list_teams"],
                            ListTeams(project=project, within=await caller.within()), Teams)


@router.put("/v1/technicians/{technician_id}", response_model=Saved,
            summary="Create or replace a technician")
async def put_technician(technician_id: TechnicianId, technician: TechnicianIn, rt: Rt,
                         caller: Authorized, response: Response) -> Saved:
    _same(technician_id, technician.id, "id")
    return await _put(rt, "put_technician", PutTechnician(
        **technician.model_dump(), within=await caller.within()), response)


@router.get("/v1/technicians", response_model=TechnicianList,
            summary="Technicians, by project and trade")
async def find_technicians(rt: Rt, caller: Authorized, project: ProjectFilter = None,
                           trade: Trade | None = None) -> TechnicianList:
    if project is not None:
        await caller.require(project)
    return await rt.bus.ask(DISPATCH_SUBJECTS["find_technicians"], FindTechnicians(
        project=project, trade=trade, within=await caller.within()), TechnicianList)


@router.get("/v1/technicians/{technician_id}/orders", response_model=Orders,
            summary="A technician's open work, newest deadline first")
async def technician_orders(technician_id: TechnicianId, rt: Rt, caller: Authorized) -> Orders:
    return await rt.bus.ask(DISPATCH_SUBJECTS["orders"], TechnicianOrders(
        technician_id=technician_id, within=await caller.within()), Orders)


@router.delete("/v1/technicians/{technician_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a technician (kept, inactive, for the history of their offers)")
async def remove_technician(technician_id: TechnicianId, rt: Rt, caller: Authorized) -> Response:
    await rt.bus.ask(DISPATCH_SUBJECTS["remove_technician"], RemoveTechnician(
        technician_id=technician_id, within=await caller.within()), Removed)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/v1/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a team without technicians")
async def remove_team(team_id: TeamId, rt: Rt, caller: Authorized) -> Response:
    await rt.bus.ask(DISPATCH_SUBJECTS["remove_team"],
                     RemoveTeam(team=team_id, within=await caller.within()), Removed)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/v1/teams/{team_id}/roster", response_model=Saved,
            summary="Replace a team's on-call rota, leave and duty leaders")
async def put_roster(team_id: TeamId, roster: RosterIn, rt: Rt, caller: Authorized) -> Saved:
    _same(team_id, roster.team, "team")
    return await rt.bus.ask(DISPATCH_SUBJECTS["put_roster"], PutRoster(
        **roster.model_dump(), within=await caller.within()), Saved)


@router.get("/v1/teams/{team_id}/roster", response_model=RosterIn, summary="A team's roster")
async def get_roster(team_id: TeamId, rt: Rt, caller: Authorized) -> RosterIn:
    return await rt.bus.ask(DISPATCH_SUBJECTS["get_roster"],
                            GetRoster(team=team_id, within=await caller.within()), RosterIn)


@router.get("/v1/teams/{team_id}/duty-leader", response_model=DutyLeader,
            summary="Who leads the team's reports on a day (default today)")
async def duty_leader(
    team_id: TeamId, rt: Rt, caller: Authorized,
    day: Annotated[date | None, Query(description="Default: today.",
                                      examples=["2026-06-03"])] = None,
) -> DutyLeader:
    return await rt.bus.ask(DISPATCH_SUBJECTS["duty_leader"], WhoLeads(
        team=team_id, day=day or date.today(), within=await caller.within()), DutyLeader)


@router.put("/v1/projects/{code}/hours", response_model=Saved,
            summary="A project's working hours and calendar exceptions")
async def put_hours(code: ProjectCode, hours: ProjectHoursIn, rt: Rt, caller: Authorized,
                    response: Response) -> Saved:
    _same(code, hours.project, "project")
    await caller.require(code)
    return await _put(rt, "put_hours", PutHours(**hours.model_dump(),
                                                within=await caller.within()), response)


OfferId = Annotated[int, Path(ge=1, le=OFFER_ID_MAX, description="From the assignment.",
                              examples=[311])]


class Body(BaseModel):
    """HTTP shapes strip whitespace as the contracts they become do."""

    model_config = ConfigDict(str_strip_whitespace=True)


class Decline(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"technician_id": "T-SH-01", "reason": "正在处理另一起紧急维修"}]})
    technician_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500, examples=["正在处理另一起紧急维修"])


class Accept(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"technician_id": "T-SH-01"}]})
    technician_id: str = Field(min_length=1, max_length=32)


@router.post("/v1/offers/{offer_id}/accept", response_model=Offer,
             summary="A technician accepts an offered repair")
async def accept_offer(offer_id: OfferId, body: Accept, rt: Rt, caller: Authorized) -> Offer:
    return await rt.bus.ask(DISPATCH_SUBJECTS["respond"], RespondToOffer(
        offer_id=offer_id, technician_id=body.technician_id, accept=True,
        within=await caller.within()), Offer)


@router.post("/v1/offers/{offer_id}/decline", response_model=Offer,
             summary="A technician declines an offered repair, saying why")
async def decline_offer(offer_id: OfferId, body: Decline, rt: Rt, caller: Authorized
                        ) -> Offer:
    return await rt.bus.ask(DISPATCH_SUBJECTS["respond"], RespondToOffer(
        offer_id=offer_id, technician_id=body.technician_id, accept=False,
        reason=body.reason, within=await caller.within()), Offer)


class AssignBody(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"repair_id": "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08", "project": "SH-LJ",
         "trade": "waterproofing", "emergency": False}]})
    repair_id: str = Field(min_length=1, max_length=36)
    project: str = Field(min_length=1, max_length=32)
    trade: Trade
    at: AwareDatetime | None = None
    emergency: bool = False
    delegate_to: str | None = Field(None, max_length=200)


@router.post("/v1/dispatch/assignments", response_model=Assignment,
             summary="Offer a repair to the technician who should go now")
async def assign(who: AssignBody, rt: Rt, caller: Authorized) -> Assignment:
    """What the repair workflow asks dispatch; a retry for the same repair returns the same
    offer while it is open."""
    await caller.require(who.project, status=422)
    async with rt.sessions() as session:
        repair = await repository.get_repair(session=session, repair_id=who.repair_id)
    if repair is not None:  # one of ours: the key must see it, and it names its project
        if not await caller.may(repair.project):
            raise Rejection("repair_not_found", f"No repair {who.repair_id!r}.",
                            f"没有编号为“{who.repair_id}”的报修单。", "repair_id", 404)
        if repair.project != who.project:
            raise Rejection(
                "repair_of_another_project",
                f"Repair {who.repair_id!r} is not of project {who.project!r}.",
                f"报修单“{who.repair_id}”不属于项目“{who.project}”。", "repair_id", 422)
    return await rt.bus.ask(DISPATCH_SUBJECTS["assign"], AssignRepair(
        repair_id=who.repair_id, project=who.project, trade=who.trade,
        at=who.at or datetime.now(UTC), emergency=who.emergency, delegate_to=who.delegate_to,
        within=await caller.within()), Assignment)
