"""People's actions on a repair over HTTP (接单, 到场, 诊断, 报价, 减免, 完工, 验收, 返工...):
each is an update of the repair's workflow, which refuses, with the reason, what the
repair's state does not allow. The answer is the workflow's state right after the action."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import Rejection, ServiceUnavailable
from services.common.registry_contracts import Cause
from services.intake import pricing, repository
from services.intake.auth import Authorized, Caller
from services.intake.endpoints import Rt, visible_repair
from services.intake.models import Repair
from workflows.repair.messages import (
    Accept,
    Arrival,
    Cancel,
    Completion,
    Decline,
    Diagnosis,
    OwnerAcceptance,
    Pause,
    Quote,
    QuoteDecision,
    RepairState,
    Reschedule,
    Resume,
    WaiverDecision,
    WaiverRequest,
)
from workflows.repair.workflow import RepairWorkflow

router = APIRouter(tags=["repairs"])
RepairId = Annotated[str, Path(description="The repair's `id` (not its ticket).",
                               examples=["5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])]
# An update waits for its workflow (an answer to an offer is recorded with dispatch first);
# without a worker it would wait for ever. Not taken by the workflow in time: 503, retry.
# Taken but not finished in time: 202, it will be applied (the update is in the history).
RPC_TIMEOUT = timedelta(seconds=10)
ACTION_TIMEOUT = 30.0
# A clock a few minutes fast on a phone is not an arrival in the future.
CLOCK_SKEW = timedelta(minutes=5)

TechnicianId = Annotated[str, Field(min_length=1, max_length=32, examples=["T-SH-02"],
                                    description="The technician acting (维修人员编号).")]
By = Annotated[str, Field(min_length=1, max_length=100, examples=["客服 王敏"],
                          description="Who acts: a staff member's name or id.")]
At = Annotated[AwareDatetime | None, Field(
    description="When, with its offset; defaults to the moment of the request.")]
Items = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                  Field(default_factory=list, max_length=50)]
# Money in fen (分), so that no sum is rounded: whole numbers only, never "35.00" or true.
MAX_FEN = 10_000_000  # 100,000 yuan
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN)]
Note = Annotated[str | None, Field(min_length=1, max_length=1000)]
ApproverRole = Literal["property_director", "company_leader"]
QuoteState = Literal["quoted", "accepted", "disputed", "refused", "waived"]


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AcceptIn(Action):
    """The offered technician takes the repair (接单)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"technician_id": "T-SH-02"}]})
    technician_id: TechnicianId
    at: At = None


class DeclineIn(Action):
    """The offered technician turns it down; the next one is offered it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"technician_id": "T-SH-02", "reason": "在处理另一单急修"}]})
    technician_id: TechnicianId
    reason: str = Field(min_length=1, max_length=500)
    at: At = None


class ArriveIn(Action):
    """The technician is on site (到场)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"technician_id": "T-SH-02", "arrived_at": "2026-06-03T09:29:52+08:00"}]})
    technician_id: TechnicianId
    arrived_at: At = None


