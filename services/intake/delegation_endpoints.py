"""A repair handed to its liable party (转开发商/总包/分包/厂家维修) over HTTP: the engineering
department records what the developer, contractor or manufacturer does, and its own
emergency measures while waiting. Each action is an update of the repair's current
`DelegationWorkflow`, which refuses, with the reason, what its state does not allow; the
repair workflow follows the delegation's outcome by itself."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.common.errors import Rejection
from services.intake.auth import Authorized, Caller
from services.intake.endpoints import Rt
from services.intake.lifecycle_endpoints import (
    ACCEPTED,
    CLOCK_SKEW,
    RPC_TIMEOUT,
    Action,
    At,
    By,
    RepairId,
    now,
    run_update,
    temporal_errors,
    visible,
)
from services.intake.models import Repair
from workflows.delegation.messages import (
    AnotherParty,
    Attendance,
    DelegationState,
    EmergencyMeasures,
    Repaired,
    Withdrawal,
)
from workflows.delegation.workflow import DelegationWorkflow
from workflows.repair.workflow import RepairWorkflow

router = APIRouter(tags=["delegation"])
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class AttendIn(Action):
    """The liable party is on site (责任方到场); late after the deadline, but taken."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"by": "东方雨虹 维修员 陈刚", "at": "2026-06-04T10:15:00+08:00"}]})
    by: By
    at: At = None


class EmergencyMeasuresIn(Action):
    """What the property's own team did while waiting (应急处理)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"by": "工程部 李强", "what": "关闭卫生间进水阀，楼下天花板接水并通知业主"}]})
    by: By
    what: Text


class RepairedIn(Action):
    """The liable party's repair is done (维修完成); the owner's acceptance follows."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"by": "东方雨虹 维修员 陈刚", "work_done": "重做卫生间防水层，闭水试验48小时无渗漏"}]})
    by: By
    work_done: Text
    at: At = None


class AnotherPartyIn(Action):
    """After the deadline expired: another party repairs at the liable party's cost
    (另行委托维修, Order 80 Art. 12); the repair goes back to dispatch."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"party_name": "物业工程部", "by": "工程经理 周明", "reason": "总包两次催告未到场"}]})
    party_name: str = Field(min_length=1, max_length=200)
    by: By
    reason: str = Field("", max_length=1000)


class WithdrawIn(Action):
    """The liable party will not do it after all (e.g. it disputes liability): the
    property's own team repairs it; the repair goes back to dispatch."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"by": "工程经理 周明", "reason": "厂家认定为使用不当，转物业维修"}]})
    by: By
    reason: Text


class StepView(BaseModel):
    at: datetime
    kind: str = Field(examples=["notice", "reminder", "expired", "escalated", "attended",
                                "emergency_measures", "repaired", "back_charge", "withdrawn"])
    by: str | None
    detail: str


class EscalationView(BaseModel):
    role: str
    level: int
    at: datetime


class MeasureView(BaseModel):
    by: str
    what: str
    at: datetime


class BackChargeView(BaseModel):
    liable_party: str
    liable_party_name: str
    other_party: str
    assigned_by: str
    assigned_at: datetime
    attend_by: datetime = Field(description="The deadline the liable party missed.")
    reason: str


DELEGATION_EXAMPLE = {
    "delegation_id": "delegation-5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08",
    "repair_id": "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08", "status": "notified",
    "liable_party": "subcontractor", "liable_party_name": "东方雨虹防水工程公司",
    "emergency": False, "notified_at": "2026-06-03T10:02:11+08:00",
    "attend_by": "2026-06-04T10:02:11+08:00", "attended_at": None, "attended_by": None,
    "late": False, "reminders": 1, "repaired_at": None, "escalations": [],
    "emergency_measures": [{"by": "工程部 李强", "what": "关闭卫生间进水阀",
                            "at": "2026-06-03T10:05:00+08:00"}],
    "back_charge": None, "timeline": [
        {"at": "2026-06-03T10:02:11+08:00", "kind": "notice", "by": None,
         "detail": "保修通知 to subcontractor 东方雨虹防水工程公司, attend by "
                   "2026-06-04T02:02:11+00:00"}],
}


