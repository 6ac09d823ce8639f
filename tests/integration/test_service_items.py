"""A project's standard service items (常规服务项目表) over HTTP, and a paid repair's quote
priced from them, on the real servers."""

from __future__ import annotations

from tests.integration.conftest import Stack
from tests.integration.test_repair_actions import act, report, take_and_arrive
from tests.integration.test_warranty_api import PROJECT

ITEMS = [
    {"code": "PL-01", "name": "更换角阀", "unit": "个", "unit_price_fen": 3500,
     "trade": "plumbing"},
    {"code": "PL-09", "name": "疏通下水管道", "unit": "次", "unit_price_fen": 8000,
     "trade": "plumbing"},
    {"code": "DC-07", "name": "更换玻璃胶", "unit": "米", "unit_price_fen": 1500,
     "trade": "decoration"},
    {"code": "DC-01", "name": "墙面修补", "unit": "平方米", "unit_price_fen": 4500, "trade": None},
]
URL = "/v1/projects/SH-LJ/service-items"
BATHROOM_FAN = {"code": "OFF-LIST", "name": "安装业主自购浴霸", "quantity": 1,
                "unit_price_fen": 12_000}


def without_times(answer: dict) -> list[dict]:
    return [{k: v for k, v in item.items() if k != "updated_at"} for item in answer["items"]]


async def test_a_projects_table_is_replaced_whole_and_read_back(stack: Stack):
    api = stack.api
    demo = (await api.get(URL)).json()
    assert demo["project"] == "SH-LJ"
    assert {(i["code"], i["name"], i["unit_price_fen"]) for i in demo["items"]} >= {
        ("PL-01", "更换角阀", 3500), ("PL-09", "疏通下水管道", 8000)}

    put = await api.put(URL, json={"items": ITEMS})
    assert put.status_code == 200, put.text
    read = (await api.get(URL)).json()
    assert read == put.json()
    assert without_times(read) == sorted(ITEMS, key=lambda item: item["code"])
    assert all(item["updated_at"].endswith("+08:00") for item in read["items"])
    # An item left as it was keeps its time; a changed one gets a new one.
    cheaper = [*ITEMS[:3], {**ITEMS[3], "unit_price_fen": 4000}]
    again = {i["code"]: i for i in (await api.put(URL, json={"items": cheaper})).json()["items"]}
    before = {i["code"]: i for i in read["items"]}
    assert again["PL-01"]["updated_at"] == before["PL-01"]["updated_at"]
    assert again["DC-01"]["updated_at"] > before["DC-01"]["updated_at"]

    for body, field, code in (
        ({"items": [ITEMS[0], ITEMS[1], {**ITEMS[2], "code": "PL-01"}]}, "items[2].code",
         "duplicate_service_item"),
        ({"items": [{**ITEMS[0], "code": "OFF-LIST"}]}, "items[0].code", "reserved_code"),
        ({"items": [{**ITEMS[0], "unit_price_fen": "35.00"}]}, "items.0.unit_price_fen",
         "invalid_field"),
        ({"items": [{**ITEMS[0], "unit_price_fen": -1}]}, "items.0.unit_price_fen",
         "invalid_field"),
        ({"items": [{**ITEMS[0], "unit": ""}]}, "items.0.unit", "invalid_field"),
        ({"items": [{**ITEMS[0], "code": f"X-{n}"} for n in range(501)]}, "items",
         "invalid_field"),
    ):
        refused = await api.put(URL, json=body)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["field"], refused.json()["code"]) == (field, code)
    assert without_times((await api.get(URL)).json()) == sorted(cheaper,
                                                               key=lambda i: i["code"])
    for method, body in (("GET", None), ("PUT", {"items": ITEMS})):
        unknown = await api.request(method, "/v1/projects/NOPE/service-items", json=body)
        assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_project"