class QuoteLineIn(Action):
    """One line of a quote: an item of the project's standard service items (常规服务项目表,
    `/v1/projects/{project}/service-items`) by its code, which gives the name and unit
    price; or `OFF-LIST`, work outside the table, with its name and the unit price agreed
    with the owner. A project without a table needs every line's name and unit price."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "PL-01", "quantity": 2},
        {"code": "OFF-LIST", "name": "更换浴霸（业主自购）安装", "quantity": 1,
         "unit_price_fen": 12000}]})
    code: str = Field(min_length=1, max_length=32, examples=["PL-01", "OFF-LIST"],
                      description="The item's code in the standard service items, or "
                                  "`OFF-LIST` for work outside them.")
    name: str | None = Field(None, min_length=1, max_length=100, examples=["更换角阀"],
                             description="Taken from the table for its items; required for "
                                         "`OFF-LIST` and where the project has no table.")
    quantity: int = Field(strict=True, ge=1, le=1000, examples=[2])
    unit_price_fen: Fen | None = Field(None, examples=[3500], description=(
        "The unit price in fen (分): 3500 is 35.00 yuan. Taken from the table for its items "
        "(one given must be the table's); required for `OFF-LIST` and where the project has "
        "no table."))


QUOTE_EXAMPLE = {"lines": [{"code": "PL-01", "quantity": 2}, {"code": "PL-09", "quantity": 1}],
                 "by": "T-SH-02"}
PRICED_QUOTE = {
    "lines": [
        {"code": "PL-01", "name": "更换角阀", "quantity": 2, "unit_price_fen": 3500},
        {"code": "PL-09", "name": "疏通下水管道", "quantity": 1, "unit_price_fen": 8000}],
    "by": "T-SH-02"}
OFF_LIST_QUOTE = {
    "lines": [{"code": "PL-01", "quantity": 1},
              {"code": "OFF-LIST", "name": "更换浴霸（业主自购）安装", "quantity": 1,
               "unit_price_fen": 12000}],
    "by": "T-SH-02"}


class QuoteIn(Action):
    """A paid repair's price (有偿维修报价), from the project's standard service items; the
    owner must accept it (or a fee waiver be approved) before the work is completed."""

    model_config = ConfigDict(json_schema_extra={"examples": [QUOTE_EXAMPLE, OFF_LIST_QUOTE]})
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=50)
    by: By


class DiagnoseIn(Action):
    """The cause confirmed on site and the plan (故障诊断, 维修方案); a changed cause may
    change who pays. When the owner pays, the quote may come with it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"technician_id": "T-SH-02", "cause": "construction_defect",
         "plan": "凿开地面重做防水层，闭水试验48小时", "materials": ["防水涂料 5kg"]},
        {"technician_id": "T-SH-02", "cause": "owner_misuse",
         "plan": "业主自行改管导致角阀渗漏，更换角阀并疏通下水", "materials": ["角阀 2个"],
         "quote": QUOTE_EXAMPLE}]})
    technician_id: TechnicianId
    cause: Cause
    plan: str = Field(min_length=1, max_length=2000)
    materials: Items
    needs_appraisal: bool = Field(False, description="A hard case for the technical "
                                                     "department (技术部鉴定).")
    quote: QuoteIn | None = Field(None, description="For a paid repair (the owner's misuse, "
                                                    "renovation...): the price to agree, "
                                                    "priced as `quote` prices it. Ignored "
                                                    "when the repair is free.")
    hand_over: bool = Field(False, description=(
        "It cannot be fixed on site: hand it to the liable party the warranty decision "
        "names (转开发商/厂家处理); the repair is then `delegated` and followed at "
        "`/v1/repairs/{id}/delegation`."))
    at: At = None


class QuoteDecisionIn(Action):
    """The owner's answer to the quote: accept (the work goes ahead), refuse (the service
    stops, recorded) or dispute (the housekeeper negotiates, then accept or refuse)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"decision": "accept", "by": "王芳"},
        {"decision": "dispute", "by": "王芳", "note": "认为疏通费用偏高"}]})
    decision: Literal["accept", "refuse", "dispute"]
    by: By
    note: Note = None


class WaiverRequestIn(Action):
    """Ask to waive some or all of the quote (费用减免), e.g. after a negotiation: under the
    project's limit (default 500 yuan) the property director approves, from it a company
    leader."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"amount_fen": 8000, "reason": "老业主，保修期刚过，疏通费用予以减免", "by": "管家 赵敏"}]})
    amount_fen: int = Field(strict=True, ge=1, le=MAX_FEN, examples=[8000],
                            description="At most the quote's total, in fen (分).")
    reason: str = Field(min_length=1, max_length=1000)
    by: By


