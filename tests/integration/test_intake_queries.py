"""Idempotent retries, repeat calls folded into open repairs, and finding repairs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.common.contracts import REPAIR_OVERDUE, RepairOverdue
from services.common.settings import to_asyncpg_dsn
from tests.integration.conftest import Stack
from tests.integration.test_report_repair import REPORT, count_rows


async def test_a_retry_with_the_same_key_gets_the_same_repair(stack: Stack):
    key = {"Idempotency-Key": "call-center-42:ticket-9001"}
    first = await stack.api.post("/v1/repairs", json=REPORT, headers=key)
    reordered = dict(reversed(list(REPORT.items())))  # same body, other order
    again = await stack.api.post("/v1/repairs", json=reordered, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await count_rows(stack.database_url, "intake.repairs") == 1
    assert await count_rows(stack.database_url, "intake.repair_calls") == 0
    other = await stack.api.post("/v1/repairs", json={**REPORT, "description": "另一件事"},
                                 headers=key)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"


async def test_a_retry_gets_its_answer_even_after_the_registry_changed(stack: Stack):
    key = {"Idempotency-Key": "call-center-42:ticket-9002"}
    first = await stack.api.post("/v1/repairs", json=REPORT, headers=key)
    assert first.status_code == 201
    project = (await stack.api.get("/v1/projects/SH-LJ")).json()
    for building in project["buildings"]:
        building["units"] = [u for u in building["units"] if u["code"] != REPORT["unit"]]
    assert (await stack.api.put("/v1/projects/SH-LJ", json=project)).status_code == 200
    fresh = await stack.api.post("/v1/repairs", json=REPORT)
    assert fresh.status_code == 422 and fresh.json()["code"] == "unknown_unit"
    again = await stack.api.post("/v1/repairs", json=REPORT, headers=key)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]


async def test_concurrent_retries_of_one_key_make_one_repair(stack: Stack):
    key = {"Idempotency-Key": "storm-1"}
    answers = await asyncio.gather(*(stack.api.post("/v1/repairs", json=REPORT, headers=key)
                                     for _ in range(5)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await count_rows(stack.database_url, "intake.repairs") == 1


async def test_a_repeat_call_about_an_open_repair_is_attached_to_it(stack: Stack):
    first = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    neighbour = {**REPORT, "channel": "wechat", "description": "还在漏，越来越严重",
                 "reporter": {"name": "王芳的丈夫", "phone": "13900139003"}}
    repeat = await stack.api.post("/v1/repairs", json=neighbour)
    assert repeat.status_code == 200
    body = repeat.json()
    assert body["id"] == first["id"] and body["duplicate_of"] == first["id"]
    assert body["repeat_calls"] == 1 and body["ticket"] == first["ticket"]
    timeline = (await stack.api.get(f"/v1/repairs/{first['id']}")).json()["timeline"]
    # Intake's own entries; the workflow's steps (warranty, offer) may be there already.
    timeline = [e for e in timeline if e["kind"] in ("reported", "called_again")]
    assert [e["kind"] for e in timeline] == ["reported", "called_again"]
    assert "13900139003" in timeline[1]["detail"] and "越来越严重" in timeline[1]["detail"]
    # Another category, or another unit, is another repair.
    other = await stack.api.post("/v1/repairs", json={**REPORT, "category": "LK-PIPE"})
    assert other.status_code == 201 and other.json()["duplicate_of"] is None
    assert await count_rows(stack.database_url, "intake.repairs") == 2


async def test_the_duplicate_window_is_a_project_setting(stack: Stack):
    assert (await stack.api.get("/v1/projects/SH-LJ/intake")).json() == {
        "duplicate_window_hours": 72}
    first = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    conn_sql = ("UPDATE intake.repairs SET received_at = received_at - interval '5 hours'")
    import asyncpg

    from services.common.settings import to_asyncpg_dsn
    conn = await asyncpg.connect(to_asyncpg_dsn(stack.database_url))
    await conn.execute(conn_sql)
    await conn.close()
    put = await stack.api.put("/v1/projects/SH-LJ/intake", json={"duplicate_window_hours": 4})
    assert put.status_code == 200
    later = await stack.api.post("/v1/repairs", json=REPORT)
    assert later.status_code == 201 and later.json()["id"] != first["id"]
    unknown = await stack.api.put("/v1/projects/NOPE/intake", json={"duplicate_window_hours": 4})
    assert unknown.status_code == 404
    zero = await stack.api.put("/v1/projects/SH-LJ/intake", json={"duplicate_window_hours": 0})
    assert zero.status_code == 422 and zero.json()["field"] == "duplicate_window_hours"


async def test_finding_repairs_by_filters_a_page_at_a_time(stack: Stack):
    units = ["1-101", "1-502", "1-1201"]
    for unit in units:
        for category in ("LK-WET", "EL-FIX"):
            created = await stack.api.post("/v1/repairs", json={
                **REPORT, "unit": unit, "category": category})
            assert created.status_code == 201
    lift = {**REPORT, "common_area": "LIFT-A", "category": "ELEV"}
    lift.pop("unit")
    await stack.api.post("/v1/repairs", json=lift)

    seen, cursor = [], None
    while True:
        page = (await stack.api.get("/v1/repairs", params={
            "project": "SH-LJ", "limit": 3, **({"cursor": cursor} if cursor else {})})).json()
        seen += [r["id"] for r in page["repairs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    emergencies = (await stack.api.get("/v1/repairs", params={"priority": "emergency"})).json()
    assert [r["category"] for r in emergencies["repairs"]] == ["ELEV"]
    wet = (await stack.api.get("/v1/repairs", params={"category": "LK-WET",
                                                      "phone": "+86 139 0013 9002"})).json()
    assert len(wet["repairs"]) == 3
    history = (await stack.api.get("/v1/projects/SH-LJ/buildings/1/units/1-502/repairs")).json()
    assert {r["category"] for r in history["repairs"]} == {"LK-WET", "EL-FIX"}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await stack.api.get("/v1/repairs", params={"created_from": future})).json()[
        "repairs"] == []


async def test_a_number_stored_in_an_older_form_still_shows(stack: Stack):
    filed = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    conn = await asyncpg.connect(to_asyncpg_dsn(stack.database_url))
    try:  # as an earlier version kept a seven-digit Beijing number
        await conn.execute("UPDATE intake.repairs SET reporter_phone = '010-1234567' "
                           "WHERE id = $1", filed["id"])
    finally:
        await conn.close()
    shown = await stack.api.get(f"/v1/repairs/{filed['id']}")
    assert shown.status_code == 200 and shown.json()["reporter"]["phone"] == "010-1234567"
    again = await stack.api.post("/v1/repairs", json=REPORT)  # a repeat call folds into it
    assert again.status_code == 200 and again.json()["duplicate_of"] == filed["id"]


async def test_a_landline_is_found_however_it_is_typed(stack: Stack):
    report = {**REPORT, "unit": "1-101",
              "reporter": {"name": "物业前台", "phone": "(021) 6234 5678 转 801"}}
    filed = (await stack.api.post("/v1/repairs", json=report)).json()
    assert filed["reporter"]["phone"] == "021-62345678-801"
    for typed in ("021-62345678-801", "+86 21 6234 5678 ext 801", "02162345678#801"):
        found = (await stack.api.get("/v1/repairs", params={"phone": typed})).json()
        assert [r["id"] for r in found["repairs"]] == [filed["id"]], typed


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"phone": "12345"}, "phone"),
        ({"limit": 0}, "limit"),
        ({"priority": "whenever"}, "priority"),
        ({"created_from": "2026-11-20T09:00:00"}, "created_from"),
    ],
)
async def test_bad_queries_name_the_parameter(stack: Stack, params, field):
    response = await stack.api.get("/v1/repairs", params=params)
    assert response.status_code == 422
    assert response.json()["field"] == field


async def test_an_overdue_event_marks_the_repair_overdue(stack: Stack):
    repair = (await stack.api.post("/v1/repairs", json=REPORT)).json()
    due = datetime.fromisoformat(repair["deadlines"]["arrive_by"])
    await stack.bus.publish_event(REPAIR_OVERDUE, RepairOverdue(
        repair_id=repair["id"], deadline="arrive_by", due_at=due,
        noticed_at=due + timedelta(seconds=1)), msg_id=f"{repair['id']}:overdue:arrive_by")
    for _ in range(50):
        current = (await stack.api.get(f"/v1/repairs/{repair['id']}")).json()
        if current["overdue"]:
            break
        await asyncio.sleep(0.1)
    assert current["overdue"] is True
    assert current["timeline"][-1]["kind"] == "overdue"
    listed = (await stack.api.get("/v1/repairs", params={"overdue": True})).json()
    assert [r["id"] for r in listed["repairs"]] == [repair["id"]]
