"""Return visits (回访), complaints and the follow-up statistics over HTTP; intake forwards
each to the follow-up service, which owns them. A defect found at a visit is filed here as
a new repair (channel `return_visit`) before the result is recorded with a link to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.common.contracts import Channel
from services.common.errors import Rejection
from services.common.followup_contracts import (
    FOLLOWUP_SUBJECTS,
    Complaint,
    GetPolicy,
    GetStatistics,
    GetVisit,
    HandleComplaint,
    ListDueVisits,
    PolicyView,
    PutPolicy,
    RecordVisit,
    Statistics,
    Visit,
    VisitResult,
    Visits,
)
from services.common.followup_policy import FollowupPolicy
from services.intake import endpoints, repository
from services.intake.auth import Authorized
from services.intake.endpoints import Rt
from services.intake.schemas import Reporter, ReportRepair

router = APIRouter(tags=["followup"])
VisitId = Annotated[str, Path(max_length=80, description="The visit's id: `repair-<repair "
                              "id>` or `complaint-<complaint id>`.",
                              examples=["repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])]
ProjectCode = Annotated[str, Path(max_length=32, description="A project's code.",
                                  examples=["SH-LJ"])]
By = Annotated[str, Field(min_length=1, max_length=100, examples=["客服 王敏"])]
Text = Annotated[str, Field(min_length=1, max_length=2000)]



class DefectFound(BaseModel):
    """A defect the owner shows at the visit: filed as a new repair of the same place."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    category: str | None = Field(None, min_length=1, max_length=32, examples=["LK-WET"],
                                 description="Its category; the visited repair's by default.")
    description: Text


class VisitResultIn(BaseModel):
    """What the owner said (回访记录): method, quality, effect, satisfaction, shortcomings,
    suggestions and the owner's confirmation. An unsatisfied owner (or satisfaction 2 or
    less) opens a complaint for the manager."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [
            {"method": "phone", "quality": 5, "effect": 5, "satisfaction": 5,
             "satisfied": True, "owner_confirmed": True, "by": "客服 王敏",
             "suggestions": "希望维修前电话预约"},
            {"method": "visit", "quality": 2, "effect": 1, "satisfaction": 2,
             "satisfied": False, "owner_confirmed": True, "by": "客服 王敏",
             "shortcomings": "卫生间仍有渗水",
             "defect_found": {"description": "卫生间墙角仍有渗水，楼下天花板有水渍"}}]})
    method: Annotated[str, Field(pattern="^(phone|visit|letter|online)$", description=(
        "phone, visit, letter or online (电话/上门/信函/网络)"))]
    quality: int = Field(ge=1, le=5)
    effect: int = Field(ge=1, le=5)
    satisfaction: int = Field(ge=1, le=5, description="1 very unsatisfied … 5 very satisfied.")
    satisfied: bool
    shortcomings: str | None = Field(None, min_length=1, max_length=2000)
    suggestions: str | None = Field(None, min_length=1, max_length=2000)
    owner_confirmed: bool = Field(description="The owner confirmed the record (业主签认).")
    by: By
    at: AwareDatetime | None = Field(None, description="When the visit was made; now by "
                                                       "default.")
    defect_found: DefectFound | None = None


class ComplaintHandledIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [{"by": "经理 孙强", "outcome": "重新维修并致歉，业主认可"}]})
    by: By
    outcome: Text
    at: AwareDatetime | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such visit or complaint for this key (`unknown_visit`, "
                         "`unknown_complaint`)."},
    409: {"description": "Recorded or handled already (`already_recorded`, "
                         "`already_handled`), or not due (`visit_not_due`)."},
}


@router.get("/v1/return-visits", response_model=Visits,
            summary="Return visits due, soonest deadline first (回访任务)")
async def list_visits(
    rt: Rt, caller: Authorized,
    project: Annotated[str | None, Query(max_length=32, examples=["SH-LJ"])] = None,
    assignee: Annotated[str | None, Query(max_length=100, examples=["客服 王敏"],
                                          description="A specialist's visits.")] = None,
    closes_before: Annotated[AwareDatetime | None, Query(
        description="Only those whose window closes before this (e.g. the end of the "
                    "week).", examples=["2026-07-12T00:00:00+08:00"])] = None,
    include_done: Annotated[bool, Query(description="Made ones too.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Visits:
    """A specialist's list for the week: `assignee` and `closes_before`."""
    if project is not None:
        await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["due"], ListDueVisits(
        within=await caller.within(), project=project, assignee=assignee,
        closes_before=closes_before, include_done=include_done, limit=limit), Visits)


@router.get("/v1/return-visits/{visit_id}", response_model=Visit, responses=ERRORS,
            summary="One return visit")
async def get_visit(visit_id: VisitId, rt: Rt, caller: Authorized) -> Visit:
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["get"], GetVisit(
        within=await caller.within(), visit_id=visit_id), Visit)