class WaiverDecisionIn(Action):
    """The approver's answer (减免审批): approved lets the work go ahead, rejected puts the
    quote back to the owner."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"approved": True, "approver_role": "property_director", "by": "物业总监 孙强"},
        {"approved": False, "approver_role": "company_leader", "by": "公司领导 李伟",
         "note": "不符合减免条件"}]})
    approved: bool
    approver_role: ApproverRole = Field(description="The role deciding; it must be the one "
                                                    "the amount needs, or above.")
    by: By
    note: Note = None


class CompleteIn(Action):
    """The work is done (完工), waiting for the owner's acceptance."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "technician_id": "T-SH-02", "work_done": "重做卫生间防水层并闭水试验48小时",
        "materials": ["防水涂料 5kg"],
        "photo_ids": ["9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64"]}]})
    technician_id: TechnicianId
    work_done: str = Field(min_length=1, max_length=4000)
    materials: Items
    photo_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(
        default_factory=list, max_length=20,
        description="Photos of the finished work, uploaded to this repair first.")
    at: At = None


class AcceptanceIn(Action):
    """The owner's inspection (验收): accepted closes the repair; rejected sends it back (返工),
    with the reason, to the same technician unless another is asked for."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"accepted": True, "signed_by": "王芳"},
        {"accepted": False, "signed_by": "王芳", "reason": "楼下天花板仍有水渍"},
        {"accepted": False, "signed_by": "王芳", "reason": "第二次返工仍渗漏，要求换人",
         "another_technician": True}]})
    accepted: bool
    signed_by: str = Field(min_length=1, max_length=100, description="Who signed (业主).")
    reason: str | None = Field(None, min_length=1, max_length=1000,
                               description="Required when the work is rejected.")
    another_technician: bool = Field(
        False, description="A rejected repair goes to another technician instead of the "
                           "same one (a liable party's work always goes back to it).")
    at: At = None


class RescheduleIn(Action):
    """A visit time agreed with the owner (预约) becomes the arrival deadline."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "visit_at": "2026-06-04T14:00:00+08:00", "reason": "业主明天下午在家", "by": "客服 王敏"}]})
    visit_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=500)
    by: By


class PauseIn(Action):
    """Waiting for parts or the owner (等待配件/业主): the finish clock stops."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "等待防水卷材到货", "by": "T-SH-02"}]})
    reason: str = Field(min_length=1, max_length=500)
    by: By


class ResumeIn(Action):
    model_config = ConfigDict(json_schema_extra={"examples": [{"by": "T-SH-02"}]})
    by: By


class CancelIn(Action):
    """Cancel the repair (撤单) for one of the allowed reasons."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "duplicate", "by": "客服 王敏", "note": "与SH-LJ-000127为同一处渗漏"}]})
    reason: Literal["duplicate", "owner_withdrew", "not_our_scope"]
    by: By
    note: str | None = Field(None, min_length=1, max_length=1000)


class EscalationView(BaseModel):
    deadline: str = Field(examples=["arrive_by", "finish_by", "rework_limit", "appraisal"])
    role: str = Field(examples=["duty_leader"])
    level: int
    at: datetime


class PauseView(BaseModel):
    reason: str
    started_at: datetime
    ended_at: datetime | None


class QuoteLineView(BaseModel):
    code: str
    name: str
    quantity: int
    unit_price_fen: int


class QuoteView(BaseModel):
    lines: list[QuoteLineView]
    by: str
    total_fen: int = Field(description="The sum of quantity × unit price, in fen (分).")


class WaiverView(BaseModel):
    amount_fen: int
    reason: str
    by: str


