"""The facts a determination works on, from the registry's stored rows."""

from __future__ import annotations

from datetime import date

from services.warranty.determination import Cause, LiableParty, determine
from services.warranty.models import Building, Project
from services.warranty.registry import category_facts, site_facts

PROJECT = Project(
    code="BJ-YH", group_code="HX", name="北京颐和雅苑", city="Beijing",
    time_zone="Asia/Shanghai", developer="北京华信置业", jurisdiction="CN", heating_season=None,
    cooling_season=None, count_season_in_progress=False, period_convention="civil_code",
    extra_days_off=[], extra_working_days=[], contract_terms=[], categories=[])


def decide(manufacturers: list[dict], code: str):
    building = Building(
        project_code="BJ-YH", code="A", name="A座", completion_accepted_on=date(2022, 6, 30),
        completion_reported_on=None, acceptance_delayed_by_developer=False, possession_on=None,
        design_service_life_years=50, general_contractor="中建八局", subcontractors={},
        manufacturers=manufacturers, common_areas_delivered_on=None)
    site = site_facts(project=PROJECT, building=building, unit_code="A-0601", common_area=None,
                      delivered_on=date(2023, 3, 1))
    return determine(site, category_facts(PROJECT, code), date(2026, 11, 22),
                     Cause.construction_defect)


def test_stored_manufacturers_match_by_their_categories_or_else_by_trade():
    stored = [
        # As saved before manufacturers could name categories: matched by trade.
        {"trade": "elevator", "name": "奥的斯电梯", "warranty_ends_on": "2030-12-31"},
        {"trade": "plumbing", "name": "ToiletCo", "warranty_ends_on": "2030-12-31",
         "categories": ["SAN-WARE"]},
    ]
    assert decide(stored, "ELEV").liable_party_name == "奥的斯电梯"
    assert decide(stored, "SAN-WARE").liable_party_name == "ToiletCo"
    burst = decide(stored, "PIPE-BURST")
    assert burst.liable_party is LiableParty.owner and burst.chargeable  # warranty over
