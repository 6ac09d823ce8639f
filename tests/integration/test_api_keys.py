"""API keys on real servers: every endpoint needs one, and a key scoped to a group (or to
some of its projects) never reads or changes another's data, whichever endpoint it tries."""

from __future__ import annotations

import asyncio
import copy

import httpx
import pytest
from typer.testing import CliRunner

from services.cli import app as cli
from tests.integration.conftest import Stack
from tests.integration.test_report_repair import REPORT, count_rows
from tests.integration.test_warranty_api import PROJECT
from workflows.repair.workflow import RepairWorkflow

OTHER_GROUP_PROJECT = {**copy.deepcopy(PROJECT), "code": "ZZ-1", "group": "ZZ"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_every_endpoint_but_health_needs_a_key(stack: Stack):
    schema = (await stack.api.get("/openapi.json")).json()
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.app),
                                  base_url="http://intake")
    checked = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            url = path.replace("{", "").replace("}", "")  # any value: auth comes first
            response = await anonymous.request(method.upper(), url)
            if path == "/healthz":
                assert response.status_code == 200
                continue
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["code"] == "unauthenticated"
            assert response.headers["www-authenticate"].startswith("Bearer")
            checked += 1
    assert checked >= 25


async def test_a_wrong_or_revoked_key_is_refused_and_x_api_key_works(stack: Stack):
    headers = await stack.key(group="HX")
    token = headers["Authorization"].removeprefix("Bearer ")
    assert (await stack.api.get("/v1/repairs", headers={"X-API-Key": token})).status_code == 200
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, "rfk_", "rfk_nope_nope", "not-a-key", "rfk_" + "x" * 40 + "_y"):
        response = await stack.api.get("/v1/repairs", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and response.json()["code"] == "invalid_api_key"
    key_id = token.removeprefix("rfk_").split("_")[0]
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["apikey", "revoke", key_id],
                                     env={"DATABASE_URL": stack.database_url})
    assert result.exit_code == 0, result.output
    assert (await stack.api.get("/v1/repairs", headers=headers)).status_code == 401