PROGRESS_EXAMPLE = {
    "repair_id": "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08", "status": "arrived",
    "technician_id": "T-SH-02", "offered_to": "T-SH-02",
    "arrive_by": "2026-06-03T09:32:04+08:00", "arrived_at": "2026-06-03T09:29:52+08:00",
    "finish_by": "2026-06-08T17:30:00+08:00", "overdue": False, "reworks": 0,
    "warranty_outcome": "delegated", "warranty": None,
    "quote": None, "quote_state": None, "waiver": None, "waiver_approver": None,
    "escalations": [], "pauses": [],
}
QUOTED_EXAMPLE = {
    **PROGRESS_EXAMPLE, "status": "waiver_pending", "warranty_outcome": "chargeable",
    "quote": {**PRICED_QUOTE, "total_fen": 15000}, "quote_state": "quoted",
    "waiver": {"amount_fen": 8000, "reason": "老业主，保修期刚过，疏通费用予以减免",
               "by": "管家 赵敏"},
    "waiver_approver": "property_director",
}


class RepairProgress(BaseModel):
    """A repair as its workflow holds it now (the read model of GET /v1/repairs/{id} may
    be a moment behind); times in the project's zone."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROGRESS_EXAMPLE,
                                                              QUOTED_EXAMPLE]})
    repair_id: str
    status: str = Field(examples=["offered", "accepted", "arrived", "quoted", "completed",
                                  "closed"])
    respond_by: datetime | None = Field(None, description="Taken by a technician (or handed "
                                                         "to the liable party) by then.")
    assess_by: datetime | None = Field(None, description="Assessed on site (故障评估) by then, "
                                                        "once arrived.")
    priority: str | None = Field(None, description="`emergency` or `routine`; a repeat call "
                                                   "that says emergency raises it.")
    technician_id: str | None = Field(description="The technician who accepted the repair.")
    offered_to: str | None = Field(None, description="Who the latest offer went to.")
    arrive_by: datetime = Field(description="The arrival deadline in force (an agreed visit "
                                            "or a rework moves it).")
    arrived_at: datetime | None = None
    finish_by: datetime | None = Field(None, description="Moved on by the time paused.")
    overdue: bool = Field(description="A deadline passed without its step; stays set.")
    reworks: int
    warranty_outcome: str | None = Field(
        None, description="free, delegated, chargeable or undetermined, once decided.")
    warranty: dict[str, Any] | None = Field(None, description="The warranty decision.")
    quote: QuoteView | None = Field(None, description="A paid repair's quote (报价).")
    quote_state: QuoteState | None = Field(
        None, description="quoted (waiting for the owner), accepted, disputed, refused or "
                          "waived (a fee waiver approved).")
    waiver: WaiverView | None = Field(None, description="The fee waiver asked (费用减免).")
    waiver_approver: ApproverRole | None = Field(
        None, description="The role the waiver's amount needs to approve it.")
    escalations: list[EscalationView] = Field(default_factory=list)
    pauses: list[PauseView] = Field(default_factory=list)
    liable_party_name: str | None = Field(
        None, description="Who the repair was handed to, when it was (status `delegated`).")


def progress(state: RepairState, time_zone: str) -> RepairProgress:
    zone = ZoneInfo(time_zone)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment else None

    return RepairProgress(
        repair_id=state.repair_id, status=state.status, technician_id=state.technician_id,
        offered_to=state.offered_to, arrive_by=state.arrive_by.astimezone(zone),
        arrived_at=local(state.arrived_at), finish_by=local(state.finish_by),
        overdue=state.overdue, reworks=state.reworks,
        warranty_outcome=state.warranty_outcome, warranty=state.warranty,
        quote=QuoteView(
            lines=[QuoteLineView(code=line.code, name=line.name, quantity=line.quantity,
                                 unit_price_fen=line.unit_price_fen)
                   for line in state.quote.lines],
            by=state.quote.by, total_fen=state.quote.total_fen) if state.quote else None,
        quote_state=state.quote_state,
        waiver=WaiverView(amount_fen=state.waiver.amount_fen, reason=state.waiver.reason,
                          by=state.waiver.by) if state.waiver else None,
        waiver_approver=state.waiver_approver,
        escalations=[EscalationView(deadline=e.deadline, role=e.role, level=e.level,
                                    at=e.at.astimezone(zone)) for e in state.escalations],
        pauses=[PauseView(reason=p.reason, started_at=p.started_at.astimezone(zone),
                          ended_at=local(p.ended_at)) for p in state.pauses],
        liable_party_name=state.liable_party_name, priority=state.priority,
        respond_by=local(state.respond_by), assess_by=local(state.assess_by),
    )


class StillApplying(Exception):
    """The workflow took the action (it is in its history) but has not finished it in time."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


