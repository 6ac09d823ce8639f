"""Reporting a repair through intake, on real PostgreSQL, NATS and Temporal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.common.business_calendar import STATUTORY
from services.common.settings import to_asyncpg_dsn
from tests.integration.conftest import Stack

SHANGHAI = ZoneInfo("Asia/Shanghai")

REPORT = {
    "project": "SH-LJ", "building": "1", "unit": "1-502", "channel": "hotline",
    "category": "LK-WET", "description": "卫生间地面渗水到楼下 1-402",
    "reporter": {"name": "王芳", "phone": "139 0013 9002"},
}


async def count_rows(database_url: str, table: str) -> int:
    conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()


async def test_a_report_is_stored_its_workflow_runs_and_its_event_is_published(stack: Stack):
    response = await stack.api.post("/v1/repairs", json=REPORT)
    assert response.status_code == 201, response.text
    repair = response.json()
    assert repair["ticket"] == "SH-LJ-000001"
    assert repair["status"] == "reported"
    assert repair["priority"] == "routine"
    assert repair["reporter"] == {"name": "王芳", "phone": "13900139002"}
    assert repair["description"] == REPORT["description"]  # Chinese text round-trips
    assert repair["deadlines"]["arrive_by"] > repair["received_at"]

    # The workflow exists under the repair's id, filterable by its search attributes.
    handle = stack.temporal.get_workflow_handle(f"repair-{repair['id']}")
    description = await handle.describe()
    assert description.task_queue == stack.task_queue
    attributes = {k.name: v for k, v in description.typed_search_attributes}
    assert attributes["Project"] == "SH-LJ"
    assert attributes["Category"] == "LK-WET"
    assert attributes["Priority"] == "routine"
    assert attributes["Overdue"] is False
    state = await handle.query("state")
    assert state["repair_id"] == repair["id"]  # and on its way: warranty, then an offer

    # The event landed on JetStream, with the message id that makes a redelivery harmless.
    messages = await stack.bus.js.subscribe(
        stack.bus.subject("repairs.reported.v1"),
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL), ordered_consumer=True,
    )
    message = await messages.next_msg(timeout=5)
    assert message.headers["Nats-Msg-Id"] == f"{repair['id']}:reported"
    assert b'"ticket":"SH-LJ-000001"' in message.data
    await messages.unsubscribe()

    fetched = await stack.api.get(f"/v1/repairs/{repair['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["timeline"][0]["kind"] == "reported"
    # The same repair, but for what its workflow may have moved on since (read_model.py).
    followed = ("timeline", "status", "assignee", "warranty_outcome")
    assert {k: v for k, v in fetched.json().items() if k not in followed} == {
        k: v for k, v in repair.items() if k not in followed}

    # Nothing is left owing in the outbox.
    assert await count_rows(
        stack.database_url, "intake.outbox WHERE delivered_at IS NULL"
    ) == 0


async def test_tickets_count_per_project_and_emergencies_are_recognised(stack: Stack):
    first = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    lift = {**REPORT, "project": "BJ-YH", "building": "A", "unit": None,
            "common_area": "LOBBY", "category": "ELEV", "description": "电梯困人"}
    lift.pop("unit")
    emergency = (await stack.api.post("/v1/repairs", json=lift)).json()
    second = (await stack.api.post("/v1/repairs", json={
        **REPORT, "unit": "1-101", "emergency": True})).json()
    assert [first["ticket"], emergency["ticket"], second["ticket"]] == [
        "SH-LJ-000001", "BJ-YH-000001", "SH-LJ-000002"
    ]
    assert emergency["priority"] == "emergency"  # ELEV is an emergency by itself
    assert emergency["common_area"] == "LOBBY" and emergency["unit"] is None
    assert second["priority"] == "emergency"  # the caller said so
    assert "10 minutes" in second["deadlines"]["arrive_rule"]
    # Taken within 15 minutes of receipt (004 紧急维修制度 §4.2).
    responded = datetime.fromisoformat(second["deadlines"]["respond_by"])
    assert responded - datetime.fromisoformat(second["received_at"]) == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"project": "NOPE"}, "project", "unknown_project"),
        ({"building": "9"}, "building", "unknown_building"),
        ({"unit": "1-999"}, "unit", "unknown_unit"),
        ({"category": "XX-NOPE"}, "category", "unknown_category"),
        ({"reporter": {"name": "王芳", "phone": "12345"}}, "reporter.phone", "invalid_field"),
        ({"reporter": {"name": "", "phone": "13900139002"}}, "reporter.name", "invalid_field"),
        ({"channel": "fax"}, "channel", "invalid_field"),
        ({"reported_at": "2026-11-20T09:00:00"}, "reported_at", "invalid_field"),
        ({"reported_at": "0001-01-01T00:30:00+01:00"}, "reported_at", "invalid_field"),
        ({"preferred_visit_at": "9999-12-31T23:00:00-05:00"}, "preferred_visit_at",
         "invalid_field"),
        ({"common_area": "LOBBY"}, "common_area", "place_ambiguous"),
        ({"unit": None}, "unit", "place_missing"),
        ({"description": ""}, "description", "invalid_field"),
        ({"colour": "red"}, "colour", "invalid_field"),
    ],
)
async def test_bad_reports_are_refused_with_the_field_and_nothing_is_written(
    stack: Stack, change: dict, field: str, code: str
):
    response = await stack.api.post("/v1/repairs", json={**REPORT, **change})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["field"] == field
    assert problem["detail"] and problem["detail_zh"]
    assert await count_rows(stack.database_url, "intake.repairs") == 0
    assert await count_rows(stack.database_url, "intake.outbox") == 0


async def test_malformed_json_and_unknown_repairs_get_problems_not_crashes(stack: Stack):
    response = await stack.api.post(
        "/v1/repairs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_field"
    missing = await stack.api.get("/v1/repairs/does-not-exist")
    assert missing.status_code == 404
    assert missing.json()["code"] == "repair_not_found"
    assert "没有" in missing.json()["detail_zh"]


async def test_health_reports_each_dependency(stack: Stack):
    response = await stack.api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["dependencies"]) == {"postgres", "nats", "temporal"}
    assert all(check["ok"] for check in body["dependencies"].values())


async def test_without_the_warranty_service_a_report_is_refused_and_nothing_stored(
    settings: dict, demo_database: str, bus
):
    import httpx

    from services.intake.app import IntakeSettings, create_app
    from services.intake.keys import create_key

    key = await create_key(demo_database, name="hotline", group="HX", projects=None)
    app = create_app(IntakeSettings(**settings))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://intake",
        headers={"Authorization": f"Bearer {key.token}"},
    ) as api:
        response = await api.post("/v1/repairs", json=REPORT)
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response.headers["retry-after"]
    assert await count_rows(demo_database, "intake.repairs") == 0


async def test_nul_characters_are_refused_wherever_they_come(stack: Stack):
    """Found by the schemathesis run: PostgreSQL cannot store NUL, which became a 5xx."""
    for method, url, kwargs, field in (
        ("GET", "/v1/repairs", {"params": {"project": "\x00"}}, "query"),
        ("GET", "/v1/repairs/%00", {}, "path"),
        ("GET", "/v1/teams", {"params": {"project": "a\x00"}}, "query"),
        ("POST", "/v1/repairs", {"json": {**REPORT, "description": "漏水\x00"}}, "body"),
    ):
        response = await stack.api.request(method, url, **kwargs)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["code"] == "nul_character"
        assert response.json()["field"] == field
    reply = await stack.bus.nc.request(stack.bus.subject("warranty.registry.get_project"),
                                       b'{"code": "\\u0000"}', timeout=2)
    assert reply.headers["Nats-Service-Error-Code"] == "400"
    assert await count_rows(stack.database_url, "intake.repairs") == 0


async def test_deadlines_count_on_the_projects_own_days_off(stack: Stack):
    """A day the project closes (its own extra day off) is not a working day for the
    finish deadline (3 working days by default)."""
    before = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    finish = date.fromisoformat(before["deadlines"]["finish_by"][:10])
    received = date.fromisoformat(before["received_at"][:10])
    closed = next(d for d in (received + timedelta(days=n) for n in range(1, 10))
                  if STATUTORY.is_working_day(d))
    project = (await stack.api.get("/v1/projects/SH-LJ")).json()
    project["extra_days_off"] = [*project.get("extra_days_off", []), closed.isoformat()]
    assert (await stack.api.put("/v1/projects/SH-LJ", json=project)).status_code == 200
    after = (await stack.api.post("/v1/repairs", json={**REPORT, "unit": "1-101"})).json()
    moved = date.fromisoformat(after["deadlines"]["finish_by"][:10])
    if date.fromisoformat(after["received_at"][:10]) == received:  # not across midnight
        assert moved == next(d for d in (finish + timedelta(days=n) for n in range(1, 10))
                             if STATUTORY.is_working_day(d))


async def test_the_center_classifies_urgent_and_planned_work(stack: Stack):
    urgent = await stack.api.post("/v1/repairs", json={**REPORT, "priority": "urgent"})
    assert urgent.status_code == 201 and urgent.json()["priority"] == "urgent"
    assert urgent.json()["deadlines"]["arrive_rule"].startswith("urgent")
    visit = (datetime.now(UTC) + timedelta(days=2)).astimezone(SHANGHAI).replace(
        hour=10, minute=0, second=0, microsecond=0)
    planned = await stack.api.post("/v1/repairs", json={
        **REPORT, "unit": "1-101", "priority": "planned",
        "preferred_visit_at": visit.isoformat()})
    assert planned.status_code == 201, planned.text
    body = planned.json()
    assert body["priority"] == "planned"
    assert datetime.fromisoformat(body["deadlines"]["arrive_by"]) == visit
    assert "预约时间" in body["deadlines"]["arrive_rule"]
    # An emergency stays one whatever the classification.
    lift = await stack.api.post("/v1/repairs", json={
        **REPORT, "common_area": "LOBBY", "unit": None, "category": "ELEV",
        "priority": "planned", "preferred_visit_at": visit.isoformat()})
    assert lift.json()["priority"] == "emergency"
    for change, field in (({"priority": "planned"}, "preferred_visit_at"),
                          ({"priority": "planned", "preferred_visit_at":
                            "2020-01-01T10:00:00+08:00"}, "preferred_visit_at"),
                          ({"priority": "planned", "preferred_visit_at":
                            "9999-12-31T20:00:00Z"}, "preferred_visit_at"),
                          ({"priority": "whenever"}, "priority")):
        refused = await stack.api.post("/v1/repairs", json={**REPORT, "unit": "1-1201",
                                                            **change})
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == field, refused.text
