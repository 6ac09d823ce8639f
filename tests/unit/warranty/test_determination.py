"""The warranty decision over every row of the rules page, each cause, and its invariants."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Rejection
from services.warranty.categories import BY_CODE, STARTER_TAXONOMY
from services.warranty.determination import (
    CategoryFacts,
    Cause,
    LiableParty,
    Manufacturer,
    SiteFacts,
    determine,
)
from services.warranty.periods import Period, PeriodKind, Season
from services.warranty.rules import ContractTerm, default_heating_season

SITE = SiteFacts(
    project="BJ-YH", city="Beijing", developer="北京华信置业", building="A",
    completion_accepted_on=date(2022, 6, 30), general_contractor="中建八局",
    subcontractors={"waterproofing": "东方雨虹", "elevator": "奥的斯安装"},
    unit="A-0601", delivered_on=date(2023, 3, 1),
    heating_season=default_heating_season("北京"), cooling_season=Season((5, 1), (9, 30)),
)


def category(code: str) -> CategoryFacts:
    c = BY_CODE[code]
    return CategoryFacts(c.code, c.name_en, c.name_zh, c.trade, c.warranty_category)


# Completion 2022-06-30, delivery 2023-03-01 (a Wednesday), Beijing heating 11-15..03-15.
@pytest.mark.parametrize(
    ("code", "contractor_end", "developer_end"),
    [
        ("STR-CRK", date(2072, 6, 30), date(2073, 3, 1)),  # 50 years: from delivery too
        ("LK-ROOF", date(2027, 6, 30), date(2027, 6, 30)),  # 5 y vs 3 y from delivery
        ("LK-EXTW", date(2027, 6, 30), date(2027, 6, 30)),
        ("LK-WIN", date(2027, 6, 30), date(2027, 6, 30)),
        ("LK-WET", date(2027, 6, 30), date(2027, 6, 30)),
        ("LK-BSMT", date(2027, 6, 30), date(2027, 6, 30)),
        ("LK-PIPE", date(2024, 7, 1), date(2024, 7, 1)),  # 2022-06-30+2 y is a Sunday
        ("PIPE-BURST", date(2024, 7, 1), date(2024, 7, 1)),
        ("PIPE-BLK", date(2024, 7, 1), date(2024, 7, 1)),
        ("SAN-WARE", date(2024, 7, 1), date(2024, 7, 1)),
        ("CRK-WALL", date(2024, 7, 1), date(2024, 7, 1)),
        ("PLS-FALL", date(2024, 7, 1), date(2024, 7, 1)),
        ("FLR-HOL", date(2024, 7, 1), date(2024, 7, 1)),
        ("TILE-HOL", date(2024, 7, 1), date(2024, 7, 1)),
        ("DW-DEF", date(2024, 7, 1), date(2024, 7, 1)),
        ("EL-FIX", date(2024, 7, 1), date(2024, 7, 1)),
        ("EL-WIRE", date(2024, 7, 1), date(2024, 7, 1)),
        ("EL-OUTAGE", date(2024, 7, 1), date(2024, 7, 1)),
        ("HVAC-HEAT", date(2024, 3, 15), date(2024, 3, 15)),  # 2 seasons; 1 from delivery
        ("HVAC-COOL", date(2024, 9, 30), date(2024, 9, 30)),  # 2022's season was running
        ("INS-EXT", date(2027, 6, 30), date(2027, 6, 30)),
        ("ELEV", date(2024, 7, 1), date(2024, 7, 1)),
        ("FIRE", date(2024, 7, 1), date(2024, 7, 1)),
        ("SEC-LV", date(2024, 7, 1), date(2024, 7, 1)),
        ("LAND", None, None),  # by agreement in both layers
    ],
)
def test_each_category_gets_both_layers_end_dates(code, contractor_end, developer_end):
    decision = determine(SITE, category(code), date(2023, 5, 10))
    assert decision.contractor.ends_on == contractor_end
    assert decision.developer.ends_on == developer_end
    assert decision.contractor.rule and decision.developer.rule
    assert decision.explanation_en and decision.explanation_zh


def test_every_starter_category_has_a_rule():
    for c in STARTER_TAXONOMY:
        determine(SITE, category(c.code), date(2023, 5, 10))


def test_the_developer_period_is_its_own_when_longer_than_what_the_contractor_has_left():
    late = replace(SITE, delivered_on=date(2026, 3, 2))  # roof: 3 y from delivery > 5 y
    decision = determine(late, category("LK-ROOF"), date(2026, 11, 22))
    assert decision.contractor.ends_on == date(2027, 6, 30)
    assert decision.developer.ends_on == date(2029, 3, 2)
    assert "第六条" in decision.developer.rule
    on_time = determine(SITE, category("LK-ROOF"), date(2026, 11, 22))
    assert "第三十三条" in on_time.developer.rule  # Order 88: the contractor's end wins


def test_the_last_day_is_covered_and_the_next_is_not():
    lamp = category("EL-FIX")  # developer 6 months from 2023-03-01; contractor to 2024-07-01
    short = replace(SITE, completion_accepted_on=date(2021, 3, 1), delivered_on=date(2022, 9, 1))
    assert determine(short, lamp, date(2023, 3, 1)).developer.ends_on == date(2023, 3, 1)
    assert determine(short, lamp, date(2023, 3, 1)).covered is True
    after = determine(short, lamp, date(2023, 3, 2))
    assert after.covered is False and after.chargeable is True
    assert after.liable_party is LiableParty.owner


def test_covered_defects_go_to_the_specialist_the_contractor_or_the_developer():
    roof = determine(SITE, category("LK-ROOF"), date(2024, 1, 5), Cause.construction_defect)
    assert (roof.liable_party, roof.liable_party_name) == (LiableParty.subcontractor, "东方雨虹")
    assert roof.delegate and not roof.chargeable and roof.liability_confirmed
    plaster = determine(SITE, category("PLS-FALL"), date(2024, 1, 5), Cause.construction_defect)
    assert (plaster.liable_party, plaster.liable_party_name) == (
        LiableParty.general_contractor, "中建八局")
    # Contractor's 2 years over (2024-07-01) but the developer's own period still runs.
    late = replace(SITE, delivered_on=date(2024, 6, 3))
    pipe = determine(late, category("LK-PIPE"), date(2025, 3, 3), Cause.construction_defect)
    assert pipe.contractor.covered is False and pipe.developer.covered is True
    assert (pipe.liable_party, pipe.liable_party_name) == (LiableParty.developer, "北京华信置业")


def test_equipment_under_its_own_warranty_goes_to_the_manufacturer():
    site = replace(SITE, manufacturers=(Manufacturer("elevator", "奥的斯电梯", date(2027, 12, 31)),))
    lift = determine(site, category("ELEV"), date(2026, 11, 22), Cause.construction_defect)
    assert (lift.liable_party, lift.liable_party_name) == (LiableParty.manufacturer, "奥的斯电梯")
    assert lift.delegate and not lift.chargeable
    assert lift.covered and not lift.contractor.covered and not lift.developer.covered
    assert "2027-12-31" in lift.explanation_en


@pytest.mark.parametrize(
    ("cause", "party", "chargeable", "delegate"),
    [
        (Cause.construction_defect, LiableParty.subcontractor, False, True),
        (Cause.design_defect, LiableParty.developer, False, True),
        (Cause.owner_misuse, LiableParty.owner, True, False),
        (Cause.owner_renovation, LiableParty.owner, True, False),
        (Cause.third_party, LiableParty.third_party, True, False),
        (Cause.force_majeure, LiableParty.owner, True, False),
        (Cause.wear, LiableParty.owner, True, False),
    ],
)
def test_each_cause_decides_who_pays(cause, party, chargeable, delegate):
    decision = determine(SITE, category("LK-WET"), date(2024, 1, 5), cause)
    # Within both periods: the cause alone decides whether the warranty covers it.
    assert decision.contractor.covered and decision.developer.covered
    assert decision.covered is not chargeable
    assert (decision.liable_party, decision.chargeable, decision.delegate) == (
        party, chargeable, delegate)
    assert decision.liability_confirmed is True


def test_an_unknown_cause_decides_coverage_by_dates_and_leaves_liability_open():
    decision = determine(SITE, category("LK-WET"), date(2024, 1, 5))
    assert decision.cause is Cause.unknown
    assert decision.covered and not decision.chargeable
    assert decision.liability_confirmed is False
    assert "现场查勘" in decision.explanation_zh and "on site" in decision.explanation_en


def test_common_parts_after_the_warranty_are_paid_from_the_maintenance_fund():
    lobby = replace(SITE, unit=None, common_area="LOBBY", delivered_on=date(2022, 10, 8))
    decision = determine(lobby, category("PLS-FALL"), date(2026, 11, 22),
                         Cause.construction_defect)
    assert decision.covered is False
    assert decision.liable_party is LiableParty.maintenance_fund
    assert "专项维修资金" in decision.explanation_zh


def test_an_undelivered_unit_has_only_the_contractor_layer():
    unsold = replace(SITE, delivered_on=None)
    decision = determine(unsold, category("LK-ROOF"), date(2024, 1, 5))
    assert decision.developer.starts_on is None and decision.developer.covered is False
    assert decision.contractor.covered and decision.covered


@pytest.mark.parametrize(
    ("changes", "completion"),
    [
        ({}, date(2022, 6, 30)),
        ({"completion_accepted_on": date(2022, 9, 1), "completion_reported_on": date(2022, 6, 1),
          "acceptance_delayed_by_developer": True}, date(2022, 6, 1)),
        ({"completion_accepted_on": date(2022, 9, 1), "completion_reported_on": date(2022, 6, 1)},
         date(2022, 9, 1)),  # reported, but the delay was not the developer's
        ({"completion_accepted_on": None, "possession_on": date(2022, 5, 20)}, date(2022, 5, 20)),
        ({"possession_on": date(2022, 5, 20)}, date(2022, 5, 20)),  # used before acceptance
        ({"possession_on": date(2022, 8, 1)}, date(2022, 6, 30)),  # used after it: no change
    ],
)
def test_the_completion_date_follows_the_spc_interpretation(changes, completion):
    site = replace(SITE, delivered_on=date(2022, 10, 8), **changes)
    assert determine(site, category("LK-ROOF"), date(2024, 1, 5)).completion_on == completion


@pytest.mark.parametrize(
    ("site", "reported_on", "code", "field"),
    [
        (SITE, date(2022, 6, 29), "reported_before_completion", "reported_on"),
        (replace(SITE, delivered_on=date(2022, 6, 1)), date(2024, 1, 5),
         "delivered_before_completion", "delivered_on"),
        (replace(SITE, completion_accepted_on=None), date(2024, 1, 5), "completion_unknown",
         "building"),
        (replace(SITE, heating_season=None), date(2024, 1, 5), "heating_season_missing",
         "heating_season"),
    ],
)
def test_facts_that_cannot_give_a_decision_are_refused_naming_the_field(site, reported_on,
                                                                        code, field):
    with pytest.raises(Rejection) as refused:
        determine(site, category("HVAC-HEAT"), reported_on)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message_zh


Y, M = PeriodKind.years, PeriodKind.months


@pytest.mark.parametrize(
    ("term", "changes", "reported_on", "ends_on", "clause"),
    [
        (ContractTerm("structure", "contractor", Period(Y, 10), "施工合同第九条"),
         {"completion_accepted_on": date(2019, 1, 2), "delivered_on": None},
         date(2030, 1, 10), date(2069, 1, 2), "第四十条第(一)项"),  # the design service life
        (ContractTerm("heating_system", "contractor", Period(M, 6), "施工合同第九条"),
         {"completion_accepted_on": date(2023, 6, 1), "delivered_on": None},
         date(2024, 1, 10), date(2025, 3, 15), "第四十条第(三)项"),  # two Beijing seasons
        (ContractTerm("heating_system", "developer", Period(M, 2), "购房合同第十条"),
         {"delivered_on": date(2024, 1, 10)},
         date(2024, 12, 1), date(2025, 3, 15), "第六条"),  # one season from delivery
    ],
    ids=["structure-years", "heating-months", "developer-heating-months"],
)
def test_a_contract_term_counted_in_other_units_cannot_shorten_the_statute(
    term, changes, reported_on, ends_on, clause
):
    decision = determine(replace(SITE, contract_terms=(term,), **changes),
                         category("STR-CRK" if term.warranty_category == "structure"
                                  else "HVAC-HEAT"), reported_on)
    layer = decision.contractor if term.layer == "contractor" else decision.developer
    assert (layer.ends_on, layer.covered, decision.covered) == (ends_on, True, True)
    assert clause in layer.rule
    assert any(term.clause in note for note in layer.notes)  # says the contract was shorter


def test_without_a_season_the_contract_term_in_years_still_decides():
    """No heating season configured: the statute (in heating periods) cannot be counted,
    but a contract term in years can, and is used rather than refusing the decision."""
    site = replace(SITE, heating_season=None, completion_accepted_on=date(2023, 6, 1),
                   delivered_on=None, contract_terms=(ContractTerm(
                       "heating_system", "contractor", Period(Y, 3), "施工合同第九条"),))
    decision = determine(site, category("HVAC-HEAT"), date(2025, 6, 1))
    assert decision.contractor.ends_on == date(2026, 6, 1) and decision.covered
    assert "施工合同第九条" in decision.contractor.rule
    assert any("could not be counted" in note for note in decision.contractor.notes)
    # A term that might be shorter than two heating periods proves nothing: still refused.
    short = replace(site, contract_terms=(ContractTerm(
        "heating_system", "contractor", Period(Y, 1), "施工合同第九条"),))
    with pytest.raises(Rejection) as refused:
        determine(short, category("HVAC-HEAT"), date(2024, 9, 1))
    assert refused.value.code == "heating_season_missing"


def test_the_developer_service_life_runs_from_delivery():
    site = replace(SITE, completion_accepted_on=date(2019, 1, 2), delivered_on=date(2020, 1, 2))
    decision = determine(site, category("STR-CRK"), date(2069, 1, 10))
    assert decision.contractor.ends_on == date(2069, 1, 2) and not decision.contractor.covered
    assert decision.developer.ends_on == date(2070, 1, 2) and decision.developer.covered
    assert decision.covered and not decision.chargeable
    assert "第五条" in decision.developer.rule


def test_force_majeure_on_common_parts_is_the_owners_or_their_insurers_not_the_fund():
    lobby = replace(SITE, unit=None, common_area="LOBBY", delivered_on=date(2022, 10, 8))
    decision = determine(lobby, category("PLS-FALL"), date(2023, 5, 10), Cause.force_majeure)
    assert (decision.liable_party, decision.chargeable) == (LiableParty.owner, True)
    assert "owners collectively or their insurer" in decision.explanation_en
    assert "全体业主或其保险人" in decision.explanation_zh
    unit = determine(SITE, category("PLS-FALL"), date(2023, 5, 10), Cause.force_majeure)
    assert "the owner or their insurer" in unit.explanation_en


def test_a_category_by_agreement_with_none_agreed_says_no_period_is_set():
    decision = determine(SITE, category("LAND"), date(2023, 5, 10), Cause.construction_defect)
    assert decision.chargeable and decision.liable_party is LiableParty.owner
    assert "No warranty period is set" in decision.explanation_en
    assert "未约定保修期限" in decision.explanation_zh
    assert "ended" not in decision.explanation_en and "已过保修期" not in decision.explanation_zh


def test_a_manufacturer_naming_its_categories_is_liable_for_those_only():
    toilets = Manufacturer("plumbing", "ToiletCo", date(2030, 12, 31), frozenset({"SAN-WARE"}))
    site = replace(SITE, manufacturers=(toilets,))
    burst = determine(site, category("PIPE-BURST"), date(2026, 11, 22), Cause.construction_defect)
    assert burst.liable_party is not LiableParty.manufacturer and not burst.covered
    toilet = determine(site, category("SAN-WARE"), date(2026, 11, 22), Cause.construction_defect)
    assert (toilet.liable_party, toilet.liable_party_name) == (LiableParty.manufacturer, "ToiletCo")
    lifts = Manufacturer("elevator", "奥的斯电梯", date(2030, 12, 31), frozenset({"elevators"}))
    lift = determine(replace(SITE, manufacturers=(lifts,)), category("ELEV"), date(2026, 11, 22))
    assert lift.liable_party_name == "奥的斯电梯"  # by warranty category as well as by code


def test_a_missing_cooling_season_is_refused_naming_that_field():
    with pytest.raises(Rejection) as refused:
        determine(replace(SITE, cooling_season=None), category("HVAC-COOL"), date(2024, 1, 5))
    assert (refused.value.code, refused.value.field) == ("cooling_season_missing",
                                                          "cooling_season")


def test_a_contract_can_lengthen_a_period_and_says_so():
    term = ContractTerm("roof_leakage", "developer", Period(PeriodKind.years, 8), "购房合同第十二条")
    decision = determine(replace(SITE, contract_terms=(term,)), category("LK-ROOF"),
                         date(2030, 1, 2))
    assert decision.developer.ends_on == date(2031, 3, 3)  # 2031-03-01 is a Saturday
    assert decision.developer.rule == "购房合同第十二条" and decision.covered
    land = ContractTerm("other", "contractor", Period(PeriodKind.years, 1), "施工合同附件三")
    landscaped = determine(replace(SITE, contract_terms=(land,)), category("LAND"),
                           date(2023, 5, 10))
    assert landscaped.contractor.ends_on == date(2023, 6, 30)
    assert landscaped.developer.ends_on == date(2023, 6, 30)  # Order 88 lifts it


dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2040, 12, 31))
codes = st.sampled_from([c.code for c in STARTER_TAXONOMY])


@given(code=codes, completion=dates, lag=st.integers(0, 900), first=st.integers(0, 8000),
       later=st.integers(0, 4000), cause=st.sampled_from(list(Cause)))
def test_a_later_report_never_turns_not_covered_into_covered(code, completion, lag, first,
                                                             later, cause):
    site = replace(SITE, completion_accepted_on=completion,
                   delivered_on=completion + timedelta(days=lag))
    earlier = determine(site, category(code), site.delivered_on + timedelta(days=first), cause)
    then = determine(site, category(code), earlier.reported_on + timedelta(days=later), cause)
    assert not (not earlier.covered and then.covered)


@given(code=codes, completion=dates, lag=st.integers(0, 900), shift=st.integers(0, 900))
def test_the_contractor_end_never_falls_after_the_developer_end_and_later_delivery_never_shortens(
    code, completion, lag, shift
):
    site = replace(SITE, completion_accepted_on=completion,
                   delivered_on=completion + timedelta(days=lag))
    reported = completion + timedelta(days=2000)
    decision = determine(site, category(code), reported)
    if decision.contractor.ends_on is not None:
        assert decision.developer.ends_on is not None
        assert decision.contractor.ends_on <= decision.developer.ends_on
    moved = determine(replace(site, delivered_on=site.delivered_on + timedelta(days=shift)),
                      category(code), reported + timedelta(days=shift))
    if decision.developer.ends_on is not None:
        assert moved.developer.ends_on >= decision.developer.ends_on