STILL_APPLYING = {
    "code": "still_applying", "progress": "/v1/repairs/5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08/"
                                          "progress",
    "detail": "The action is taken and is being applied; its result will show at `progress`.",
    "detail_zh": "操作已受理，正在处理，请稍后查看进度。"}


class StillApplyingView(BaseModel):
    """An action taken by the repair's workflow and still being applied (202)."""

    model_config = ConfigDict(json_schema_extra={"examples": [STILL_APPLYING]})
    code: Literal["still_applying"]
    detail: str
    detail_zh: str
    progress: str = Field(description="Where the result will show (also `Location`).")


ACCEPTED = {202: {"model": StillApplyingView, "description": (
    "Taken by the repair's workflow but not finished within the wait (the system is busy): "
    "it will be applied. Do not resend it; read the state at `progress`.")}}


def install(app: FastAPI) -> None:
    """Answer 202 with where to look when an action is taken but not yet applied."""

    @app.exception_handler(StillApplying)
    async def _still_applying(_: Request, exc: StillApplying) -> JSONResponse:
        return JSONResponse({**STILL_APPLYING, "progress": exc.location}, status_code=202,
                            headers={"Location": exc.location})


ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The repair's state does not allow the action (`action_refused`, "
                         "with the reason), or its workflow is still starting "
                         "(`not_started`: retry in a moment)."},
}
PRICING_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    422: {"description": "The request is malformed, or a quote line is not priced by the "
                         "rules: a code not in the project's standard service items "
                         "(`unknown_service_item`, field `lines[i].code`), a unit price other "
                         "than the table's (`not_the_standard_price`), or a name or unit "
                         "price missing where the line needs one (`price_required`: an "
                         "`OFF-LIST` line, or a project without a table)."},
}


def _action(summary: str, responses: dict[int | str, dict[str, Any]] = ERRORS
            ) -> dict[str, Any]:
    return {"response_model": RepairProgress, "summary": summary,
            "responses": {**ACCEPTED, **responses}}


@router.get("/v1/repairs/{repair_id}/progress", response_model=RepairProgress,
            summary="A repair's live state, from its workflow",
            responses={409: {"description": "The repair's workflow is still starting "
                                            "(`not_started`): retry in a moment."}})
async def get_progress(repair_id: RepairId, rt: Rt, caller: Authorized) -> RepairProgress:
    """Who it is offered to, who took it, its deadlines in force, escalations and pauses:
    what the workflow holds now, for a console that must not lag."""
    repair = await visible(rt, caller, repair_id)
    handle = rt.temporal.get_workflow_handle(repair.workflow_id)
    async with temporal_errors():
        state = await handle.query(RepairWorkflow.state, rpc_timeout=RPC_TIMEOUT)
    return progress(state, repair.time_zone)


@router.post("/v1/repairs/{repair_id}/accept", **_action("Accept an offered repair (接单)"))
async def accept(repair_id: RepairId, body: AcceptIn, rt: Rt, caller: Authorized
                 ) -> RepairProgress:
    """Only the technician the repair is offered to, while the offer is open."""
    return await _act(rt, caller, repair_id, RepairWorkflow.accept,
                      Accept(technician_id=body.technician_id, at=body.at or now()))


@router.post("/v1/repairs/{repair_id}/decline", **_action("Decline an offered repair"))
async def decline(repair_id: RepairId, body: DeclineIn, rt: Rt, caller: Authorized
                  ) -> RepairProgress:
    """The next technician is offered the repair."""
    return await _act(rt, caller, repair_id, RepairWorkflow.decline, Decline(
        technician_id=body.technician_id, reason=body.reason, at=body.at or now()))