class DelegationView(BaseModel):
    """The repair's current delegation, as its workflow holds it; times in the project's
    zone."""

    model_config = ConfigDict(json_schema_extra={"examples": [DELEGATION_EXAMPLE]})
    delegation_id: str = Field(description="Its workflow (a rework of the liable party's "
                                           "work is a new round: `...-1`, `...-2`).")
    repair_id: str
    status: str = Field(examples=["notified", "expired", "attended", "repaired",
                                  "back_charged", "withdrawn"])
    liable_party: str = Field(examples=["developer", "general_contractor", "subcontractor",
                                        "manufacturer"])
    liable_party_name: str
    emergency: bool = Field(description="Structural safety or use seriously affected: due "
                                        "at once.")
    notified_at: datetime
    attend_by: datetime
    attended_at: datetime | None
    attended_by: str | None
    late: bool = Field(description="Attended after `attend_by`.")
    reminders: int
    repaired_at: datetime | None
    escalations: list[EscalationView]
    emergency_measures: list[MeasureView]
    back_charge: BackChargeView | None = Field(description="费用追偿: another party repairs "
                                                           "at the liable party's cost.")
    timeline: list[StepView]


ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The repair was never handed to a liable party (`not_delegated`), "
                         "or the delegation's state does not allow the action "
                         "(`action_refused`, with the reason)."},
}


def _action(summary: str, *, acts: bool = True) -> dict[str, Any]:
    taken = ACCEPTED if acts else {}
    return {"response_model": DelegationView, "summary": summary,
            "responses": {**taken, **ERRORS}}


@router.get("/v1/repairs/{repair_id}/delegation", **_action(
    "The repair's delegation to its liable party", acts=False))
async def get_delegation(repair_id: RepairId, rt: Rt, caller: Authorized) -> DelegationView:
    """The notice, the attend deadline, reminders, escalations, emergency measures, the
    back-charge and the timeline of the current round."""
    repair, handle = await _current(rt, caller, repair_id)
    async with temporal_errors():
        state = await handle.query(DelegationWorkflow.state, rpc_timeout=RPC_TIMEOUT)
    return view(handle.id, state, repair.time_zone)


@router.post("/v1/repairs/{repair_id}/delegation/attend",
             **_action("The liable party is on site (责任方到场)"))
async def attend(repair_id: RepairId, body: AttendIn, rt: Rt, caller: Authorized
                 ) -> DelegationView:
    """Once, while `notified` or `expired`; after `attend_by` it is recorded as late."""
    _not_ahead("at", body.at)
    return await _act(rt, caller, repair_id, DelegationWorkflow.attend,
                      Attendance(by=body.by, at=body.at or now()))


@router.post("/v1/repairs/{repair_id}/delegation/emergency-measures",
             **_action("Record the property's emergency measures (应急处理)"))
async def emergency_measures(repair_id: RepairId, body: EmergencyMeasuresIn, rt: Rt,
                             caller: Authorized) -> DelegationView:
    """Any number of times until the delegation ends."""
    return await _act(rt, caller, repair_id, DelegationWorkflow.record_emergency_measures,
                      EmergencyMeasures(by=body.by, what=body.what))


@router.post("/v1/repairs/{repair_id}/delegation/repaired",
             **_action("The liable party's repair is done"))
async def repaired(repair_id: RepairId, body: RepairedIn, rt: Rt, caller: Authorized
                   ) -> DelegationView:
    """After attendance; the repair is then `completed` and waits for the owner's
    acceptance (a rejection sends it back to the liable party, as a new round)."""
    _not_ahead("at", body.at)
    return await _act(rt, caller, repair_id, DelegationWorkflow.repaired,
                      Repaired(by=body.by, work_done=body.work_done, at=body.at or now()))


