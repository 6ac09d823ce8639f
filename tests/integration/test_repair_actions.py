"""People's actions on a repair through HTTP, on the real Temporal dev server (no deadline
is waited for), with the read model following the workflow's steps; and a project's
service levels, from the PUT to the workflow's input."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from temporalio.client import Client

from services.common.contracts import REPAIR_PROGRESSED, RepairProgressed
from services.common.settings import to_asyncpg_dsn
from services.dispatch.service import DispatchSettings
from services.dispatch.service import running as dispatch_running
from services.intake import lifecycle_endpoints
from services.intake.app import IntakeSettings, create_app
from services.intake.keys import create_key
from services.stack.servers import free_port
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from tests.integration.conftest import Stack
from tests.integration.test_report_repair import REPORT
from tests.integration.test_warranty_api import PROJECT
from workflows import search_attributes as sa
from workflows.worker import WorkerSettings, build_worker

OWNER = "王芳"
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def report(api: httpx.AsyncClient, **change) -> str:
    response = await api.post("/v1/repairs", json={**REPORT, **change})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def offered(api: httpx.AsyncClient, repair_id: str, timeout: float = 20) -> str:
    """The technician the repair is offered to, once it is (the workflow asks dispatch)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await api.get(f"/v1/repairs/{repair_id}/progress")
        if response.status_code == 200 and response.json()["status"] == "offered" \
                and response.json()["offered_to"]:
            return response.json()["offered_to"]
        assert response.status_code in (200, 409), response.text  # 409: still starting
        assert time.monotonic() < deadline, f"never offered: {response.text}"
        await asyncio.sleep(0.2)


async def act(api: httpx.AsyncClient, repair_id: str, action: str, **body) -> dict:
    response = await api.post(f"/v1/repairs/{repair_id}/{action}", json=body)
    assert response.status_code == 200, (action, response.text)
    return response.json()


async def followed(api: httpx.AsyncClient, repair_id: str, status: str,
                   timeout: float = 15) -> dict:
    """GET /v1/repairs/{id} once the read model shows `status`."""
    deadline = time.monotonic() + timeout
    while True:
        repair = (await api.get(f"/v1/repairs/{repair_id}")).json()
        if repair["status"] == status:
            return repair
        assert time.monotonic() < deadline, f"read model still at {repair['status']}"
        await asyncio.sleep(0.2)


async def take_and_arrive(api: httpx.AsyncClient, repair_id: str) -> str:
    who = await offered(api, repair_id)
    taken = await act(api, repair_id, "accept", technician_id=who)
    assert taken["status"] == "accepted" and taken["technician_id"] == who
    arrived = await act(api, repair_id, "arrive", technician_id=who)
    assert arrived["status"] == "arrived" and arrived["arrived_at"]
    return who


def kinds(repair: dict) -> list[str]:
    return [entry["kind"] for entry in repair["timeline"]]