@router.post("/v1/repairs/{repair_id}/arrive", **_action("The technician is on site (到场)"))
async def arrive(repair_id: RepairId, body: ArriveIn, rt: Rt, caller: Authorized
                 ) -> RepairProgress:
    """Meets the arrival deadline; only the assigned technician."""
    arrived_at = body.arrived_at or now()
    if arrived_at > now() + CLOCK_SKEW:
        raise Rejection("in_the_future", "arrived_at is in the future.",
                        "到场时间不能晚于当前时间。", "arrived_at", 422)
    return await _act(rt, caller, repair_id, RepairWorkflow.arrive,
                      Arrival(technician_id=body.technician_id, arrived_at=arrived_at))


@router.post("/v1/repairs/{repair_id}/diagnose",
             **_action("The cause and the repair plan (诊断)", PRICING_ERRORS))
async def diagnose(repair_id: RepairId, body: DiagnoseIn, rt: Rt, caller: Authorized
                   ) -> RepairProgress:
    """After arrival; a cause other than the one assumed decides the warranty again. With
    a quote, a repair the owner pays for is then `quoted`; the quote is priced as `quote`
    prices it (its fields are `quote.lines[i]...`)."""
    repair = await visible(rt, caller, repair_id)
    priced = (await price_quote(rt, repair, body.quote, field="quote.lines")
              if body.quote else None)
    return await _update(repair, rt, RepairWorkflow.diagnose, Diagnosis(
        technician_id=body.technician_id, cause=body.cause.value, plan=body.plan,
        materials=list(body.materials), needs_appraisal=body.needs_appraisal,
        at=body.at or now(), quote=priced, hand_over=body.hand_over))


@router.post("/v1/repairs/{repair_id}/quote",
             **_action("Quote a paid repair from the standard items (报价)", PRICING_ERRORS))
async def quote(repair_id: RepairId, body: QuoteIn, rt: Rt, caller: Authorized
                ) -> RepairProgress:
    """When the repair is `diagnosed` and the owner pays (the warranty decision says
    chargeable); the repair is then `quoted` and waits for the owner's decision.

    Where the project has standard service items (`/v1/projects/{project}/service-items`)
    a line gives an item's `code` and `quantity`, and gets the item's name and unit price;
    a unit price given must be the table's. Work outside the table is a line with code
    `OFF-LIST`, its name and the unit price the maintenance supervisor agreed with the
    owner. Where the project has no table, every line gives its name and unit price."""
    repair = await visible(rt, caller, repair_id)
    return await _update(repair, rt, RepairWorkflow.quote, await price_quote(rt, repair, body))


@router.post("/v1/repairs/{repair_id}/quote-decision",
             **_action("The owner accepts, refuses or disputes the quote"))
async def quote_decision(repair_id: RepairId, body: QuoteDecisionIn, rt: Rt,
                         caller: Authorized) -> RepairProgress:
    """While `quoted` (or `disputed`: then accept or refuse only). Accepted, the work may be
    completed; refused, the service stops (the repair ends `refused`); disputed, the
    housekeeper negotiates against a deadline."""
    return await _act(rt, caller, repair_id, RepairWorkflow.quote_decision,
                      QuoteDecision(decision=body.decision, by=body.by, note=body.note))


@router.post("/v1/repairs/{repair_id}/waiver-request",
             **_action("Ask for a fee waiver (费用减免申请)"))
async def waiver_request(repair_id: RepairId, body: WaiverRequestIn, rt: Rt,
                         caller: Authorized) -> RepairProgress:
    """While `quoted` or `disputed`, for at most the quote's total; the answer names the
    role that must approve it (`waiver_approver`)."""
    return await _act(rt, caller, repair_id, RepairWorkflow.request_waiver,
                      WaiverRequest(amount_fen=body.amount_fen, reason=body.reason, by=body.by))


