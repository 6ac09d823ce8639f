"""Return visits (回访), complaints and the follow-up statistics over HTTP; intake forwards
each to the follow-up service, which owns them. A defect found at a visit is filed here as
a new repair (channel `return_visit`) before the result is recorded with a link to it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.common.contracts import Channel
from services.common.errors import Rejection
from services.common.followup_contracts import (
    FOLLOWUP_SUBJECTS,
    Certificate,
    Certificates,
    Complaint,
    Complaints,
    GetComplaint,
    GetPolicy,
    GetStatistics,
    GetVisit,
    HandleComplaint,
    IssueCertificate,
    ListComplaints,
    ListDueVisits,
    ListMissingCertificates,
    ListRevisits,
    PlanRevisits,
    PolicyView,
    PutPolicy,
    RecordRevisit,
    RecordVisit,
    Revisit,
    RevisitPlan,
    Revisits,
    Statistics,
    Visit,
    VisitResult,
    Visits,
)
from services.common.followup_policy import FollowupPolicy
from services.intake import endpoints, repository
from services.intake.auth import Authorized
from services.intake.endpoints import Rt
from services.intake.report_body import Submission
from services.intake.schemas import Moment, Reporter, ReportRepair

router = APIRouter(tags=["followup"])
VisitId = Annotated[str, Path(max_length=80, description="The visit's id: `repair-<repair "
                              "id>` or `complaint-<complaint id>`.",
                              examples=["repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])]
ProjectCode = Annotated[str, Path(max_length=32, description="A project's code.",
                                  examples=["SH-LJ"])]
By = Annotated[str, Field(min_length=1, max_length=100, examples=["客服 王敏"])]
Text = Annotated[str, Field(min_length=1, max_length=2000)]




# A sanity bound, not "not after now": the follow-up service keeps the time of record (the
# time-skipping tests run it a month ahead), but a year typed 0001 or 9999 is a mistake.
Done = Moment

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
    at: Done | None = Field(None, description="When the visit was made; now by default.")
    defect_found: DefectFound | None = None


class ComplaintHandledIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [{"by": "经理 孙强", "outcome": "重新维修并致歉，业主认可"}]})
    by: By
    outcome: Text
    at: Done | None = None


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
    filed = await endpoints.report_repair(rt, caller, response, Submission(command),
                                          idempotency_key=f"return-visit:{visit.id}")
    return filed.duplicate_of or filed.id


@router.get("/v1/complaints", response_model=Complaints,
            summary="Complaints to answer, soonest response deadline first (投诉)")
async def list_complaints(
    rt: Rt, caller: Authorized,
    project: Annotated[str | None, Query(max_length=32, examples=["SH-LJ"])] = None,
    include_handled: Annotated[bool, Query(description="Handled ones too.")] = False,
    late_only: Annotated[bool, Query(description="Only those past `respond_by`.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Complaints:
    """The manager's list: each complaint with its `respond_by` (24 hours) and whether it
    is late."""
    if project is not None:
        await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["list_complaints"], ListComplaints(
        within=await caller.within(), project=project, include_handled=include_handled,
        late_only=late_only, limit=limit), Complaints)


@router.get("/v1/complaints/{complaint_id}", response_model=Complaint, responses=ERRORS,
            summary="One complaint")
async def get_complaint(
    complaint_id: Annotated[str, Path(max_length=80, examples=[
        "visit-repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])],
    rt: Rt, caller: Authorized) -> Complaint:
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["get_complaint"], GetComplaint(
        within=await caller.within(), complaint_id=complaint_id), Complaint)


@router.post("/v1/complaints/{complaint_id}/handled", response_model=Complaint,
             responses=ERRORS, summary="A complaint is handled (投诉处理完毕)")
async def complaint_handled(
    complaint_id: Annotated[str, Path(max_length=80, examples=[
        "visit-repair-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])],
    body: ComplaintHandledIn, rt: Rt, caller: Authorized) -> Complaint:
    """Its return visit is then due within 3 days, every one of them: by the manager for a
    major complaint, otherwise by the complained-of department's head with the center's
    specialist. Handled after its `respond_by`, the complaint stays `late`."""
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
    """Per kind, the jobs served in the quarter (the quarter the sampler keeps the rate
    in) with every visit recorded so far: due, done, late and the rate against the target;
    failed visits; the same complaint twice; the same repair at one place (a unit or a
    common area) three times (corrective actions for the technical department); a category
    repeating across a building (flagged to the developer); the quarter's complaints
    answered on time or late; the repairs its planned revisits found, solved within the
    policy's `planned.findings_days` (15: 发现问题15日内解决) or late, overdue or open."""
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