async def test_a_key_is_rate_limited_on_its_own(stack: Stack):
    slow = await stack.key(group="HX", rate_per_minute=3)
    other = await stack.key(group="HX", rate_per_minute=3)
    answers = [await stack.api.get("/v1/repairs", headers=slow) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert answers[2].headers["ratelimit-remaining"] == "0"
    refused = answers[3]
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    assert (await stack.api.get("/v1/repairs", headers=other)).status_code == 200


async def test_idempotency_keys_belong_to_their_api_key(stack: Stack):
    first, second = await stack.key(group="HX"), await stack.key(group="HX")
    replay = {"Idempotency-Key": "call-0001"}
    a = await stack.api.post("/v1/repairs", json=REPORT, headers=first | replay)
    b = await stack.api.post("/v1/repairs", json={**REPORT, "category": "EL-FIX"},
                             headers=second | replay)
    assert a.status_code == b.status_code == 201  # another caller's key, not a reuse
    again = await stack.api.post("/v1/repairs", json=REPORT, headers=first | replay)
    assert again.json()["id"] == a.json()["id"] and again.headers["idempotent-replayed"]


async def test_the_cli_creates_keys_only_for_a_groups_own_projects(stack: Stack):
    env = {"DATABASE_URL": stack.database_url, "NATS_URL": stack.bus.nc.connected_url.geturl(),
           "REPAIRFLOW_NATS_PREFIX": stack.bus.prefix}
    run = CliRunner().invoke
    created = await asyncio.to_thread(
        run, cli, ["apikey", "create", "--group", "HX", "--projects", "BJ-YH",
                   "--name", "北京热线"], env=env)
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("rfk_")
    mine = await stack.api.get("/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert [p["code"] for p in mine.json()["projects"]] == ["BJ-YH"]

    wrong = await asyncio.to_thread(
        run, cli, ["apikey", "create", "--group", "HX", "--projects", "BJ-YH,NOPE"], env=env)
    assert wrong.exit_code == 1 and "NOPE" in wrong.output
    neither = await asyncio.to_thread(run, cli, ["apikey", "create"], env=env)
    assert neither.exit_code == 2
    listed = await asyncio.to_thread(run, cli, ["apikey", "list", "--group", "HX"], env=env)
    assert "北京热线" in listed.output and "projects BJ-YH" in listed.output
    assert token.split("_", 2)[2] not in listed.output  # never the secret


@pytest.fixture
async def shared(stack: Stack) -> dict:
    """Group HX's data, made with the operator's key: a repair with a photo and an offer."""
    repair = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    photo = (await stack.api.post(f"/v1/repairs/{repair['id']}/photos",
                                  files={"file": ("a.png", PNG, "image/png")})).json()
    offer = (await stack.api.post("/v1/dispatch/assignments", json={
        "repair_id": repair["id"], "project": "SH-LJ", "trade": "plumbing"})).json()
    assert offer["offer_id"], offer
    project = (await stack.api.get("/v1/projects/SH-LJ")).json()
    team = next(t for t in (await stack.api.get("/v1/teams")).json()["teams"]
                if t["id"] == "SH-ENG")
    technician = next(t for t in (await stack.api.get("/v1/technicians")).json()["technicians"]
                      if t["id"] == "T-SH-01")
    roster = (await stack.api.get("/v1/teams/SH-ENG/roster")).json()
    webhook = (await stack.api.post("/v1/webhooks", json={"url": "https://crm.example.com/hx"},
                                    headers=await stack.key(group="HX"))).json()
    service_items = (await stack.api.get("/v1/projects/SH-LJ/service-items")).json()
    assert service_items["items"], service_items  # the demo's table
    return {"repair": repair, "photo": photo, "offer": offer, "project": project,
            "team": team, "technician": technician, "roster": roster, "webhook": webhook,
            "service_items": service_items}


def probes(d: dict) -> dict[tuple[str, str], tuple[str, str, dict]]:
    """One request per endpoint, each aimed at project SH-LJ's data: (method, route) →
    (method, url, httpx keyword arguments)."""
    r, offer, who = d["repair"]["id"], d["offer"]["offer_id"], d["offer"]["technician_id"]
    hook = f"/v1/webhooks/{d['webhook']['id']}"
    return {
        ("post", "/v1/webhooks"): ("POST", "/v1/webhooks", {"json": {
            "url": "https://crm.example.com/x", "projects": ["SH-LJ"]}}),
        ("get", "/v1/webhooks"): ("GET", "/v1/webhooks", {}),
        ("get", "/v1/webhooks/{webhook_id}"): ("GET", hook, {}),
        ("delete", "/v1/webhooks/{webhook_id}"): ("DELETE", hook, {}),
        ("get", "/v1/webhooks/{webhook_id}/deliveries"): ("GET", f"{hook}/deliveries", {}),
        ("post", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): (
            "POST", f"{hook}/deliveries/1/retry", {}),
        ("post", "/v1/repairs"): ("POST", "/v1/repairs", {"json": REPORT}),
        ("get", "/v1/repairs"): ("GET", "/v1/repairs", {"params": {"project": "SH-LJ"}}),
        ("get", "/v1/repairs/{repair_id}"): ("GET", f"/v1/repairs/{r}", {}),
        ("get", "/v1/projects/{project}/buildings/{building}/units/{unit}/repairs"): (
            "GET", "/v1/projects/SH-LJ/buildings/1/units/1-502/repairs", {}),
        ("put", "/v1/projects/{project}/intake"): (
            "PUT", "/v1/projects/SH-LJ/intake", {"json": {"duplicate_window_hours": 1}}),
        ("get", "/v1/projects/{project}/intake"): ("GET", "/v1/projects/SH-LJ/intake", {}),
        ("put", "/v1/projects/{code}"): ("PUT", "/v1/projects/SH-LJ", {"json": d["project"]}),
        ("get", "/v1/projects"): ("GET", "/v1/projects", {"params": {"group": "HX"}}),
        ("get", "/v1/projects/{code}"): ("GET", "/v1/projects/SH-LJ", {}),
        ("post", "/v1/warranty/determinations"): ("POST", "/v1/warranty/determinations", {
            "json": {"project": "SH-LJ", "building": "1", "unit": "1-502",
                     "category": "LK-WET", "reported_on": "2026-11-20"}}),
        ("post", "/v1/repairs/{repair_id}/photos"): (
            "POST", f"/v1/repairs/{r}/photos", {"files": {"file": ("b.png", PNG, "image/png")}}),
        ("get", "/v1/repairs/{repair_id}/photos"): ("GET", f"/v1/repairs/{r}/photos", {}),
        ("get", "/v1/repairs/{repair_id}/photos/{photo_id}"): (
            "GET", f"/v1/repairs/{r}/photos/{d['photo']['id']}", {}),
        ("put", "/v1/teams/{team_id}"): ("PUT", "/v1/teams/SH-ENG", {"json": {
            **d["team"], "name": "taken over"}}),
        ("get", "/v1/teams"): ("GET", "/v1/teams", {"params": {"project": "SH-LJ"}}),
        ("delete", "/v1/teams/{team_id}"): ("DELETE", "/v1/teams/SH-ENG", {}),
        ("put", "/v1/technicians/{technician_id}"): ("PUT", "/v1/technicians/T-SH-01", {
            "json": {**d["technician"], "phone": "13800000000"}}),
        ("get", "/v1/technicians"): ("GET", "/v1/technicians", {"params": {"project": "SH-LJ"}}),
        ("get", "/v1/technicians/{technician_id}/orders"): (
            "GET", f"/v1/technicians/{who}/orders", {}),
        ("delete", "/v1/technicians/{technician_id}"): ("DELETE", "/v1/technicians/T-SH-03", {}),
        ("put", "/v1/teams/{team_id}/roster"): ("PUT", "/v1/teams/SH-ENG/roster", {"json": {
            "team": "SH-ENG"}}),
        ("get", "/v1/teams/{team_id}/roster"): ("GET", "/v1/teams/SH-ENG/roster", {}),
        ("get", "/v1/teams/{team_id}/duty-leader"): ("GET", "/v1/teams/HX-AS/duty-leader", {}),
        ("put", "/v1/projects/{code}/hours"): ("PUT", "/v1/projects/SH-LJ/hours", {"json": {
            "project": "SH-LJ", "day_start": "06:00", "day_end": "23:00"}}),
        ("post", "/v1/offers/{offer_id}/accept"): (
            "POST", f"/v1/offers/{offer}/accept", {"json": {"technician_id": who}}),
        ("post", "/v1/offers/{offer_id}/decline"): (
            "POST", f"/v1/offers/{offer}/decline", {"json": {"technician_id": who,
                                                             "reason": "busy"}}),
        ("post", "/v1/dispatch/assignments"): ("POST", "/v1/dispatch/assignments", {"json": {
            "repair_id": r, "project": "SH-LJ", "trade": "plumbing"}}),
        ("put", "/v1/projects/{project}/service-levels"): (
            "PUT", "/v1/projects/SH-LJ/service-levels", {"json": {
                "dispatching": {"offer_minutes": 1}}}),
        ("get", "/v1/projects/{project}/service-levels"): (
            "GET", "/v1/projects/SH-LJ/service-levels", {}),
        ("put", "/v1/projects/{project}/service-items"): (
            "PUT", "/v1/projects/SH-LJ/service-items", {"json": {"items": [
                {"code": "PL-01", "name": "更换角阀", "unit": "个", "unit_price_fen": 1}]}}),
        ("get", "/v1/projects/{project}/service-items"): (
            "GET", "/v1/projects/SH-LJ/service-items", {}),
        ("get", "/v1/repairs/{repair_id}/progress"): ("GET", f"/v1/repairs/{r}/progress", {}),
        **{("post", f"/v1/repairs/{{repair_id}}/{action}"): (
            "POST", f"/v1/repairs/{r}/{action}", {"json": body})
           for action, body in actions(who).items()},
        ("get", "/v1/repairs/{repair_id}/delegation"): ("GET", f"/v1/repairs/{r}/delegation",
                                                        {}),
        ("get", "/v1/return-visits"): ("GET", "/v1/return-visits", {}),
        ("get", "/v1/return-visits/{visit_id}"): ("GET", f"/v1/return-visits/repair-{r}", {}),
        ("post", "/v1/return-visits/{visit_id}/result"): (
            "POST", f"/v1/return-visits/repair-{r}/result", {"json": {
                "method": "phone", "quality": 1, "effect": 1, "satisfaction": 1,
                "satisfied": False, "owner_confirmed": False, "by": INTRUDER}}),
        ("post", "/v1/complaints/{complaint_id}/handled"): (
            "POST", f"/v1/complaints/visit-repair-{r}/handled", {"json": {
                "by": INTRUDER, "outcome": "x"}}),
        ("get", "/v1/projects/{project}/followup-statistics"): (
            "GET", "/v1/projects/SH-LJ/followup-statistics", {"params": {
                "year": 2026, "quarter": 1}}),
        ("put", "/v1/projects/{project}/followup-policy"): (
            "PUT", "/v1/projects/SH-LJ/followup-policy", {"json": {"specialists": [INTRUDER]}}),
        ("get", "/v1/projects/{project}/followup-policy"): (
            "GET", "/v1/projects/SH-LJ/followup-policy", {}),
        ("post", "/v1/projects/{project}/revisit-plans"): (
            "POST", "/v1/projects/SH-LJ/revisit-plans", {"json": {"year": 2031}}),
        ("get", "/v1/projects/{project}/revisits"): ("GET", "/v1/projects/SH-LJ/revisits", {}),
        ("post", "/v1/revisits/{revisit_id}/result"): (
            "POST", "/v1/revisits/1/result", {"json": {"result": "x", "by": INTRUDER}}),
        ("get", "/v1/projects/{project}/certificates"): (
            "GET", "/v1/projects/SH-LJ/certificates", {}),
        ("get", "/v1/complaints"): ("GET", "/v1/complaints", {"params": {"project": "SH-LJ"}}),
        ("get", "/v1/complaints/{complaint_id}"): (
            "GET", "/v1/complaints/visit-repair-none", {}),
        ("get", "/v1/projects/{project}/reports/orders"): (
            "GET", "/v1/projects/SH-LJ/reports/orders", {"params": {"period": "month"}}),
        ("get", "/v1/projects/{project}/reports/finance"): (
            "GET", "/v1/projects/SH-LJ/reports/finance", {"params": {"month": "2026-11"}}),
        ("post", "/v1/projects/{project}/certificates"): (
            "POST", "/v1/projects/SH-LJ/certificates", {"json": {
                "building": "1", "unit": "1-101", "issued_on": "2024-01-01"}}),
        **{("post", f"/v1/repairs/{{repair_id}}/delegation/{action}"): (
            "POST", f"/v1/repairs/{r}/delegation/{action}", {"json": body})
           for action, body in {
               "attend": {"by": INTRUDER},
               "emergency-measures": {"by": INTRUDER, "what": "关阀"},
               "repaired": {"by": INTRUDER, "work_done": "x"},
               "another-party": {"party_name": INTRUDER, "by": INTRUDER},
               "withdraw": {"by": INTRUDER, "reason": "x"}}.items()},
    }


def actions(who: str) -> dict[str, dict]:
    """A valid body of each action on a repair, from an intruder."""
    return {
        "accept": {"technician_id": who},
        "decline": {"technician_id": who, "reason": "busy"},
        "arrive": {"technician_id": who},
        "diagnose": {"technician_id": who, "cause": "wear", "plan": "换阀门"},
        "complete": {"technician_id": who, "work_done": "换阀门"},
        "acceptance": {"accepted": True, "signed_by": INTRUDER},
        "reschedule": {"visit_at": "2099-01-01T09:00:00+08:00", "reason": "x", "by": INTRUDER},
        "pause": {"reason": "等配件", "by": INTRUDER},
        "resume": {"by": INTRUDER},
        "cancel": {"reason": "duplicate", "by": INTRUDER},
        "quote": {"lines": [{"code": "PL-01", "name": "更换角阀", "quantity": 1,
                             "unit_price_fen": 3500}], "by": INTRUDER},
        "quote-decision": {"decision": "refuse", "by": INTRUDER},
        "waiver-request": {"amount_fen": 3500, "reason": "x", "by": INTRUDER},
        "waiver-decision": {"approved": True, "approver_role": "company_leader",
                            "by": INTRUDER},
    }


INTRUDER = "intruder"


def leaks(body: object) -> bool:
    """Whether a 2xx body carries project SH-LJ's data."""
    text = str(body)
    return "SH-LJ" in text or "SH-ENG" in text or "T-SH-" in text


@pytest.mark.parametrize("who", ["another group", "another project of the group"])
async def test_a_key_never_reads_or_writes_data_outside_its_scope(stack: Stack, shared: dict,
                                                                  who: str):
    await stack.api.put("/v1/projects/ZZ-1", json=OTHER_GROUP_PROJECT)
    headers = (await stack.key(group="ZZ") if who == "another group"
               else await stack.key(group="HX", projects=["BJ-YH"]))
    schema = (await stack.api.get("/openapi.json")).json()
    routes = {(m, p) for p, ops in schema["paths"].items() for m in ops} - {("get", "/healthz")}
    table = probes(shared)
    assert routes == set(table), f"endpoints without a scope probe: {routes - set(table)}"
    repairs_before = await count_rows(stack.database_url, "intake.repairs")
    photos_before = await count_rows(stack.database_url, "intake.photos")

    for (_, route), (method, url, kwargs) in table.items():
        response = await stack.api.request(method, url, headers=headers, **kwargs)
        if response.status_code < 300:
            assert not leaks(response.json()), (route, response.text)
        else:
            assert response.status_code in (403, 404, 409, 422), (route, response.text)
            code = response.json()["code"]
            assert code in ("project_out_of_scope", "group_out_of_scope", "repair_not_found",
                            "project_code_taken", "no_duty_leader") or code.startswith(
                                "unknown_"), (
                route, response.text)

    # Naming a project of its own does not open another project's repair or offer to it,
    # whether the repair is intake's or known to dispatch only.
    own = "ZZ-1" if who == "another group" else "BJ-YH"
    await stack.api.post("/v1/dispatch/assignments", json={
        "repair_id": "r-elsewhere", "project": "SH-LJ", "trade": "plumbing"})
    for repair_id in (shared["repair"]["id"], "r-elsewhere"):
        response = await stack.api.post("/v1/dispatch/assignments", headers=headers, json={
            "repair_id": repair_id, "project": own, "trade": "plumbing"})
        assert response.status_code in (404, 422), response.text
        assert response.json()["code"] in ("repair_not_found", "repair_of_another_project")
        assert not leaks(response.json()), response.text

    # Nothing changed: the operator still sees SH-LJ's data as it was.
    assert await count_rows(stack.database_url, "intake.repairs") == repairs_before
    assert await count_rows(stack.database_url, "intake.photos") == photos_before
    # The repair moves on by its workflow only, never by the intruder's actions.
    state = await stack.temporal.get_workflow_handle(
        f"repair-{shared['repair']['id']}").query(RepairWorkflow.state)
    assert state.status != "cancelled" and state.technician_id is None
    assert not any(step.by == INTRUDER for step in state.timeline)
    levels = (await stack.api.get("/v1/projects/SH-LJ/service-levels")).json()
    assert levels["dispatching"]["offer_minutes"] == 5
    assert (await stack.api.get("/v1/projects/SH-LJ/service-items")).json() == shared[
        "service_items"]
    assert (await stack.api.get("/v1/projects/SH-LJ")).json() == shared["project"]
    assert (await stack.api.get("/v1/projects/SH-LJ/intake")).json()[
        "duplicate_window_hours"] == 72
    teams = (await stack.api.get("/v1/teams")).json()["teams"]
    assert next(t for t in teams if t["id"] == "SH-ENG") == shared["team"]
    technicians = (await stack.api.get("/v1/technicians")).json()["technicians"]
    assert next(t for t in technicians if t["id"] == "T-SH-01") == shared["technician"]
    assert any(t["id"] == "T-SH-03" for t in technicians)
    assert (await stack.api.get("/v1/teams/SH-ENG/roster")).json() == shared["roster"]
    who = shared["offer"]["technician_id"]
    orders = (await stack.api.get(f"/v1/technicians/{who}/orders")).json()["orders"]
    assert [o["state"] for o in orders if o["offer_id"] == shared["offer"]["offer_id"]] == [
        "offered"]
    policy = (await stack.api.get("/v1/projects/SH-LJ/followup-policy")).json()["policy"]
    assert policy["specialists"] == []
    revisits = await stack.api.get("/v1/projects/SH-LJ/revisits", params={"year": 2031})
    assert revisits.json()["revisits"] == []
    certificates = (await stack.api.get("/v1/projects/SH-LJ/certificates")).json()
    assert "1-101" in [c["unit"] for c in certificates["certificates"]]
    hooks = (await stack.api.get("/v1/webhooks")).json()["webhooks"]
    assert [h["id"] for h in hooks] == [shared["webhook"]["id"]]


async def test_a_group_key_manages_its_own_projects_only(stack: Stack):
    zz = await stack.key(group="ZZ")
    made = await stack.api.put("/v1/projects/ZZ-1", json=OTHER_GROUP_PROJECT, headers=zz)
    assert made.status_code == 201, made.text
    # Seen at once by the same key, in its own listing and for reports.
    listed = await stack.api.get("/v1/projects", headers=zz)
    assert [p["code"] for p in listed.json()["projects"]] == ["ZZ-1"]
    report = {**REPORT, "project": "ZZ-1", "building": "3", "unit": "3-1801"}
    assert (await stack.api.post("/v1/repairs", json=report, headers=zz)).status_code == 201

    taken = await stack.api.put("/v1/projects/SH-LJ", headers=zz, json={
        **OTHER_GROUP_PROJECT, "code": "SH-LJ"})
    assert taken.status_code == 409 and taken.json()["code"] == "project_code_taken"
    for_hx = await stack.api.put("/v1/projects/ZZ-2", headers=zz, json={
        **OTHER_GROUP_PROJECT, "code": "ZZ-2", "group": "HX"})
    assert for_hx.status_code == 403 and for_hx.json()["field"] == "group"
    hx_repairs = (await stack.api.get("/v1/repairs", headers=zz)).json()["repairs"]
    assert {r["project"] for r in hx_repairs} == {"ZZ-1"}