@router.post("/v1/repairs/{repair_id}/waiver-decision",
             **_action("Approve or reject a fee waiver (减免审批)"))
async def waiver_decision(repair_id: RepairId, body: WaiverDecisionIn, rt: Rt,
                          caller: Authorized) -> RepairProgress:
    """While `waiver_pending`, by the role the amount needs or a higher one: approved, the
    work may be completed; rejected, the quote is back with the owner."""
    return await _act(rt, caller, repair_id, RepairWorkflow.waiver_decision, WaiverDecision(
        approved=body.approved, approver_role=body.approver_role, by=body.by, note=body.note))


@router.post("/v1/repairs/{repair_id}/complete", **_action("The work is done (完工)"))
async def complete(repair_id: RepairId, body: CompleteIn, rt: Rt, caller: Authorized
                   ) -> RepairProgress:
    """After arrival; the repair then waits for the owner's acceptance."""
    repair = await visible(rt, caller, repair_id)
    if body.photo_ids:
        async with rt.sessions() as session:
            known = {p.id for p in await repository.photos_of(session=session,
                                                              repair_id=repair_id)}
        unknown = [photo for photo in body.photo_ids if photo not in known]
        if unknown:
            raise Rejection("unknown_photo", f"No photo {unknown[0]!r} on this repair.",
                            "该报修单没有这张照片。", "photo_ids", 422)
    return await _update(repair, rt, RepairWorkflow.complete, Completion(
        technician_id=body.technician_id, work_done=body.work_done,
        materials=list(body.materials), photo_ids=list(body.photo_ids), at=body.at or now()))


@router.post("/v1/repairs/{repair_id}/acceptance",
             **_action("The owner accepts or rejects the work (验收)"))
async def acceptance(repair_id: RepairId, body: AcceptanceIn, rt: Rt, caller: Authorized
                     ) -> RepairProgress:
    """Accepted closes the repair; rejected is a rework (返工), with a new arrival deadline,
    by the same technician or, with `another_technician`, offered afresh to someone not
    tried yet; a liable party's work goes back to it. Past the project's rework limit the
    technical department is called in."""
    if not body.accepted and body.reason is None:
        raise Rejection("reason_required", "Say what the owner is not satisfied with.",
                        "业主不验收时须填写原因。", "reason", 422)
    return await _act(rt, caller, repair_id, RepairWorkflow.owner_acceptance, OwnerAcceptance(
        accepted=body.accepted, signed_by=body.signed_by, reason=body.reason,
        at=body.at or now(), another_technician=body.another_technician))


@router.post("/v1/repairs/{repair_id}/reschedule",
             **_action("Agree a visit time with the owner (预约)"))
async def reschedule(repair_id: RepairId, body: RescheduleIn, rt: Rt, caller: Authorized
                     ) -> RepairProgress:
    """Before arrival; the visit time becomes the arrival deadline."""
    return await _act(rt, caller, repair_id, RepairWorkflow.reschedule,
                      Reschedule(visit_at=body.visit_at, reason=body.reason, by=body.by))


@router.post("/v1/repairs/{repair_id}/pause",
             **_action("Pause: waiting for parts or the owner"))
async def pause(repair_id: RepairId, body: PauseIn, rt: Rt, caller: Authorized
                ) -> RepairProgress:
    """The finish deadline moves on by the time paused."""
    return await _act(rt, caller, repair_id, RepairWorkflow.pause,
                      Pause(reason=body.reason, by=body.by))


@router.post("/v1/repairs/{repair_id}/resume", **_action("Resume a paused repair"))
async def resume(repair_id: RepairId, body: ResumeIn, rt: Rt, caller: Authorized
                 ) -> RepairProgress:
    return await _act(rt, caller, repair_id, RepairWorkflow.resume, Resume(by=body.by))


