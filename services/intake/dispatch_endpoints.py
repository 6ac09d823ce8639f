"""Teams, technicians, rosters, working hours and offers over HTTP; intake forwards each to
the dispatch service, which owns them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
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
from services.intake.endpoints import Rt

router = APIRouter(tags=["dispatch"])


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
async def put_team(team_id: str, team: TeamIn, rt: Rt, response: Response) -> Saved:
    _same(team_id, team.id, "id")
    return await _put(rt, "put_team", team, response)


@router.get("/v1/teams", response_model=Teams, summary="Teams, optionally of one project")
async def list_teams(rt: Rt, project: str | None = None) -> Teams:
    return await rt.bus.ask(DISPATCH_SUBJECTS["list_teams"], ListTeams(project=project), Teams)


@router.put("/v1/technicians/{technician_id}", response_model=Saved,
            summary="Create or replace a technician")
async def put_technician(technician_id: str, technician: TechnicianIn, rt: Rt,
                         response: Response) -> Saved:
    _same(technician_id, technician.id, "id")
    return await _put(rt, "put_technician", technician, response)


@router.get("/v1/technicians", response_model=TechnicianList,
            summary="Technicians, by project and trade")
async def find_technicians(rt: Rt, project: str | None = None,
                           trade: Trade | None = None) -> TechnicianList:
    return await rt.bus.ask(DISPATCH_SUBJECTS["find_technicians"],
                            FindTechnicians(project=project, trade=trade), TechnicianList)


@router.get("/v1/technicians/{technician_id}/orders", response_model=Orders,
            summary="A technician's open work, newest deadline first")
async def technician_orders(technician_id: str, rt: Rt) -> Orders:
    return await rt.bus.ask(DISPATCH_SUBJECTS["orders"],
                            TechnicianOrders(technician_id=technician_id), Orders)


@router.delete("/v1/technicians/{technician_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a technician (kept, inactive, for the history of their offers)")
async def remove_technician(technician_id: str, rt: Rt) -> Response:
    await rt.bus.ask(DISPATCH_SUBJECTS["remove_technician"],
                     RemoveTechnician(technician_id=technician_id), Removed)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/v1/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a team without technicians")
async def remove_team(team_id: str, rt: Rt) -> Response:
    await rt.bus.ask(DISPATCH_SUBJECTS["remove_team"], RemoveTeam(team=team_id), Removed)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/v1/teams/{team_id}/roster", response_model=Saved,
            summary="Replace a team's on-call rota, leave and duty leaders")
async def put_roster(team_id: str, roster: RosterIn, rt: Rt) -> Saved:
    _same(team_id, roster.team, "team")
    return await rt.bus.ask(DISPATCH_SUBJECTS["put_roster"], roster, Saved)


@router.get("/v1/teams/{team_id}/roster", response_model=RosterIn, summary="A team's roster")
async def get_roster(team_id: str, rt: Rt) -> RosterIn:
    return await rt.bus.ask(DISPATCH_SUBJECTS["get_roster"], GetRoster(team=team_id), RosterIn)


@router.get("/v1/teams/{team_id}/duty-leader", response_model=DutyLeader,
            summary="Who leads the team's reports on a day (default today)")
async def duty_leader(team_id: str, rt: Rt, day: date | None = None) -> DutyLeader:
    return await rt.bus.ask(DISPATCH_SUBJECTS["duty_leader"],
                            WhoLeads(team=team_id, day=day or date.today()), DutyLeader)


@router.put("/v1/projects/{code}/hours", response_model=Saved,
            summary="A project's working hours and calendar exceptions")
async def put_hours(code: str, hours: ProjectHoursIn, rt: Rt, response: Response) -> Saved:
    _same(code, hours.project, "project")
    return await _put(rt, "put_hours", hours, response)


OfferId = Annotated[int, Path(ge=1, le=OFFER_ID_MAX)]


class Body(BaseModel):
    """HTTP shapes strip whitespace as the contracts they become do."""

    model_config = ConfigDict(str_strip_whitespace=True)


class Decline(Body):
    technician_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500, examples=["正在处理另一起紧急维修"])


class Accept(Body):
    technician_id: str = Field(min_length=1, max_length=32)


@router.post("/v1/offers/{offer_id}/accept", response_model=Offer,
             summary="A technician accepts an offered repair")
async def accept_offer(offer_id: OfferId, body: Accept, rt: Rt) -> Offer:
    return await rt.bus.ask(DISPATCH_SUBJECTS["respond"], RespondToOffer(
        offer_id=offer_id, technician_id=body.technician_id, accept=True), Offer)


@router.post("/v1/offers/{offer_id}/decline", response_model=Offer,
             summary="A technician declines an offered repair, saying why")
async def decline_offer(offer_id: OfferId, body: Decline, rt: Rt) -> Offer:
    return await rt.bus.ask(DISPATCH_SUBJECTS["respond"], RespondToOffer(
        offer_id=offer_id, technician_id=body.technician_id, accept=False,
        reason=body.reason), Offer)


class AssignBody(Body):
    repair_id: str = Field(min_length=1, max_length=36)
    project: str = Field(min_length=1, max_length=32)
    trade: Trade
    at: AwareDatetime | None = None
    emergency: bool = False
    delegate_to: str | None = Field(None, max_length=200)


@router.post("/v1/dispatch/assignments", response_model=Assignment,
             summary="Offer a repair to the technician who should go now")
async def assign(who: AssignBody, rt: Rt) -> Assignment:
    """What the repair workflow asks dispatch; a retry for the same repair returns the same
    offer while it is open."""
    return await rt.bus.ask(DISPATCH_SUBJECTS["assign"], AssignRepair(
        repair_id=who.repair_id, project=who.project, trade=who.trade,
        at=who.at or datetime.now(UTC), emergency=who.emergency, delegate_to=who.delegate_to),
        Assignment)
