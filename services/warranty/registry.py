"""The registry's own rules: what makes a project document acceptable, and how its rows
become the facts a warranty determination works on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.registry_contracts import BuildingIn, ProjectIn
from services.warranty.categories import BY_CODE
from services.warranty.determination import (
    CategoryFacts,
    Manufacturer,
    SiteFacts,
    completion_date,
)
from services.warranty.models import Building, Project
from services.warranty.periods import Convention, Period, PeriodKind, Season, WorkCalendar
from services.warranty.rules import RULE_TABLES, ContractTerm, default_heating_season


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a document, at a path such as `buildings[0].units[3].delivered_on`."""

    field: str
    code: str
    message_en: str
    message_zh: str


def check_project(project: ProjectIn) -> list[Problem]:
    """Every problem of a project document (empty when it can be saved)."""
    problems: list[Problem] = []
    table = RULE_TABLES.get(project.jurisdiction)
    if table is None:
        problems.append(Problem("jurisdiction", "unknown_jurisdiction",
                                f"No rule table for jurisdiction {project.jurisdiction!r}.",
                                f"没有“{project.jurisdiction}”的保修规则表。"))
        table = RULE_TABLES["CN"]
    for i, term in enumerate(project.contract_terms):
        at = f"contract_terms[{i}]"
        rule = table.get(term.warranty_category)
        if rule is None:
            problems.append(_unknown_warranty_category(f"{at}.warranty_category",
                                                       term.warranty_category))
            continue
        statutory = rule.contractor if term.layer == "contractor" else rule.developer
        if _shorter(Period(PeriodKind(term.kind.value), term.count), statutory):
            en, zh = statutory.describe()
            problems.append(Problem(
                f"{at}.count", "shorter_than_statute",
                f"A contract may lengthen the statutory period ({en}), not shorten it.",
                f"合同约定的保修期不得短于法定最低期限（{zh}）。"))
    for i, category in enumerate(project.categories):
        if category.code in BY_CODE:
            problems.append(Problem(f"categories[{i}].code", "category_exists",
                                    f"{category.code} is a starter category already.",
                                    f"{category.code}已是系统内置类别。"))
        if category.warranty_category not in table:
            problems.append(_unknown_warranty_category(f"categories[{i}].warranty_category",
                                                       category.warranty_category))
    both = set(project.extra_days_off) & set(project.extra_working_days)
    if both:
        problems.append(Problem("extra_working_days", "day_both_off_and_working",
                                f"{sorted(both)[0]} is listed as a day off and a working day.",
                                f"{sorted(both)[0]}同时被列为休息日和工作日。"))
    problems += _duplicates([b.code for b in project.buildings], "buildings", "building")
    known = {*table, *BY_CODE, *(c.code for c in project.categories)}
    for i, building in enumerate(project.buildings):
        at = f"buildings[{i}]"
        problems += _duplicates([u.code for u in building.units], f"{at}.units", "unit")
        problems += _duplicates([a.code for a in building.common_areas], f"{at}.common_areas",
                                "common area")
        for j, maker in enumerate(building.manufacturers):
            problems += [Problem(f"{at}.manufacturers[{j}].categories[{k}]", "unknown_category",
                                 f"{name!r} is neither a warranty category nor a defect code.",
                                 f"“{name}”既不是保修类别，也不是报修类别编码。")
                         for k, name in enumerate(maker.categories) if name not in known]
        completion = clock_start(building)
        for j, unit in enumerate(building.units):
            if completion and unit.delivered_on and unit.delivered_on < completion:
                problems.append(Problem(
                    f"{at}.units[{j}].delivered_on", "delivered_before_completion",
                    f"Unit {unit.code} delivered on {unit.delivered_on}, before the building's "
                    f"completion on {completion}.",
                    f"房号{unit.code}的交付日期{unit.delivered_on}早于楼栋竣工日期{completion}。"))
    return problems


def clock_start(building: BuildingIn) -> date | None:
    """The building's completion date, or None when not known yet."""
    return completion_date(
        accepted=building.completion_accepted_on, reported=building.completion_reported_on,
        delayed=building.acceptance_delayed_by_developer, possession=building.possession_on)[0]


def site_facts(*, project: Project, building: Building, unit_code: str | None,
               common_area: str | None, delivered_on: date | None) -> SiteFacts:
    """The facts of one place, from the registry's rows."""
    heating = (Season(*_month_days(project.heating_season)) if project.heating_season
               else default_heating_season(project.city))
    cooling = Season(*_month_days(project.cooling_season)) if project.cooling_season else None
    return SiteFacts(
        project=project.code, city=project.city, developer=project.developer,
        building=building.code, completion_accepted_on=building.completion_accepted_on,
        completion_reported_on=building.completion_reported_on,
        acceptance_delayed_by_developer=building.acceptance_delayed_by_developer,
        possession_on=building.possession_on,
        design_service_life_years=building.design_service_life_years,
        general_contractor=building.general_contractor,
        subcontractors=dict(building.subcontractors),
        manufacturers=tuple(Manufacturer(m["trade"], m["name"],
                                         date.fromisoformat(m["warranty_ends_on"]),
                                         frozenset(m.get("categories", ())))
                            for m in building.manufacturers),
        unit=unit_code, common_area=common_area, delivered_on=delivered_on,
        heating_season=heating, cooling_season=cooling,
        count_season_in_progress=project.count_season_in_progress,
        convention=Convention(project.period_convention),
        work_calendar=WorkCalendar(
            frozenset(date.fromisoformat(d) for d in project.extra_days_off),
            frozenset(date.fromisoformat(d) for d in project.extra_working_days)),
        contract_terms=tuple(
            ContractTerm(t["warranty_category"], t["layer"],
                         Period(PeriodKind(t["kind"]), t["count"]), t["clause"])
            for t in project.contract_terms),
        jurisdiction=project.jurisdiction,
    )


def category_facts(project: Project, code: str) -> CategoryFacts | None:
    """A starter category or one of the project's own."""
    starter = BY_CODE.get(code)
    if starter:
        return CategoryFacts(starter.code, starter.name_en, starter.name_zh, starter.trade,
                             starter.warranty_category, starter.always_emergency)
    own = next((c for c in project.categories if c["code"] == code), None)
    if own:
        return CategoryFacts(own["code"], own["name_en"], own["name_zh"], own["trade"],
                             own["warranty_category"], own.get("always_emergency", False))
    return None


def _month_days(season: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    def parse(text: str) -> tuple[int, int]:
        month, day = text.split("-")
        return int(month), int(day)

    return parse(season["start"]), parse(season["end"])


def _shorter(contract: Period, statutory: Period) -> bool:
    """Plainly shorter, where the two are comparable; a determination takes the later end
    of the two anyway."""
    if contract.kind == statutory.kind:
        return contract.count < statutory.count
    ours, theirs = contract.months(), statutory.months()
    return ours is not None and theirs is not None and ours < theirs


def _unknown_warranty_category(field: str, value: str) -> Problem:
    return Problem(field, "unknown_warranty_category", f"Unknown warranty category {value!r}.",
                   f"未知的保修类别“{value}”。")


def _duplicates(codes: list[str], at: str, what: str) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for i, code in enumerate(codes):
        if code in seen:
            problems.append(Problem(f"{at}[{i}].code", "duplicate_code",
                                    f"The {what} code {code} appears twice.",
                                    f"编码{code}重复。"))
        seen.add(code)
    return problems