async def test_a_quote_takes_its_names_and_prices_from_the_table(stack: Stack):
    api = stack.api
    repair_id = await report(api)
    who = await take_and_arrive(api, repair_id)
    diagnosed = await act(api, repair_id, "diagnose", technician_id=who, cause="owner_misuse",
                          plan="业主自行改管导致角阀渗漏，更换角阀并疏通下水")
    assert diagnosed["status"] == "diagnosed"
    assert diagnosed["warranty_outcome"] == "chargeable"

    for line, field, code in (
        ({"code": "PL-77", "quantity": 1}, "lines[1].code", "unknown_service_item"),
        ({"code": "PL-09", "quantity": 1, "unit_price_fen": 6000}, "lines[1].unit_price_fen",
         "not_the_standard_price"),
        ({"code": "OFF-LIST", "quantity": 1, "unit_price_fen": 12_000}, "lines[1].name",
         "price_required"),
    ):
        refused = await api.post(f"/v1/repairs/{repair_id}/quote", json={
            "lines": [{"code": "PL-01", "quantity": 2}, line], "by": who})
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert (problem["field"], problem["code"]) == (field, code)
        assert problem["detail"] and problem["detail_zh"]
    unknown = await api.post(f"/v1/repairs/{repair_id}/quote", json={
        "lines": [{"code": "PL-77", "quantity": 1}], "by": who})
    assert "PL-77" in unknown.json()["detail"] and "OFF-LIST" in unknown.json()["detail_zh"]

    quoted = await act(api, repair_id, "quote", by=who, lines=[
        {"code": "PL-01", "quantity": 2}, {"code": "PL-09", "quantity": 1}])
    assert quoted["status"] == "quoted"
    assert quoted["quote"]["lines"] == [
        {"code": "PL-01", "name": "更换角阀", "quantity": 2, "unit_price_fen": 3500},
        {"code": "PL-09", "name": "疏通下水管道", "quantity": 1, "unit_price_fen": 8000}]
    assert quoted["quote"]["total_fen"] == 15_000

    # A project without a table: every line brings its own name and price.
    assert (await api.put(URL, json={"items": []})).json()["items"] == []
    bare = await api.post(f"/v1/repairs/{repair_id}/quote", json={
        "lines": [{"code": "PL-01", "quantity": 2}], "by": who})
    assert bare.status_code == 422, bare.text
    assert (bare.json()["field"], bare.json()["code"]) == ("lines[0].name", "price_required")


async def test_work_outside_the_table_is_quoted_off_list_with_the_diagnosis(stack: Stack):
    api = stack.api
    repair_id = await report(api, unit="1-101", reporter={"name": "张伟",
                                                          "phone": "13800138001"})
    who = await take_and_arrive(api, repair_id)
    wrong = await api.post(f"/v1/repairs/{repair_id}/diagnose", json={
        "technician_id": who, "cause": "owner_misuse", "plan": "更换角阀",
        "quote": {"lines": [{"code": "PL-77", "quantity": 1}], "by": who}})
    assert wrong.status_code == 422, wrong.text
    assert (wrong.json()["field"], wrong.json()["code"]) == ("quote.lines[0].code",
                                                             "unknown_service_item")
    quoted = await act(api, repair_id, "diagnose", technician_id=who, cause="owner_misuse",
                       plan="更换角阀，另为业主安装自购浴霸",
                       quote={"lines": [{"code": "PL-01", "quantity": 1}, BATHROOM_FAN],
                              "by": who})
    assert quoted["status"] == "quoted"
    assert quoted["quote"]["lines"] == [
        {"code": "PL-01", "name": "更换角阀", "quantity": 1, "unit_price_fen": 3500},
        BATHROOM_FAN]
    assert quoted["quote"]["total_fen"] == 15_500


async def test_another_groups_key_neither_reads_nor_writes_the_table(stack: Stack):
    api = stack.api
    before = (await api.get(URL)).json()
    other = await stack.key(group="ZZ")
    for method, body in (("GET", None), ("PUT", {"items": ITEMS[:1]})):
        hidden = await api.request(method, URL, json=body, headers=other)
        assert hidden.status_code == 404 and hidden.json()["code"] == "unknown_project"
    beijing = await stack.key(group="HX", projects=["BJ-YH"])
    for method, body in (("GET", None), ("PUT", {"items": ITEMS[:1]})):
        refused = await api.request(method, URL, json=body, headers=beijing)
        assert refused.status_code == 403 and refused.json()["code"] == "project_out_of_scope"
    assert (await api.get(URL)).json() == before
    # Its own project's table it manages.
    await api.put("/v1/projects/ZZ-1", json={**PROJECT, "code": "ZZ-1", "group": "ZZ"})
    own = await api.put("/v1/projects/ZZ-1/service-items", json={"items": ITEMS[:1]},
                        headers=other)
    assert own.status_code == 200, own.text
    assert without_times(own.json()) == ITEMS[:1]
