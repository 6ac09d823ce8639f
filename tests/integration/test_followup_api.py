"""Follow-up through HTTP with every part on the time-skipping Temporal server: a repair
driven to the owner's acceptance over the API gets its return visit, due a month after the
work was completed (time skipped), whose result is recorded and shows in the quarter's
statistics; the unsatisfied owner's complaint is answered within its 24 hours; bad input is
refused with the reason."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from services.common.bus import Bus
from services.dispatch.service import DispatchSettings
from services.dispatch.service import running as dispatch_running
from services.followup.service import FollowupSettings
from services.followup.service import running as followup_running
from services.intake.app import IntakeSettings, create_app
from services.intake.keys import create_key
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from tests.integration.test_repair_actions import OWNER, act, report, take_and_arrive
from tests.integration.test_repair_workflow import during_working_hours
from workflows.worker import WorkerSettings, build_worker

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def api(time_skipping: WorkflowEnvironment, settings: dict, demo_database: str,
              bus: Bus) -> AsyncIterator[httpx.AsyncClient]:
    """The whole system on this test's slice, its Temporal the time-skipping server."""
    target = time_skipping.client.service_client.config.target_host
    settings = {**settings, "temporal_address": target}
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(warranty_running(WarrantySettings(**settings)))
        await stack.enter_async_context(dispatch_running(DispatchSettings(**settings)))
        await stack.enter_async_context(followup_running(FollowupSettings(**settings),
                                                         temporal=time_skipping.client))
        await stack.enter_async_context(build_worker(time_skipping.client, bus,
                                                     WorkerSettings(**settings)))
        app = create_app(IntakeSettings(**settings, outbox_interval=0.2))
        await stack.enter_async_context(app.router.lifespan_context(app))
        operator = await create_key(demo_database, name="operator", group=None,
                                    projects=None, rate_per_minute=100_000)
        yield await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake",
            headers={"Authorization": f"Bearer {operator.token}"}))


