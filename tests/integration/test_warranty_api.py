"""The registry and warranty decisions through intake's HTTP API and the warranty service's
NATS endpoint, on real servers with the demo data."""

from __future__ import annotations

import copy

import pytest

from services.common.contracts import WARRANTY_DETERMINE
from services.common.errors import Rejection
from services.common.registry_contracts import Cause, DetermineWarranty, WarrantyDecision
from services.stack.demo import read_demo
from services.warranty.categories import STARTER_TAXONOMY
from tests.integration.conftest import Stack

PROJECT = {
    "code": "GZ-HT", "group": "HX", "name": "广州海天花园", "city": "Guangzhou",
    "developer": "广州华信地产", "cooling_season": {"start": "05-01", "end": "10-31"},
    "heating_season": {"start": "12-15", "end": "02-15"},
    "buildings": [{
        "code": "3", "name": "3栋", "completion_accepted_on": "2024-05-31",
        "general_contractor": "广州建筑集团", "subcontractors": {"waterproofing": "科顺防水"},
        "units": [{"code": "3-1801", "delivered_on": "2024-12-28", "owner_name": "黄敏",
                   "owner_phone": "13500001111"}],
        "common_areas": [{"code": "ROOF", "name": "3栋屋面"}],
    }],
}


async def test_a_project_is_created_replaced_read_and_listed(stack: Stack):
    created = await stack.api.put("/v1/projects/GZ-HT", json=PROJECT)
    assert created.status_code == 201, created.text
    assert created.json() == {"code": "GZ-HT", "created": True, "buildings": 1, "units": 1,
                              "common_areas": 1}
    again = await stack.api.put("/v1/projects/GZ-HT", json=PROJECT)
    assert again.status_code == 200 and again.json()["created"] is False  # idempotent
    stored = (await stack.api.get("/v1/projects/GZ-HT")).json()
    assert stored["buildings"][0]["units"][0]["owner_name"] == "黄敏"
    assert stored["cooling_season"] == {"start": "05-01", "end": "10-31"}

    fewer = copy.deepcopy(PROJECT)
    fewer["buildings"][0]["units"] = []
    assert (await stack.api.put("/v1/projects/GZ-HT", json=fewer)).json()["units"] == 0
    listed = (await stack.api.get("/v1/projects", params={"group": "HX"})).json()["projects"]
    assert [(p["code"], p["units"]) for p in listed] == [("BJ-YH", 3), ("GZ-HT", 0), ("SH-LJ", 5)]
    missing = await stack.api.get("/v1/projects/NOPE")
    assert missing.status_code == 404 and missing.json()["field"] == "project"


async def test_a_bad_project_lists_every_problem_and_changes_nothing(stack: Stack):
    await stack.api.put("/v1/projects/GZ-HT", json=PROJECT)
    bad = copy.deepcopy(PROJECT)
    bad["buildings"][0]["units"][0]["delivered_on"] = "2024-01-01"  # before completion
    bad["contract_terms"] = [{"warranty_category": "roof_leakage", "layer": "contractor",
                              "kind": "years", "count": 3, "clause": "施工合同第5条"}]
    response = await stack.api.put("/v1/projects/GZ-HT", json=bad)
    assert response.status_code == 422
    problem = response.json()
    assert {e["field"] for e in problem["errors"]} == {
        "buildings[0].units[0].delivered_on", "contract_terms[0].count"}
    stored = (await stack.api.get("/v1/projects/GZ-HT")).json()
    assert stored["buildings"][0]["units"][0]["delivered_on"] == "2024-12-28"
    assert stored["contract_terms"] == []

    mismatch = await stack.api.put("/v1/projects/OTHER", json=PROJECT)
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "code"
    zone = await stack.api.put("/v1/projects/GZ-HT", json={**PROJECT, "time_zone": "Mars/Base"})
    assert zone.status_code == 422 and zone.json()["field"] == "time_zone"


async def test_a_leap_day_season_bound_is_refused_naming_the_field(stack: Stack):
    response = await stack.api.put("/v1/projects/GZ-HT", json={
        **PROJECT, "heating_season": {"start": "12-01", "end": "02-29"}})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "heating_season.end"
    assert "02-29" in response.json()["detail"]