async def test_from_the_report_to_the_owners_acceptance(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    who = await take_and_arrive(api, repair_id)
    diagnosed = await act(api, repair_id, "diagnose", technician_id=who,
                          cause="construction_defect", plan="凿开地面重做防水",
                          materials=["防水涂料"])
    assert diagnosed["status"] == "diagnosed"
    assert diagnosed["warranty_outcome"] in ("free", "delegated")
    done = await act(api, repair_id, "complete", technician_id=who,
                     work_done="重做卫生间防水层并闭水试验48小时", materials=["防水涂料 5kg"])
    assert done["status"] == "completed"
    closed = await act(api, repair_id, "acceptance", accepted=True, signed_by=OWNER)
    assert closed["status"] == "closed" and closed["reworks"] == 0
    assert closed["arrive_by"].endswith("+08:00")  # in the project's zone

    repair = await followed(api, repair_id, "closed")
    assert repair["assignee"] == who and repair["reworks"] == 0
    assert repair["warranty_outcome"] == diagnosed["warranty_outcome"]
    # The decision made again with the technician's cause, as the agent reads it out.
    assert repair["warranty"]["cause"] == "construction_defect"
    assert repair["warranty"]["covered"] is True and repair["warranty"]["chargeable"] is False
    assert "warranty" in repair["warranty"]["explanation_en"].lower()
    assert repair["trade"] == "waterproofing"
    assert repair["deadlines"]["finish_by"] > repair["deadlines"]["arrive_by"]
    assert kinds(repair) == ["reported", "warranty_decided", "offered", "accepted", "arrived",
                             "diagnosed", "warranty_decided", "completed", "closed"]
    accepted = next(e for e in repair["timeline"] if e["kind"] == "accepted")
    assert accepted["by"] == accepted["technician_id"] == who
    assert [e["at"] for e in repair["timeline"]] == sorted(e["at"] for e in repair["timeline"])
    # A closed repair takes no more actions.
    late = await api.post(f"/v1/repairs/{repair_id}/cancel",
                          json={"reason": "duplicate", "by": "客服 王敏"})
    assert late.status_code == 409 and late.json()["code"] == "action_refused"


async def test_a_rejected_repair_is_reworked_by_the_same_technician(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    who = await take_and_arrive(api, repair_id)
    await act(api, repair_id, "complete", technician_id=who, work_done="更换地漏并重做防水")
    unsigned = await api.post(f"/v1/repairs/{repair_id}/acceptance",
                              json={"accepted": False, "signed_by": OWNER})
    assert unsigned.status_code == 422 and unsigned.json()["field"] == "reason"
    rejected = await act(api, repair_id, "acceptance", accepted=False, signed_by=OWNER,
                         reason="楼下天花板仍有水渍")
    assert rejected["status"] == "accepted" and rejected["reworks"] == 1
    assert rejected["technician_id"] == who
    await act(api, repair_id, "arrive", technician_id=who)
    await act(api, repair_id, "complete", technician_id=who, work_done="补做闭水试验")
    closed = await act(api, repair_id, "acceptance", accepted=True, signed_by=OWNER)
    assert closed["status"] == "closed" and closed["reworks"] == 1

    repair = await followed(api, repair_id, "closed")
    assert repair["reworks"] == 1 and repair["assignee"] == who
    assert kinds(repair).count("rework") == 1
    assert kinds(repair)[-4:] == ["rework", "arrived", "completed", "closed"]
    rework = next(e for e in repair["timeline"] if e["kind"] == "rework")
    assert rework["by"] == OWNER and "楼下天花板仍有水渍" in rework["detail"]


async def test_refusals_name_the_reason_or_the_field(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    who = await offered(api, repair_id)
    wrong = await api.post(f"/v1/repairs/{repair_id}/accept", json={"technician_id": "T-SH-99"})
    assert wrong.status_code == 409, wrong.text
    problem = wrong.json()
    assert problem["code"] == "action_refused"
    assert f"offered to {who}, not T-SH-99" in problem["detail"]
    assert problem["detail_zh"].startswith("当前状态不允许此操作")
    early = await api.post(f"/v1/repairs/{repair_id}/arrive", json={"technician_id": who})
    assert early.status_code == 409 and "offered" in early.json()["detail"]

    for action, body, field in (
        ("cancel", {"reason": "changed_my_mind", "by": "客服 王敏"}, "reason"),
        ("cancel", {"reason": "duplicate"}, "by"),
        ("diagnose", {"technician_id": who, "cause": "bad_luck", "plan": "x"}, "cause"),
        ("accept", {"technician_id": who, "at": "2026-11-20T09:00:00"}, "at"),
        ("accept", {"technician_id": who, "colour": "red"}, "colour"),
        ("decline", {"technician_id": who, "reason": "   "}, "reason"),
        ("arrive", {"technician_id": who, "arrived_at": "2099-01-01T00:00:00+08:00"},
         "arrived_at"),
        ("complete", {"technician_id": who, "work_done": "x", "photo_ids": ["nope"]},
         "photo_ids"),
    ):
        response = await api.post(f"/v1/repairs/{repair_id}/{action}", json=body)
        assert response.status_code == 422, (action, response.text)
        assert response.json()["field"] == field, (action, response.text)

    other = await stack.key(group="ZZ")
    await api.put("/v1/projects/ZZ-1", json={**PROJECT, "code": "ZZ-1", "group": "ZZ"})
    for action, body in (("accept", {"technician_id": who}),
                         ("cancel", {"reason": "duplicate", "by": "ZZ"})):
        hidden = await api.post(f"/v1/repairs/{repair_id}/{action}", json=body, headers=other)
        assert hidden.status_code == 404 and hidden.json()["code"] == "repair_not_found"
    assert (await api.get(f"/v1/repairs/{repair_id}/progress", headers=other)
            ).status_code == 404
    missing = await api.post("/v1/repairs/does-not-exist/accept", json={"technician_id": who})
    assert missing.status_code == 404

    cancelled = await act(api, repair_id, "cancel", reason="owner_withdrew", by="客服 王敏",
                          note="业主自行处理")
    assert cancelled["status"] == "cancelled"
    repair = await followed(api, repair_id, "cancelled")
    assert repair["timeline"][-1]["detail"] == "owner_withdrew: 业主自行处理"


async def test_pause_resume_and_an_agreed_visit(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    who = await offered(api, repair_id)
    visit = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    moved = await act(api, repair_id, "reschedule", visit_at=visit.isoformat(),
                      reason="业主明天在家", by="客服 王敏")
    assert datetime.fromisoformat(moved["arrive_by"]) == visit
    await act(api, repair_id, "accept", technician_id=who)
    paused = await act(api, repair_id, "pause", reason="等待防水卷材到货", by=who)
    assert paused["pauses"][0]["ended_at"] is None
    twice = await api.post(f"/v1/repairs/{repair_id}/pause", json={"reason": "x", "by": who})
    assert twice.status_code == 409 and "paused already" in twice.json()["detail"]
    resumed = await act(api, repair_id, "resume", by=who)
    assert resumed["pauses"][0]["ended_at"] is not None
    assert resumed["finish_by"] >= paused["finish_by"]


async def test_a_missing_workflow_is_not_started_and_temporal_down_is_503(
        stack: Stack, settings: dict, demo_database: str):
    repair_id = await report(stack.api)
    conn = await asyncpg.connect(to_asyncpg_dsn(stack.database_url))
    try:
        await conn.execute("UPDATE intake.repairs SET workflow_id = 'repair-gone' "
                           "WHERE id = $1", repair_id)
    finally:
        await conn.close()
    starting = await stack.api.post(f"/v1/repairs/{repair_id}/accept",
                                    json={"technician_id": "T-SH-01"})
    assert starting.status_code == 409 and starting.json()["code"] == "not_started"

    key = await create_key(demo_database, name="console", group="HX", projects=None)
    app = create_app(IntakeSettings(**{**settings, "temporal_address":
                                       f"127.0.0.1:{free_port()}"}))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://intake",
        headers={"Authorization": f"Bearer {key.token}"},
    ) as api:
        down = await api.post(f"/v1/repairs/{repair_id}/accept",
                              json={"technician_id": "T-SH-01"})
        assert down.status_code == 503 and down.json()["code"] == "service_unavailable"
        assert (await api.get(f"/v1/repairs/{repair_id}/progress")).status_code == 503


async def test_an_action_taken_but_slow_to_apply_is_202_and_is_applied(
        settings: dict, demo_database: str, bus, temporal_client: Client, monkeypatch):
    """Dispatch away after the offer: the workflow takes the acceptance but cannot record it
    with dispatch yet. The caller is told so (202, where to look), and once dispatch is
    back the acceptance goes through without being sent again."""
    monkeypatch.setattr(lifecycle_endpoints, "ACTION_TIMEOUT", 1.5)
    async with AsyncExitStack() as running:
        await running.enter_async_context(warranty_running(WarrantySettings(**settings)))
        await running.enter_async_context(build_worker(temporal_client, bus,
                                                       WorkerSettings(**settings)))
        app = create_app(IntakeSettings(**settings))
        await running.enter_async_context(app.router.lifespan_context(app))
        key = await create_key(demo_database, name="console", group="HX", projects=None)
        api = await running.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake",
            headers={"Authorization": f"Bearer {key.token}"}))
        async with dispatch_running(DispatchSettings(**settings)):
            repair_id = await report(api)
            technician = await offered(api, repair_id)
        taken = await api.post(f"/v1/repairs/{repair_id}/accept",
                               json={"technician_id": technician})
        assert taken.status_code == 202, taken.text
        assert taken.headers["Location"] == f"/v1/repairs/{repair_id}/progress"
        assert taken.json()["code"] == "still_applying"
        async with dispatch_running(DispatchSettings(**settings)):
            state = await progress_when(api, repair_id, lambda s: s["status"] == "accepted",
                                        timeout=30)
        assert state["technician_id"] == technician


async def test_a_repeat_call_that_says_emergency_raises_the_open_repair(stack: Stack):
    api = stack.api
    first = await report(api)
    routine = (await api.get(f"/v1/repairs/{first}")).json()
    assert routine["priority"] == "routine"
    again = await api.post("/v1/repairs", json={
        **REPORT, "emergency": True, "channel": "wechat",
        "description": "水已经漫到客厅了，楼下也在滴水",
        "reported_at": "2025-11-22T09:00:00+08:00"})  # a year typed wrong: not a past deadline
    assert again.status_code == 200, again.text
    raised = again.json()
    assert raised["duplicate_of"] == first and raised["priority"] == "emergency"
    assert raised["deadlines"]["arrive_by"] < routine["deadlines"]["arrive_by"]
    assert raised["deadlines"]["arrive_by"] > routine["received_at"]
    assert raised["deadlines"]["arrive_rule"].startswith("emergency")
    state = await progress_when(api, first, lambda s: s["priority"] == "emergency")
    assert state["arrive_by"] == raised["deadlines"]["arrive_by"]
    deadline = time.monotonic() + 15
    while True:  # GET /v1/repairs/{id} follows the workflow's events
        timeline = (await api.get(f"/v1/repairs/{first}")).json()["timeline"]
        step = next((e for e in timeline if e["kind"] == "priority_raised"), None)
        if step is not None:
            break
        assert time.monotonic() < deadline, timeline
        await asyncio.sleep(0.2)
    assert step["by"] == "王芳"
    # An emergency now: assessed on site within 30 minutes of the arrival (004 §4.3).
    who = await offered(api, first)
    await act(api, first, "accept", technician_id=who)
    arrived = await act(api, first, "arrive", technician_id=who)
    assert datetime.fromisoformat(arrived["assess_by"]) == datetime.fromisoformat(
        arrived["arrived_at"]) + timedelta(minutes=30)
    described = await stack.temporal.get_workflow_handle(f"repair-{first}").describe()
    assert described.typed_search_attributes.get(sa.PRIORITY) == "emergency"
    # Said again, nothing moves.
    once_more = await api.post("/v1/repairs", json={**REPORT, "emergency": True})
    assert once_more.json()["deadlines"]["arrive_by"] == raised["deadlines"]["arrive_by"]
    # The technician already there: an emergency now, with no arrival deadline to move.
    there = await report(api, unit="1-101")
    await take_and_arrive(api, there)
    arrived = await followed(api, there, "arrived")
    late_call = (await api.post("/v1/repairs", json={
        **REPORT, "unit": "1-101", "emergency": True})).json()
    assert late_call["priority"] == "emergency"
    assert late_call["deadlines"]["arrive_by"] == arrived["deadlines"]["arrive_by"]


async def test_a_projects_service_levels_reach_its_new_repairs(stack: Stack):
    api = stack.api
    defaults = (await api.get("/v1/projects/SH-LJ/service-levels")).json()
    assert defaults["dispatching"] == {"offer_minutes": 5}
    assert defaults["targets"]["routine"]["finish"] == {"working_days": 3}
    put = await api.put("/v1/projects/SH-LJ/service-levels", json={
        "dispatching": {"offer_minutes": 7}, "rework": {"limit": 1},
        "targets": {"routine": {"finish": {"working_days": 5}}},
        "escalation": {"chain": ["engineering_manager", "property_director"]}})
    assert put.status_code == 200, put.text
    stored = (await api.get("/v1/projects/SH-LJ/service-levels")).json()
    assert stored == put.json()
    assert stored["dispatching"] == {"offer_minutes": 7} and stored["rework"] == {"limit": 1}
    assert stored["targets"]["routine"]["arrive"] == {"minutes": 20, "outside_hours_minutes": 60}
    # The duplicate window, the other half of the project's intake settings, is untouched.
    assert (await api.get("/v1/projects/SH-LJ/intake")).json() == {"duplicate_window_hours": 72}

    repair_id = await report(api)
    repair = (await api.get(f"/v1/repairs/{repair_id}")).json()
    assert "5 working days" in repair["deadlines"]["finish_rule"]
    assert "the project's policy" in repair["deadlines"]["finish_rule"]
    policy = await workflow_policy(stack.temporal, f"repair-{repair_id}")
    assert policy["offer_seconds"] == 420 and policy["rework_limit"] == 1
    assert policy["escalation_chain"] == ["engineering_manager", "property_director"]
    assert policy["arrive_seconds_outside_hours"] == 3600  # kept its default

    for body, field in (({"targets": {"routine": {"arrive": None}}}, "targets.routine.arrive"),
                        ({"dispatching": {"offer_minutes": 0}}, "dispatching.offer_minutes"),
                        ({"colour": "red"}, "colour")):
        refused = await api.put("/v1/projects/SH-LJ/service-levels", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == field
    unknown = await api.put("/v1/projects/NOPE/service-levels", json={})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_project"


async def workflow_policy(temporal: Client, workflow_id: str) -> dict:
    """The LifecyclePolicy the workflow was started with, from its history."""
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    return json.loads(started.input.payloads[0].data)["policy"]


async def test_the_read_model_keeps_each_step_once_and_never_goes_back(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    await offered(api, repair_id)  # the workflow now waits for an answer: no steps of its own
    start = datetime.now(UTC)

    def step(sequence: int, status: str, kind: str, **extra) -> RepairProgressed:
        return RepairProgressed(repair_id=repair_id, project="SH-LJ", sequence=sequence,
                                status=status, kind=kind,
                                at=start + timedelta(seconds=sequence), by="T-SH-77",
                                detail=f"step {sequence}", technician_id="T-SH-77", **extra)

    # Out of order, redelivered (another message id, as after the dedup window).
    for number, event in enumerate((
            step(102, "arrived", "arrived"), step(101, "accepted", "accepted"),
            step(103, "accepted", "rework", reworks=1),
            step(103, "accepted", "rework", reworks=1),
            step(105, "arrived", "arrived", overdue=True, reworks=1),
            step(104, "accepted", "overdue", overdue=True, reworks=1))):
        await stack.bus.publish_event(REPAIR_PROGRESSED, event, msg_id=f"test-{number}")
    deadline = time.monotonic() + 15
    while True:
        repair = (await api.get(f"/v1/repairs/{repair_id}")).json()
        ours = [e for e in repair["timeline"] if e["detail"].startswith("step ")]
        if len(ours) == 5 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert [e["detail"] for e in ours] == [f"step {n}" for n in range(101, 106)]
    assert repair["status"] == "arrived"  # step 105's, not the late 104's
    assert repair["assignee"] == "T-SH-77"
    assert repair["reworks"] == 1 and repair["overdue"] is True
    # The workflow's own overdue step stands in for intake's older entry.
    assert [e["kind"] for e in repair["timeline"]].count("overdue") == 1


# A paid repair (有偿维修): the project's standard service items, in fen (分).
ANGLE_VALVE = {"code": "PL-01", "name": "更换角阀", "quantity": 2, "unit_price_fen": 3500}
DRAIN = {"code": "PL-09", "name": "疏通下水管道", "quantity": 1, "unit_price_fen": 8000}
TOILET = {"code": "PL-21", "name": "更换坐便器（含安装）", "quantity": 1, "unit_price_fen": 68000}
HOUSEKEEPER = "管家 赵敏"
WAIVER_REASON = "管家协商：业主为老业主，减免坐便器费用"


async def quoted(api: httpx.AsyncClient, repair_id: str, *lines: dict) -> str:
    """An owner's misuse found on site: the repair becomes paid, quoted with the diagnosis,
    and the work waits for the owner's agreement."""
    who = await take_and_arrive(api, repair_id)
    diagnosed = await act(api, repair_id, "diagnose", technician_id=who, cause="owner_misuse",
                          plan="业主自行改管导致角阀渗漏，更换角阀并疏通下水",
                          quote={"lines": list(lines), "by": who})
    assert diagnosed["warranty_outcome"] == "chargeable"
    assert diagnosed["status"] == "quoted" and diagnosed["quote_state"] == "quoted"
    assert diagnosed["quote"]["lines"] == list(lines) and diagnosed["quote"]["by"] == who
    assert diagnosed["quote"]["total_fen"] == sum(
        line["quantity"] * line["unit_price_fen"] for line in lines)
    early = await api.post(f"/v1/repairs/{repair_id}/complete",
                           json={"technician_id": who, "work_done": "更换角阀"})
    assert early.status_code == 409 and early.json()["code"] == "action_refused"
    assert "the repair is quoted" in early.json()["detail"]
    return who


async def test_a_paid_repair_goes_ahead_once_the_owner_accepts_the_quote(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    who = await quoted(api, repair_id, ANGLE_VALVE, DRAIN)
    progress = (await api.get(f"/v1/repairs/{repair_id}/progress")).json()
    assert progress["quote"]["total_fen"] == 15_000 and progress["waiver"] is None
    again = await api.post(f"/v1/repairs/{repair_id}/quote",
                           json={"lines": [DRAIN], "by": who})
    assert again.status_code == 409 and "this needs it diagnosed" in again.json()["detail"]

    agreed = await act(api, repair_id, "quote-decision", decision="accept", by=OWNER)
    assert agreed["status"] == "diagnosed" and agreed["quote_state"] == "accepted"
    done = await act(api, repair_id, "complete", technician_id=who,
                     work_done="更换角阀2个并疏通下水管道", materials=["角阀 2个"])
    assert done["status"] == "completed"
    closed = await act(api, repair_id, "acceptance", accepted=True, signed_by=OWNER)
    assert closed["status"] == "closed" and closed["quote_state"] == "accepted"

    repair = await followed(api, repair_id, "closed")
    assert repair["warranty_outcome"] == "chargeable"
    assert kinds(repair)[-5:] == ["warranty_decided", "quoted", "quote_accepted", "completed",
                                  "closed"]
    step = next(e for e in repair["timeline"] if e["kind"] == "quoted")
    assert step["by"] == who and step["detail"].startswith("150.00 yuan: 更换角阀 x2")
    assert next(e for e in repair["timeline"] if e["kind"] == "quote_accepted")["by"] == OWNER


async def test_the_same_problem_within_the_repair_guarantee_is_repaired_again_free(
        stack: Stack):
    """004 紧急维修制度 §7: a repaired problem back within 3 months is repaired free again,
    unless the technician finds it is not the earlier repair's fault."""
    api = stack.api
    first = await report(api)
    who = await take_and_arrive(api, first)
    await act(api, first, "diagnose", technician_id=who, cause="construction_defect",
              plan="更换地漏并重做局部防水")
    await act(api, first, "complete", technician_id=who, work_done="更换地漏")
    accepted = await act(api, first, "acceptance", accepted=True, signed_by=OWNER)
    assert accepted["status"] == "closed"
    closed = await followed(api, first, "closed")
    signed = next(e for e in closed["timeline"] if e["kind"] == "closed")["at"]

    response = await api.post("/v1/repairs", json={**REPORT, "description": "地漏又渗水了"})
    assert response.status_code == 201, response.text
    again = response.json()
    assert again["duplicate_of"] is None and again["id"] != first
    guarantee = again["repair_guarantee"]
    assert (guarantee["repair_id"], guarantee["ticket"]) == (first, closed["ticket"])
    signed_on, through = date.fromisoformat(signed[:10]), date.fromisoformat(
        guarantee["guaranteed_through"])  # three months on, to the corresponding day
    assert 89 <= (through - signed_on).days <= 92
    assert through.day == signed_on.day or signed_on.day > 28

    who = await take_and_arrive(api, again["id"])
    # Misuse is not the earlier repair's fault: the owner pays.
    misuse = await act(api, again["id"], "diagnose", technician_id=who, cause="owner_misuse",
                       plan="业主堵塞地漏")
    assert misuse["warranty_outcome"] == "chargeable"
    # Wear so soon is: the warranty's own decision is chargeable, the guarantee makes it free.
    wear = await act(api, again["id"], "diagnose", technician_id=who, cause="wear",
                     plan="地漏密封圈老化，更换")
    assert wear["warranty"]["chargeable"] is True and wear["warranty_outcome"] == "free"
    done = await act(api, again["id"], "complete", technician_id=who, work_done="更换密封圈")
    assert done["status"] == "completed" and done["quote"] is None
    repair = await followed(api, again["id"], "completed")
    step = next(e for e in repair["timeline"] if e["kind"] == "repair_guarantee")
    assert closed["ticket"] in step["detail"]


async def test_the_centers_reports_count_orders_and_paid_repairs(stack: Stack):
    """The day's return (completed, unfinished with why, cancelled) and the finance
    statement of paid repairs, from the repairs' own steps."""
    api = stack.api
    paid = await report(api)
    who = await quoted(api, paid, ANGLE_VALVE, DRAIN)
    await act(api, paid, "quote-decision", decision="accept", by=OWNER)
    await act(api, paid, "complete", technician_id=who, work_done="更换角阀2个并疏通下水管道")
    waiting = await report(api, unit="1-101")
    await offered(api, waiting)
    await act(api, waiting, "pause", reason="等待防水卷材到货", by="客服 王敏")
    dropped = await report(api, unit="1-1201")
    await act(api, dropped, "cancel", reason="owner_withdrew", by="客服 王敏")
    await followed(api, paid, "completed")
    await followed(api, dropped, "cancelled")
    deadline = time.monotonic() + 15
    while True:  # the read model follows the workflow's events
        day = (await api.get("/v1/projects/SH-LJ/reports/orders",
                             params={"period": "day"})).json()
        reasons = [o["reason"] for o in day["unfinished_orders"]]
        if any("等待防水卷材到货" in r for r in reasons) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert (day["issued"], day["completed"], day["completed_of_issued"], day["unfinished"],
            day["ended_without_work"]) == (3, 1, 1, 1, 1)
    assert day["completion_ratio"] == 0.5
    [late] = day["unfinished_orders"]
    assert late["repair_id"] == waiting and late["reason"] == "paused: 等待防水卷材到货"
    assert day["starts_on"] == day["ends_on"] == datetime.now(SHANGHAI).date().isoformat()

    today = datetime.now(SHANGHAI).date()
    due = today if today.day <= 20 else (today.replace(day=1) + timedelta(days=32))
    statement = (await api.get("/v1/projects/SH-LJ/reports/finance",
                               params={"month": f"{due:%Y-%m}"})).json()
    assert statement["ends_on"] == f"{due:%Y-%m}-20"
    assert [r["repair_id"] for r in statement["repairs"]] == [paid]
    assert (statement["quoted_fen"], statement["waived_fen"], statement["due_fen"]) == (
        15_000, 0, 15_000)
    for params, field in (({"month": "2026-13"}, "month"), ({"month": "0000-01"}, "month")):
        bad = await api.get("/v1/projects/SH-LJ/reports/finance", params=params)
        assert bad.status_code == 422 and bad.json()["field"] == field, bad.text
    far = await api.get("/v1/projects/SH-LJ/reports/orders",
                        params={"period": "month", "on": "9999-12-31"})
    assert far.status_code == 422 and far.json()["field"] == "on", far.text


async def test_a_waiver_over_the_limit_needs_a_company_leader(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    who = await quoted(api, repair_id, TOILET, ANGLE_VALVE)  # 750.00 yuan
    disputed = await act(api, repair_id, "quote-decision", decision="dispute", by=OWNER,
                         note="认为坐便器是原装质量问题")
    assert disputed["status"] == "disputed" and disputed["quote_state"] == "disputed"
    too_much = await api.post(f"/v1/repairs/{repair_id}/waiver-request", json={
        "amount_fen": 75_001, "reason": "全额减免", "by": HOUSEKEEPER})
    assert too_much.status_code == 409 and "75000" in too_much.json()["detail"]
    asked = await act(api, repair_id, "waiver-request", amount_fen=60_000,
                      reason=WAIVER_REASON, by=HOUSEKEEPER)
    assert asked["status"] == "waiver_pending"
    assert asked["waiver"] == {"amount_fen": 60_000, "reason": WAIVER_REASON,
                               "by": HOUSEKEEPER}
    assert asked["waiver_approver"] == "company_leader"  # 600 yuan: over the 500 limit

    director = await api.post(f"/v1/repairs/{repair_id}/waiver-decision", json={
        "approved": True, "approver_role": "property_director", "by": "物业总监 孙强"})
    assert director.status_code == 409, director.text
    assert director.json()["code"] == "action_refused"
    assert "needs the company_leader" in director.json()["detail"]
    approved = await act(api, repair_id, "waiver-decision", approved=True,
                         approver_role="company_leader", by="公司领导 李伟", note="同意减免")
    assert approved["status"] == "diagnosed" and approved["quote_state"] == "waived"
    done = await act(api, repair_id, "complete", technician_id=who, work_done="更换坐便器及角阀")
    assert done["status"] == "completed"

    repair = await followed(api, repair_id, "completed")
    assert kinds(repair)[-4:] == ["quote_disputed", "waiver_requested", "waiver_approved",
                                  "completed"]
    step = next(e for e in repair["timeline"] if e["kind"] == "waiver_approved")
    assert step["by"] == "公司领导 李伟" and "the owner pays 150.00" in step["detail"]


async def test_paid_path_refusals_name_the_field_or_the_reason(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    await quoted(api, repair_id, ANGLE_VALVE)
    line = ANGLE_VALVE
    for action, body, field in (
        ("quote-decision", {"decision": "maybe", "by": OWNER}, "decision"),
        ("quote-decision", {"decision": "accept"}, "by"),
        ("quote-decision", {"decision": "accept", "by": OWNER, "note": "  "}, "note"),
        ("quote", {"lines": [], "by": "T-SH-01"}, "lines"),
        ("quote", {"lines": [line] * 51, "by": "T-SH-01"}, "lines"),
        ("quote", {"lines": [{**line, "quantity": 0}], "by": "T-SH-01"}, "lines.0.quantity"),
        ("quote", {"lines": [{**line, "quantity": 1001}], "by": "T-SH-01"},
         "lines.0.quantity"),
        ("quote", {"lines": [{**line, "unit_price_fen": "35.00"}], "by": "T-SH-01"},
         "lines.0.unit_price_fen"),
        ("quote", {"lines": [{**line, "unit_price_fen": 10_000_001}], "by": "T-SH-01"},
         "lines.0.unit_price_fen"),
        ("quote", {"lines": [{**line, "price": 1}], "by": "T-SH-01"}, "lines.0.price"),
        ("diagnose", {"technician_id": "T-SH-01", "cause": "owner_misuse", "plan": "x",
                      "quote": {"lines": [{**line, "unit_price_fen": -1}], "by": "T-SH-01"}},
         "quote.lines.0.unit_price_fen"),
        ("waiver-request", {"amount_fen": 0, "reason": "x", "by": HOUSEKEEPER}, "amount_fen"),
        ("waiver-request", {"amount_fen": 100, "reason": " ", "by": HOUSEKEEPER}, "reason"),
        ("waiver-decision", {"approved": True, "approver_role": "engineering_manager",
                             "by": "x"}, "approver_role"),
    ):
        response = await api.post(f"/v1/repairs/{repair_id}/{action}", json=body)
        assert response.status_code == 422, (action, body, response.text)
        assert response.json()["field"] == field, (action, body, response.text)
    # Not waiting for a waiver: a decision is refused with the reason.
    early = await api.post(f"/v1/repairs/{repair_id}/waiver-decision", json={
        "approved": True, "approver_role": "company_leader", "by": "公司领导 李伟"})
    assert early.status_code == 409 and "waiver_pending" in early.json()["detail"]

    other = await stack.key(group="ZZ")
    await api.put("/v1/projects/ZZ-1", json={**PROJECT, "code": "ZZ-1", "group": "ZZ"})
    for action, body in (("quote", {"lines": [line], "by": "ZZ"}),
                         ("quote-decision", {"decision": "refuse", "by": "ZZ"}),
                         ("waiver-request", {"amount_fen": 100, "reason": "x", "by": "ZZ"}),
                         ("waiver-decision", {"approved": True,
                                              "approver_role": "company_leader", "by": "ZZ"})):
        hidden = await api.post(f"/v1/repairs/{repair_id}/{action}", json=body, headers=other)
        assert hidden.status_code == 404 and hidden.json()["code"] == "repair_not_found"
    assert (await api.get(f"/v1/repairs/{repair_id}/progress")).json()["status"] == "quoted"

    # The owner refuses to pay: the service stops, and nothing more is done.
    refused = await act(api, repair_id, "quote-decision", decision="refuse", by=OWNER,
                        note="业主自行找人维修")
    assert refused["status"] == "refused" and refused["quote_state"] == "refused"
    repair = await followed(api, repair_id, "refused")
    assert repair["timeline"][-1]["kind"] == "quote_refused"
    late = await api.post(f"/v1/repairs/{repair_id}/quote-decision",
                          json={"decision": "accept", "by": OWNER})
    assert late.status_code == 409 and late.json()["code"] == "action_refused"


async def progress_when(api: httpx.AsyncClient, repair_id: str, check, timeout: float = 15
                        ) -> dict:
    """GET .../progress once the workflow's state passes `check`."""
    deadline = time.monotonic() + timeout
    while True:
        state = (await api.get(f"/v1/repairs/{repair_id}/progress")).json()
        if check(state):
            return state
        assert time.monotonic() < deadline, f"never: {state}"
        await asyncio.sleep(0.2)


async def test_a_repair_handed_to_the_liable_party_through_http(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    before = await api.get(f"/v1/repairs/{repair_id}/delegation")
    assert before.status_code == 409 and before.json()["code"] in ("not_delegated",
                                                                   "not_started")
    who = await take_and_arrive(api, repair_id)
    await act(api, repair_id, "diagnose", technician_id=who, cause="construction_defect",
              plan="防水层失效，现场无法处理，转原施工单位", hand_over=True)
    state = await progress_when(api, repair_id, lambda s: s["status"] == "delegated"
                                and s["liable_party_name"])
    assert state["technician_id"] is None
    # Our technician is out of it now.
    refused = await api.post(f"/v1/repairs/{repair_id}/complete",
                             json={"technician_id": who, "work_done": "x"})
    assert refused.status_code == 409 and "delegated" in refused.json()["detail"]

    delegation = (await api.get(f"/v1/repairs/{repair_id}/delegation")).json()
    assert delegation["status"] == "notified"
    assert delegation["liable_party_name"] == state["liable_party_name"]
    assert delegation["attend_by"].endswith("+08:00")
    early = await api.post(f"/v1/repairs/{repair_id}/delegation/another-party",
                           json={"party_name": "物业工程部", "by": "工程经理 周明"})
    assert early.status_code == 409 and "has until" in early.json()["detail"]
    bad = await api.post(f"/v1/repairs/{repair_id}/delegation/attend", json={})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "by"

    base = f"/v1/repairs/{repair_id}/delegation"
    measures = await api.post(f"{base}/emergency-measures",
                              json={"by": "工程部 李强", "what": "关闭进水阀，楼下接水"})
    assert measures.status_code == 200, measures.text
    attended = await api.post(f"{base}/attend", json={"by": "东方雨虹 陈刚"})
    assert attended.status_code == 200 and attended.json()["status"] == "attended"
    done = await api.post(f"{base}/repaired", json={"by": "东方雨虹 陈刚",
                                                    "work_done": "重做防水层，闭水试验无渗漏"})
    assert done.status_code == 200 and done.json()["status"] == "repaired"
    await progress_when(api, repair_id, lambda s: s["status"] == "completed")
    closed = await act(api, repair_id, "acceptance", accepted=True, signed_by=OWNER)
    assert closed["status"] == "closed"
    repair = await followed(api, repair_id, "closed")
    assert "delegated" in kinds(repair) and "liable_party_attended" in kinds(repair)
    # No technician of ours holds it; the timeline names the liable party.
    assert repair["assignee"] is None
    handed = next(e for e in repair["timeline"] if e["kind"] == "delegated")
    assert state["liable_party_name"] in handed["detail"]
    ended = (await api.get(base)).json()
    assert [e["kind"] for e in ended["timeline"]] == ["notice", "emergency_measures",
                                                      "attended", "repaired"]