@router.post("/v1/repairs/{repair_id}/delegation/another-party",
             **_action("Have another party repair at the liable party's cost (另行委托)"))
async def another_party(repair_id: RepairId, body: AnotherPartyIn, rt: Rt,
                        caller: Authorized) -> DelegationView:
    """Only once `attend_by` has passed unattended (`expired`). The back-charge is recorded
    and the repair is dispatched to the property's own teams."""
    return await _act(rt, caller, repair_id, DelegationWorkflow.assign_another_party,
                      AnotherParty(party_name=body.party_name, by=body.by,
                                   reason=body.reason))


@router.post("/v1/repairs/{repair_id}/delegation/withdraw",
             **_action("Take the repair back from the liable party"))
async def withdraw(repair_id: RepairId, body: WithdrawIn, rt: Rt, caller: Authorized
                   ) -> DelegationView:
    """Before the liable party's repair is done; the property's own team does it."""
    return await _act(rt, caller, repair_id, DelegationWorkflow.withdraw,
                      Withdrawal(by=body.by, reason=body.reason))


def view(delegation_id: str, state: DelegationState, time_zone: str) -> DelegationView:
    zone = ZoneInfo(time_zone)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment else None

    charge = state.back_charge
    return DelegationView(
        delegation_id=delegation_id, repair_id=state.repair_id, status=state.status,
        liable_party=state.liable_party, liable_party_name=state.liable_party_name,
        emergency=state.emergency, notified_at=state.notified_at.astimezone(zone),
        attend_by=state.attend_by.astimezone(zone), attended_at=local(state.attended_at),
        attended_by=state.attended_by, late=state.late, reminders=state.reminders,
        repaired_at=local(state.repaired_at),
        escalations=[EscalationView(role=e.role, level=e.level, at=e.at.astimezone(zone))
                     for e in state.escalations],
        emergency_measures=[MeasureView(by=m.by, what=m.what, at=m.at.astimezone(zone))
                            for m in state.emergency_measures],
        back_charge=BackChargeView(
            liable_party=charge.liable_party, liable_party_name=charge.liable_party_name,
            other_party=charge.other_party, assigned_by=charge.assigned_by,
            assigned_at=charge.assigned_at.astimezone(zone),
            attend_by=charge.attend_by.astimezone(zone), reason=charge.reason,
        ) if charge else None,
        timeline=[StepView(at=step.at.astimezone(zone), kind=step.kind, by=step.by,
                           detail=step.detail) for step in state.timeline],
    )


def _not_ahead(field: str, at: datetime | None) -> None:
    if at is not None and at > now() + CLOCK_SKEW:
        raise Rejection("in_the_future", f"{field} is in the future.", "时间不能晚于当前时间。",
                        field, 422)


async def _current(rt: Rt, caller: Caller, repair_id: str) -> tuple[Repair, Any]:
    """The repair (404 unless the caller may see it) and its current delegation's handle."""
    repair = await visible(rt, caller, repair_id)
    async with temporal_errors():
        state = await rt.temporal.get_workflow_handle(repair.workflow_id).query(
            RepairWorkflow.state, rpc_timeout=RPC_TIMEOUT)
    if state.delegation_id is None and state.status == "delegated":
        raise Rejection("not_started", "The delegation is starting; retry in a moment.",
                        "转交流程正在启动，请稍后重试。", "repair_id", 409)
    if state.delegation_id is None:
        raise Rejection("not_delegated", "This repair has not been handed to a liable party.",
                        "该报修未转交责任方处理。", "repair_id", 409)
    return repair, rt.temporal.get_workflow_handle(state.delegation_id)


async def _act(rt: Rt, caller: Caller, repair_id: str, update: Any, argument: Any
               ) -> DelegationView:
    repair, handle = await _current(rt, caller, repair_id)
    state = await run_update(handle, update, argument,
                             location=f"/v1/repairs/{repair.id}/delegation")
    return view(handle.id, state, repair.time_zone)