@router.post("/v1/return-visits/{visit_id}/result", response_model=Visit, responses=ERRORS,
             summary="Record a return visit's result (回访记录)")
async def record_result(visit_id: VisitId, body: VisitResultIn, rt: Rt, caller: Authorized,
                        response: Response) -> Visit:
    """Once, from the window's opening (a visit after it closes is taken, as late). A
    `defect_found` is filed first as a new repair of the same place, channel
    `return_visit` (a retry files nothing twice), and the visit links to it."""
    within = await caller.within()
    visit = await rt.bus.ask(FOLLOWUP_SUBJECTS["get"], GetVisit(within=within,
                                                                visit_id=visit_id), Visit)
    at = body.at or datetime.now(UTC)
    if visit.status == "done":
        raise Rejection("already_recorded", "This visit's result is recorded already.",
                        "该回访已有记录。", "visit_id", 409)
    new_repair_id = None
    if body.defect_found is not None:
        new_repair_id = await _file_defect(rt, caller, visit, body.defect_found, response)
    result = VisitResult(**body.model_dump(exclude={"at", "defect_found"}), at=at,
                         defect_found=body.defect_found.description if body.defect_found
                         else None, new_repair_id=new_repair_id)
    response.status_code = 200
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit(
        within=within, visit_id=visit_id, result=result), Visit)


async def _file_defect(rt: Rt, caller: Any, visit: Visit, defect: DefectFound,
                       response: Response) -> str:
    if visit.repair_id is None or visit.building is None:
        raise Rejection("no_place", "This visit has no repair's place to file a defect at.",
                        "该回访没有对应的报修地点。", "defect_found", 422)
    async with rt.sessions() as session:
        old = await repository.get_repair(session=session, repair_id=visit.repair_id)
    if old is None:
        raise Rejection("unknown_repair", "The visited repair is not known here.",
                        "找不到回访对应的报修单。", "defect_found", 422)
    command = ReportRepair(
        project=old.project, building=old.building, unit=old.unit,
        common_area=old.common_area, channel=Channel.return_visit,
        reporter=Reporter(name=old.reporter_name, phone=old.reporter_phone),
        category=defect.category or old.category,
        description=f"回访发现（原报修 {old.ticket}）：{defect.description}")
    filed = await endpoints.report_repair(command, rt, caller, response,
                                          idempotency_key=f"return-visit:{visit.id}")
    return filed.duplicate_of or filed.id


@router.post("/v1/complaints/{complaint_id}/handled", response_model=Complaint,
             responses=ERRORS, summary="A complaint is handled (投诉处理完毕)")
async def complaint_handled(
    complaint_id: Annotated[str, Path(max_length=80, examples=[
        "visit-repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])],
    body: ComplaintHandledIn, rt: Rt, caller: Authorized) -> Complaint:
    """Its return visit is then due within 3 days, every one of them: by the manager for a
    major complaint, the center with the department head otherwise."""
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["handle_complaint"], HandleComplaint(
        within=await caller.within(), complaint_id=complaint_id, by=body.by,
        at=body.at or datetime.now(UTC), outcome=body.outcome), Complaint)


@router.get("/v1/projects/{project}/followup-statistics", response_model=Statistics,
            summary="A quarter's visits against target and repeated defects (季度统计)")
async def statistics(
    project: ProjectCode, rt: Rt, caller: Authorized,
    year: Annotated[int, Query(ge=2000, le=2100, examples=[2026])],
    quarter: Annotated[int, Query(ge=1, le=4, examples=[3])],
) -> Statistics:
    """Per kind: due, done, late and the rate against the target; failed visits; the same
    complaint twice; the same repair three times (corrective actions for the technical
    department); a category repeating across a building (flagged to the developer)."""
    await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["statistics"], GetStatistics(
        within=await caller.within(), project=project, year=year, quarter=quarter),
        Statistics)


@router.put("/v1/projects/{project}/followup-policy", response_model=PolicyView,
            summary="A project's follow-up policy (回访制度)")
async def put_policy(project: ProjectCode, policy: FollowupPolicy, rt: Rt,
                     caller: Authorized) -> PolicyView:
    """Windows, rates, the late-visit chain, repeat thresholds, retention, planned
    revisits and the customer specialists; a setting left out keeps its default."""
    await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["put_policy"], PutPolicy(
        within=await caller.within(), project=project,
        policy=policy.model_dump(mode="json", exclude_unset=True)), PolicyView)


@router.get("/v1/projects/{project}/followup-policy", response_model=PolicyView,
            summary="A project's follow-up policy in force")
async def get_policy(project: ProjectCode, rt: Rt, caller: Authorized) -> PolicyView:
    await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["get_policy"], GetPolicy(
        within=await caller.within(), project=project), PolicyView)