async def visit_of(api: httpx.AsyncClient, repair_id: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        answer = await api.get(f"/v1/return-visits/repair-{repair_id}")
        if answer.status_code == 200:
            return answer.json()
        assert answer.status_code == 404, answer.text
        assert time.monotonic() < deadline, "no return visit"
        await asyncio.sleep(0.2)


RESULT = {"method": "visit", "quality": 4, "effect": 5, "satisfaction": 5, "satisfied": True,
          "owner_confirmed": True, "by": "客服 王敏"}


async def test_an_accepted_repair_is_visited_a_month_later_and_counted(
        time_skipping: WorkflowEnvironment, api: httpx.AsyncClient):
    with time_skipping.auto_time_skipping_disabled():
        await during_working_hours(time_skipping)
        repair_id = await report(api)
        who = await take_and_arrive(api, repair_id)
        await act(api, repair_id, "complete", technician_id=who, work_done="更换角阀")
        await time_skipping.sleep(timedelta(hours=5))  # the owner signs off later
        await act(api, repair_id, "acceptance", accepted=True, signed_by=OWNER)
    visit = await visit_of(api, repair_id)
    assert visit["status"] == "due" and visit["kind"] == "repair"
    # The window counts from the completion (完成维修工程一个月后), not the sign-off.
    timeline = (await api.get(f"/v1/repairs/{repair_id}")).json()["timeline"]
    completed = next(s["at"] for s in timeline if s["kind"] == "completed")
    assert datetime.fromisoformat(visit["served_at"]) == datetime.fromisoformat(completed)
    due = (await api.get("/v1/return-visits", params={"project": "SH-LJ"})).json()["visits"]
    assert visit["id"] in [v["id"] for v in due]
    # Not yet: the window opens a month after the work.
    now = await time_skipping.get_current_time()
    early = await api.post(f"/v1/return-visits/{visit['id']}/result",
                           json={**RESULT, "at": now.isoformat()})
    assert early.status_code == 409 and early.json()["code"] == "visit_not_due"

    opens = datetime.fromisoformat(visit["opens_at"])
    await time_skipping.sleep(opens - now + timedelta(days=1))
    at = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    bad = await api.post(f"/v1/return-visits/{visit['id']}/result",
                         json={**RESULT, "satisfaction": 6, "at": at.isoformat()})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "satisfaction"
    future = await api.post(f"/v1/return-visits/{visit['id']}/result",
                            json={**RESULT, "at": "9999-12-31T23:00:00Z", "satisfied": False})
    assert future.status_code == 422 and future.json()["field"] == "at", future.text
    made = await api.post(f"/v1/return-visits/{visit['id']}/result", json={
        **RESULT, "at": at.isoformat(), "satisfied": False, "satisfaction": 2,
        "shortcomings": "墙角仍潮湿", "defect_found": {"description": "卫生间墙角仍有渗水"}})
    assert made.status_code == 200, made.text
    result = made.json()["result"]
    assert made.json()["status"] == "done" and result["new_repair_id"]
    again = await api.post(f"/v1/return-visits/{visit['id']}/result",
                           json={**RESULT, "at": at.isoformat()})
    assert again.status_code == 409 and again.json()["code"] == "already_recorded"
    # The defect found is a new repair of the same place, from the return visit.
    new = (await api.get(f"/v1/repairs/{result['new_repair_id']}")).json()
    assert new["channel"] == "return_visit" and new["unit"] == visit["unit"]
    # The unsatisfied owner's complaint goes to the manager; handled, it is visited in turn.
    waiting = (await api.get("/v1/complaints", params={"project": "SH-LJ"})).json()
    assert [c["id"] for c in waiting["complaints"]] == [f"visit-{visit['id']}"]
    one = (await api.get(f"/v1/complaints/visit-{visit['id']}")).json()
    assert one["handled_at"] is None and one["respond_by"]
    early = await api.post(f"/v1/complaints/visit-{visit['id']}/handled", json={
        "by": "经理 孙强", "outcome": "返修并致歉", "at": (at - timedelta(days=1)).isoformat()})
    assert early.status_code == 422 and early.json()["field"] == "at", early.text
    handled = await api.post(f"/v1/complaints/visit-{visit['id']}/handled", json={
        "by": "经理 孙强", "outcome": "返修并致歉",
        "at": (at + timedelta(hours=20)).isoformat()})
    assert handled.status_code == 200 and handled.json()["assignee_role"] == "manager"
    # Answered within its 24 hours (004 紧急维修制度 §8.2).
    complaint = handled.json()
    assert datetime.fromisoformat(complaint["respond_by"]) == at + timedelta(hours=24)
    assert complaint["late"] is False

    # Counted in the quarter the repair was served in, as the sampler counted it.
    served = datetime.fromisoformat(visit["served_at"]).astimezone(SHANGHAI)
    numbers = {"year": served.year, "quarter": (served.month - 1) // 3 + 1}
    statistics = await api.get("/v1/projects/SH-LJ/followup-statistics", params=numbers)
    assert statistics.status_code == 200, statistics.text
    repairs = next(k for k in statistics.json()["kinds"] if k["kind"] == "repair")
    assert repairs["due"] == 1 and repairs["done"] == 1 and repairs["on_time"] == 1
    assert repairs["met"] is True
    assert statistics.json()["failed_visits"] == [visit["id"]]


async def test_follow_up_input_is_checked(api: httpx.AsyncClient):
    unknown = await api.get("/v1/return-visits/repair-nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_visit"
    quarter = await api.get("/v1/projects/SH-LJ/followup-statistics",
                            params={"year": 2026, "quarter": 5})
    assert quarter.status_code == 422 and quarter.json()["errors"][0]["field"] == "quarter"
    nowhere = await api.get("/v1/projects/XX-NONE/followup-statistics",
                            params={"year": 2026, "quarter": 1})
    assert nowhere.status_code == 404
    policy = await api.put("/v1/projects/SH-LJ/followup-policy",
                           json={"rates": {"repair": 2}})
    assert policy.status_code == 422 and "rates" in policy.json()["errors"][0]["field"]
    kept = await api.put("/v1/projects/SH-LJ/followup-policy",
                         json={"specialists": ["客服 王敏"]})
    assert kept.status_code == 200 and kept.json()["policy"]["rates"]["repair"] == 0.8
    assert (await api.get("/v1/projects/SH-LJ/followup-policy")).json()["policy"][
        "specialists"] == ["客服 王敏"]
    handled = await api.post("/v1/complaints/nope/handled", json={"by": "x", "outcome": "y"})
    assert handled.status_code == 404


async def test_a_years_revisits_are_planned_and_recorded_over_http(api: httpx.AsyncClient):
    planned = await api.post("/v1/projects/SH-LJ/revisit-plans", json={"year": 2028})
    assert planned.status_code == 200, planned.text
    plan = planned.json()
    kinds = {r["kind"] for r in plan["revisits"]}
    assert {"half_yearly", "expiry_notice"} <= kinds and plan["added"] == len(plan["revisits"])
    again = (await api.post("/v1/projects/SH-LJ/revisit-plans", json={"year": 2028})).json()
    assert again["added"] == 0 and len(again["revisits"]) == len(plan["revisits"])
    first = plan["revisits"][0]
    done = await api.post(f"/v1/revisits/{first['id']}/result",
                          json={"result": "走访8户，无新问题", "by": "工程部 李强"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    twice = await api.post(f"/v1/revisits/{first['id']}/result",
                           json={"result": "again", "by": "工程部 李强"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_recorded"
    left = (await api.get("/v1/projects/SH-LJ/revisits",
                          params={"year": 2028, "status": "planned"})).json()["revisits"]
    assert first["id"] not in [r["id"] for r in left]
    assert (await api.post("/v1/projects/SH-LJ/revisit-plans",
                           json={"year": 1999})).status_code == 422
    assert (await api.post("/v1/projects/XX-NONE/revisit-plans",
                           json={"year": 2028})).status_code == 404
    # Certificates: a unit's is issued once.
    missing = (await api.get("/v1/projects/SH-LJ/certificates")).json()["certificates"]
    unit = missing[0]
    assert unit["due_on"] == "2023-07-30"  # building 1 completed 2023-06-30 (竣工一个月内)
    issued = await api.post("/v1/projects/SH-LJ/certificates", json={
        "building": unit["building"], "unit": unit["unit"],
        "issued_on": unit["delivered_on"]})
    assert issued.status_code == 200 and issued.json()["issued_on"] == unit["delivered_on"]
    after = (await api.get("/v1/projects/SH-LJ/certificates")).json()["certificates"]
    assert unit["unit"] not in [c["unit"] for c in after]


async def test_a_revisit_s_finding_is_due_in_15_days_and_solved_by_the_repair(
        time_skipping: WorkflowEnvironment, api: httpx.AsyncClient):
    plan = (await api.post("/v1/projects/SH-LJ/revisit-plans", json={"year": 2028})).json()
    revisit = plan["revisits"][0]
    with time_skipping.auto_time_skipping_disabled():
        await during_working_hours(time_skipping)
        repair_id = await report(api)
        at = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
        done = await api.post(f"/v1/revisits/{revisit['id']}/result", json={
            "result": "2单元外墙有裂缝，已报修", "by": "工程部 李强", "at": at.isoformat(),
            "found_repair_ids": [repair_id]})
        assert done.status_code == 200, done.text
        # 发现问题15日内解决 (002 篇5): due 15 days after the revisit's day, open until then.
        due_on = (at.date() + timedelta(days=15)).isoformat()
        assert done.json()["findings"] == [
            {"repair_id": repair_id, "due_on": due_on, "solved_at": None, "state": "open"}]
        numbers = {"year": at.year, "quarter": (at.month - 1) // 3 + 1}
        counted = (await api.get("/v1/projects/SH-LJ/followup-statistics",
                                 params=numbers)).json()["revisit_findings"]
        assert (counted["found"], counted["open_ids"]) == (1, [repair_id])

        who = await take_and_arrive(api, repair_id)
        await act(api, repair_id, "complete", technician_id=who, work_done="外墙裂缝修补")
    timeline = (await api.get(f"/v1/repairs/{repair_id}")).json()["timeline"]
    completed = next(s["at"] for s in timeline if s["kind"] == "completed")
    deadline = time.monotonic() + 15
    while True:  # follow-up applies the repair's events as they come
        listed = (await api.get("/v1/projects/SH-LJ/revisits",
                                params={"status": "done"})).json()["revisits"]
        (found,) = next(r for r in listed if r["id"] == revisit["id"])["findings"]
        if found["state"] != "open":
            break
        assert time.monotonic() < deadline, "the finding is still open"
        await asyncio.sleep(0.2)
    assert found["state"] == "solved" and found["due_on"] == due_on
    assert datetime.fromisoformat(found["solved_at"]) == datetime.fromisoformat(completed)
    counted = (await api.get("/v1/projects/SH-LJ/followup-statistics",
                             params=numbers)).json()["revisit_findings"]
    assert counted == {"found": 1, "solved": 1, "solved_late": 0, "overdue": 0, "open": 0,
                       "solved_ids": [repair_id], "solved_late_ids": [], "overdue_ids": [],
                       "open_ids": []}