@router.post("/v1/repairs/{repair_id}/cancel", **_action("Cancel a repair (撤单)"))
async def cancel(repair_id: RepairId, body: CancelIn, rt: Rt, caller: Authorized
                 ) -> RepairProgress:
    """Before the work is completed: a duplicate, the owner withdrew, or not ours to do."""
    return await _act(rt, caller, repair_id, RepairWorkflow.cancel,
                      Cancel(reason=body.reason, by=body.by, note=body.note))


def now() -> datetime:
    """The moment of the request, for an action's `at` left out."""
    return datetime.now(UTC)


async def price_quote(rt: Rt, repair: Repair, body: QuoteIn, *, field: str = "lines"
                      ) -> Quote:
    """The quote priced from the repair's project's standard service items (pricing.py)."""
    async with rt.sessions() as session:
        items = await repository.service_items(session=session, project=repair.project)
    table = {item.code: pricing.StandardItem(name=item.name, unit_price_fen=item.unit_price_fen)
             for item in items}
    return pricing.price(project=repair.project, lines=body.lines, by=body.by, table=table,
                         field=field)


async def visible(rt: Rt, caller: Caller, repair_id: str) -> Repair:
    async with rt.sessions() as session:
        return await visible_repair(session, caller, repair_id)


async def _act(rt: Rt, caller: Caller, repair_id: str, update: Any, argument: Any
               ) -> RepairProgress:
    return await _update(await visible(rt, caller, repair_id), rt, update, argument)


async def _update(repair: Repair, rt: Rt, update: Any, argument: Any) -> RepairProgress:
    """Run the update on the repair's workflow; a validator's refusal is a 409."""
    handle = rt.temporal.get_workflow_handle(repair.workflow_id)
    state = await run_update(handle, update, argument,
                             location=f"/v1/repairs/{repair.id}/progress")
    return progress(state, repair.time_zone)


async def run_update(handle: Any, update: Any, argument: Any, *, location: str) -> Any:
    """An update's answer; a validator's refusal is a 409 with its reason, an ended
    workflow a 409, Temporal away or the workflow not taking it in time a 503, taken but
    not finished in time a 202 (`StillApplying`, with the `location` of its progress)."""
    async with temporal_errors():
        try:
            async with asyncio.timeout(ACTION_TIMEOUT):
                taken = await handle.start_update(
                    update, argument, wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                    rpc_timeout=RPC_TIMEOUT)
            try:
                async with asyncio.timeout(ACTION_TIMEOUT):
                    state = await taken.result(rpc_timeout=RPC_TIMEOUT)
            except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
                raise StillApplying(location) from None
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise refused(reason) from None
        except RPCError as error:
            # Not found: not started yet, or finished (the server's words vary by version).
            if error.status == RPCStatusCode.NOT_FOUND and await _ended(handle):
                raise refused("it has ended: its workflow has finished") from None
            raise
    return state


async def _ended(handle: Any) -> bool:
    try:
        described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError:
        return False
    return described.status != WorkflowExecutionStatus.RUNNING


def refused(reason: str) -> Rejection:
    return Rejection("action_refused", reason, f"当前状态不允许此操作：{reason}", None, 409)


@asynccontextmanager
async def temporal_errors() -> AsyncIterator[None]:
    """Temporal's failures as answers: a workflow not there yet (409), Temporal unreachable
    or not answering in time (503). `_update` tells a finished workflow apart (409)."""
    try:
        yield
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable("temporal", repr(error)) from None
        raise Rejection("not_started", "The repair's workflow is starting; retry in a moment.",
                        "报修流程正在启动，请稍后重试。", "repair_id", 409) from None
    except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError) as error:
        raise ServiceUnavailable("temporal", repr(error)) from None
    except RuntimeError as error:
        if not str(error).startswith("Failed client connect"):  # the lazy client's connect
            raise
        raise ServiceUnavailable("temporal", repr(error)) from None