# --- planned quality revisits and certificates ------------------------------------------

class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"year": 2027}]})
    year: int = Field(ge=2000, le=2100)


class RevisitResultIn(BaseModel):
    """What the revisit found (回访结果) and the repairs it filed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [{"result": "走访12户，2户反映卫生间渗水，已报修", "by": "工程部 李强",
                      "found_repair_ids": ["5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"]}]})
    result: str = Field(min_length=1, max_length=4000)
    by: By
    at: Done | None = None
    found_repair_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(
        default_factory=list, max_length=100)


class CertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "examples": [{"building": "1", "unit": "1-1201", "issued_on": "2024-01-20",
                      "by": "客服 王敏"}]})
    building: str = Field(min_length=1, max_length=32)
    unit: str = Field(min_length=1, max_length=32)
    issued_on: date
    by: str | None = Field(None, min_length=1, max_length=100)


@router.post("/v1/projects/{project}/revisit-plans", response_model=RevisitPlan,
             summary="Plan a year's quality revisits (年度工程质量回访计划)")
async def plan_revisits(project: ProjectCode, body: PlanIn, rt: Rt, caller: Authorized
                        ) -> RevisitPlan:
    """From the project's policy and its buildings' warranty end dates: half-yearly,
    quarterly where set, seasonal before the rains, and a notice before each warranty
    category of a building ends. Planning a year again adds only what is missing."""
    await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["plan_revisits"], PlanRevisits(
        within=await caller.within(), project=project, year=body.year), RevisitPlan)


@router.get("/v1/projects/{project}/revisits", response_model=Revisits,
            summary="A project's planned revisits, soonest first")
async def list_revisits(
    project: ProjectCode, rt: Rt, caller: Authorized,
    year: Annotated[int | None, Query(ge=2000, le=2100, examples=[2027])] = None,
    status: Annotated[Literal["planned", "done"] | None, Query()] = None,
    due_before: Annotated[date | None, Query(examples=["2027-07-01"])] = None,
) -> Revisits:
    await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["list_revisits"], ListRevisits(
        within=await caller.within(), project=project, year=year, status=status,
        due_before=due_before), Revisits)


@router.post("/v1/revisits/{revisit_id}/result", response_model=Revisit, responses=ERRORS,
             summary="Record a planned revisit's result")
async def record_revisit(
    revisit_id: Annotated[int, Path(ge=1, le=2**31 - 1, examples=[17])],
    body: RevisitResultIn, rt: Rt, caller: Authorized) -> Revisit:
    """Once; the repairs it found are listed by id (file them with `POST /v1/repairs`,
    channel `patrol` or `return_visit`). Each is due the policy's `planned.findings_days`
    (15) after the revisit's day and solved when its work is completed: see `findings`."""
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["record_revisit"], RecordRevisit(
        within=await caller.within(), revisit_id=revisit_id, result=body.result, by=body.by,
        at=body.at or datetime.now(UTC), found_repair_ids=list(body.found_repair_ids)),
        Revisit)


@router.get("/v1/projects/{project}/certificates", response_model=Certificates,
            summary="Units still without their warranty certificate (保修证书)")
async def missing_certificates(
    project: ProjectCode, rt: Rt, caller: Authorized,
    overdue_only: Annotated[bool, Query(description="Only those past the month.")] = False,
) -> Certificates:
    """Due within one month of the building's completion (竣工一个月内, 002 篇4 §3); one
    month after the unit's delivery when the completion is not known."""
    await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["missing_certificates"], ListMissingCertificates(
        within=await caller.within(), project=project, overdue_only=overdue_only),
        Certificates)


@router.post("/v1/projects/{project}/certificates", response_model=Certificate,
             responses=ERRORS, summary="Record a unit's certificate as issued")
async def issue_certificate(project: ProjectCode, body: CertificateIn, rt: Rt,
                            caller: Authorized) -> Certificate:
    await caller.require(project)
    return await rt.bus.ask(FOLLOWUP_SUBJECTS["issue_certificate"], IssueCertificate(
        within=await caller.within(), project=project, building=body.building,
        unit=body.unit, issued_on=body.issued_on, by=body.by), Certificate)