async def test_a_manufacturer_names_the_categories_it_covers(stack: Stack):
    project = copy.deepcopy(PROJECT)
    project["buildings"][0]["manufacturers"] = [
        {"trade": "plumbing", "name": "ToiletCo", "warranty_ends_on": "2030-12-31",
         "categories": ["SAN-WARE"]}]
    assert (await stack.api.put("/v1/projects/GZ-HT", json=project)).status_code in (200, 201)
    stored = (await stack.api.get("/v1/projects/GZ-HT")).json()
    assert stored["buildings"][0]["manufacturers"][0]["categories"] == ["SAN-WARE"]
    ask = {"project": "GZ-HT", "building": "3", "unit": "3-1801", "reported_on": "2027-01-10",
           "cause": "construction_defect"}  # both layers over: 2 years from 2024-05-31
    burst = await stack.api.post("/v1/warranty/determinations",
                                 json={**ask, "category": "PIPE-BURST"})
    assert burst.json()["liable_party"] == "owner" and burst.json()["chargeable"] is True
    toilet = await stack.api.post("/v1/warranty/determinations",
                                  json={**ask, "category": "SAN-WARE"})
    assert toilet.json()["liable_party_name"] == "ToiletCo"


async def test_a_determination_over_http_explains_itself(stack: Stack):
    response = await stack.api.post("/v1/warranty/determinations", json={
        "project": "SH-LJ", "building": "1", "unit": "1-502", "category": "LK-ROOF",
        "reported_on": "2026-11-22"})
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["covered"] is True and decision["chargeable"] is False
    assert decision["contractor"]["ends_on"] == "2028-06-30"  # 5 years from 2023-06-30
    assert decision["liable_party"] == "subcontractor"
    assert decision["liable_party_name"] == "东方雨虹防水工程公司"
    assert decision["liability_confirmed"] is False  # cause unknown at intake
    assert "第四十条" in decision["contractor"]["rule"]
    assert "免费维修" in decision["explanation_zh"] and "Free repair" in decision["explanation_en"]


async def test_every_category_gets_a_decision_in_every_demo_project(stack: Stack):
    demo = read_demo()
    for project in demo.group.projects:
        building = project.buildings[0]
        for category in STARTER_TAXONOMY:
            response = await stack.api.post("/v1/warranty/determinations", json={
                "project": project.code, "building": building.code,
                "unit": building.units[0].code, "category": category.code,
                "reported_on": "2024-08-01", "cause": "construction_defect"})
            assert response.status_code == 200, (project.code, category.code, response.text)
            assert response.json()["explanation_zh"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"project": "NOPE"}, 422, "project"),
        ({"unit": "1-999"}, 422, "unit"),
        ({"category": "XX"}, 422, "category"),
        ({"reported_on": "2023-06-01"}, 422, "reported_on"),  # before completion
        ({"reported_on": "2024-02-30"}, 422, "reported_on"),
        ({"cause": "aliens"}, 422, "cause"),
    ],
)
async def test_bad_determination_requests_name_the_field(stack: Stack, change, status, field):
    body = {"project": "SH-LJ", "building": "1", "unit": "1-502", "category": "LK-ROOF",
            "reported_on": "2026-11-22", **change}
    response = await stack.api.post("/v1/warranty/determinations", json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field
    assert response.json()["detail_zh"]


async def test_a_heating_period_without_a_season_is_refused(stack: Stack):
    await stack.api.put("/v1/projects/GZ-HT", json={**PROJECT, "heating_season": None})
    response = await stack.api.post("/v1/warranty/determinations", json={
        "project": "GZ-HT", "building": "3", "unit": "3-1801", "category": "HVAC-HEAT",
        "reported_on": "2025-01-10"})
    assert response.status_code == 422
    assert response.json()["code"] == "heating_season_missing"


async def test_common_areas_and_causes_through_nats(stack: Stack):
    ask = DetermineWarranty(project="BJ-YH", building="A", common_area="ROOF",
                            category="PLS-FALL", reported_on="2026-11-22",
                            cause="construction_defect")
    decision = await stack.bus.ask(WARRANTY_DETERMINE, ask, WarrantyDecision)
    assert decision.covered is False and decision.liable_party == "maintenance_fund"
    misuse = await stack.bus.ask(WARRANTY_DETERMINE, ask.model_copy(update={
        "category": "LK-ROOF", "cause": Cause.owner_misuse}), WarrantyDecision)
    # The roof's period runs, but misuse is not covered: the owners pay.
    assert misuse.contractor.covered and not misuse.covered and misuse.chargeable
    assert misuse.liable_party == "owner"
    # BJ-YH B: the developer delayed acceptance; the contractor's report date starts the clock.
    delayed = await stack.bus.ask(WARRANTY_DETERMINE, DetermineWarranty(
        project="BJ-YH", building="B", unit="B-0201", category="LK-PIPE",
        reported_on="2024-10-25"), WarrantyDecision)
    assert str(delayed.completion_on) == "2022-10-25" and delayed.contractor.covered
    with pytest.raises(Rejection) as refused:
        await stack.bus.ask(WARRANTY_DETERMINE, ask.model_copy(update={"building": "Z"}),
                            WarrantyDecision)
    assert refused.value.field == "building"
