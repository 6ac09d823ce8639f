"""When each warranty category of a building ends (the revisit plan's facts): the same
dates a determination gives for the contractor layer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.warranty.categories import STARTER_TAXONOMY
from services.warranty.determination import CategoryFacts, determine
from services.warranty.expiries import contractor_expiries, first_handover
from services.warranty.periods import Period, PeriodKind
from services.warranty.rules import CN_RULES, ContractTerm
from tests.unit.warranty.test_determination import SITE


def ends(site=SITE) -> dict[str, date | None]:
    return {e.warranty_category: e.ends_on for e in contractor_expiries(site)}


def test_every_category_of_the_table_once_with_the_statutory_end():
    found = contractor_expiries(SITE)
    assert [e.warranty_category for e in found] == sorted(CN_RULES)
    assert ends()["roof_leakage"] == date(2027, 6, 30)  # completion 2022-06-30 + 5 years
    assert ends()["pipe_leakage"] == date(2024, 7, 1)  # + 2 years, a Sunday: next working day
    assert ends()["heating_system"] == date(2024, 3, 15)  # two Beijing heating seasons
    kinds = {e.warranty_category: e.period_kind for e in found}
    assert kinds["structure"] == "service_life" and kinds["other"] == "agreement"
    assert ends()["other"] is None


def test_a_contract_term_sets_the_end():
    term = ContractTerm("other", "contractor", Period(PeriodKind.years, 2), "施工合同附件三")
    assert ends(replace(SITE, contract_terms=(term,)))["other"] == date(2024, 7, 1)


def test_no_season_configured_gives_no_end_and_says_why():
    found = {e.warranty_category: e for e in contractor_expiries(replace(
        SITE, cooling_season=None))}
    assert found["cooling_system"].ends_on is None
    assert "cooling season" in found["cooling_system"].notes[0]


def test_nothing_while_completion_is_unknown():
    assert contractor_expiries(replace(SITE, completion_accepted_on=None)) == []


def test_first_handover_is_the_earliest_known_day():
    assert first_handover(None, [None]) is None
    assert first_handover(date(2024, 3, 1), [date(2024, 5, 1), None]) == date(2024, 3, 1)
    assert first_handover(None, [date(2024, 5, 1), date(2024, 4, 2)]) == date(2024, 4, 2)


@given(st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)))
def test_the_same_end_as_a_determination(completion):
    site = replace(SITE, completion_accepted_on=completion, delivered_on=None)
    found = ends(site)
    for c in STARTER_TAXONOMY:
        decision = determine(site, CategoryFacts(c.code, c.name_en, c.name_zh, c.trade,
                                                 c.warranty_category), completion)
        assert found[c.warranty_category] == decision.contractor.ends_on
