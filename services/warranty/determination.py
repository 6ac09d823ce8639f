"""Warranty determination (保修责任判定): a pure function of the registry's facts about a
place, the defect category, the report date and the cause.

    contractor_end = completion + contractor period              (Order 279 Art. 40)
    developer_end  = max(contractor_end, delivery + developer minimum)   (Order 88 Art. 33)

then who is liable and whether the owner pays, by cause (Order 279 Art. 41, Order 80
Art. 13 and 17), and a plain explanation in Chinese and English for the call-center agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from services.common.errors import Rejection
from services.common.registry_contracts import Cause
from services.warranty.periods import (
    Convention,
    Period,
    PeriodKind,
    Season,
    WorkCalendar,
    end_of_seasons,
    end_of_term,
)
from services.warranty.rules import RULE_TABLES, ContractTerm, WarrantyRule


class LiableParty(StrEnum):
    developer = "developer"
    general_contractor = "general_contractor"
    subcontractor = "subcontractor"
    manufacturer = "manufacturer"
    owner = "owner"
    third_party = "third_party"
    maintenance_fund = "maintenance_fund"  # 专项维修资金, for common parts


@dataclass(frozen=True)
class Manufacturer:
    """Equipment with its own warranty (an elevator's maker, say), for the component
    categories it names (warranty categories or defect codes), else for its trade."""

    trade: str
    name: str
    warranty_ends_on: date
    categories: frozenset[str] = frozenset()

    def covers(self, category: CategoryFacts) -> bool:
        if self.categories:
            return bool({category.code, category.warranty_category} & self.categories)
        return self.trade == category.trade


@dataclass(frozen=True)
class SiteFacts:
    """What the registry knows about the place of a report."""

    project: str
    city: str
    developer: str | None
    building: str
    completion_accepted_on: date | None
    completion_reported_on: date | None = None
    acceptance_delayed_by_developer: bool = False
    possession_on: date | None = None
    design_service_life_years: int = 50
    general_contractor: str | None = None
    subcontractors: Mapping[str, str] = field(default_factory=dict)  # trade → company
    manufacturers: tuple[Manufacturer, ...] = ()
    unit: str | None = None
    common_area: str | None = None
    delivered_on: date | None = None  # the unit's delivery, or the common parts' handover
    heating_season: Season | None = None
    cooling_season: Season | None = None
    count_season_in_progress: bool = False
    convention: Convention = Convention.civil_code
    work_calendar: WorkCalendar = field(default_factory=WorkCalendar)
    contract_terms: tuple[ContractTerm, ...] = ()
    jurisdiction: str = "CN"


@dataclass(frozen=True)
class CategoryFacts:
    code: str
    name_en: str
    name_zh: str
    trade: str
    warranty_category: str
    always_emergency: bool = False


@dataclass(frozen=True)
class Layer:
    """One warranty layer's coverage on the report date."""

    layer: str  # "contractor" or "developer"
    starts_on: date | None
    ends_on: date | None  # inclusive, to 24:00 in the project's zone
    covered: bool
    period_en: str
    period_zh: str
    rule: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    category: str
    warranty_category: str
    reported_on: date
    cause: Cause
    completion_on: date
    completion_rule: str
    contractor: Layer
    developer: Layer
    covered: bool
    chargeable: bool
    liable_party: LiableParty
    liable_party_name: str | None
    liability_confirmed: bool
    delegate: bool
    explanation_en: str
    explanation_zh: str


def completion_date(*, accepted: date | None, reported: date | None, delayed: bool,
                    possession: date | None) -> tuple[date | None, str]:
    """The completion date the contractor's clock starts from (SPC interpretation I Art. 9),
    and the rule that gave it; None while no such date is known."""
    if possession and (accepted is None or possession < accepted):
        return possession, "used before acceptance: the day possession passed (司法解释一第九条第(三)项)"
    if delayed and reported:
        return reported, "acceptance delayed by the developer: the day the contractor reported completion (司法解释一第九条第(二)项)"
    return accepted, "the day completion acceptance was passed (司法解释一第九条第(一)项)"


def effective_completion(site: SiteFacts) -> tuple[date, str]:
    completion, rule = completion_date(
        accepted=site.completion_accepted_on, reported=site.completion_reported_on,
        delayed=site.acceptance_delayed_by_developer, possession=site.possession_on)
    if completion is None:
        raise Rejection("completion_unknown",
                        f"Building {site.building} of {site.project} has no completion date.",
                        f"{site.project}项目{site.building}楼栋没有竣工日期，无法计算保修期。",
                        "building", 422)
    return completion, rule


def determine(site: SiteFacts, category: CategoryFacts, reported_on: date,
              cause: Cause = Cause.unknown) -> Decision:
    """Both layers' coverage, who pays, who repairs, and why."""
    rule = _rule_for(site, category)
    completion, completion_rule = effective_completion(site)
    if reported_on < completion:
        raise Rejection("reported_before_completion",
                        f"The report date {reported_on} is before completion ({completion}).",
                        f"报修日期{reported_on}早于竣工日期{completion}。", "reported_on", 422)
    if site.delivered_on and site.delivered_on < completion:
        raise Rejection("delivered_before_completion",
                        f"The delivery date {site.delivered_on} is before completion ({completion}).",
                        f"交付日期{site.delivered_on}早于竣工日期{completion}。", "delivered_on", 422)
    contractor = _contractor_layer(site, rule, completion, reported_on)
    developer = _developer_layer(site, rule, contractor, reported_on)
    maker = next((m for m in site.manufacturers
                  if m.covers(category) and reported_on <= m.warranty_ends_on), None)
    in_period = contractor.covered or developer.covered or maker is not None
    party, name, confirmed, delegate, chargeable = _liability(site, category, cause, in_period,
                                                              contractor, maker)
    # The rules page's causes table: these are not covered whatever the dates (the layers
    # still say whether their periods run).
    covered = in_period and cause not in NOT_COVERED
    decision = Decision(
        category=category.code, warranty_category=rule.category, reported_on=reported_on,
        cause=cause, completion_on=completion, completion_rule=completion_rule,
        contractor=contractor, developer=developer, covered=covered, chargeable=chargeable,
        liable_party=party, liable_party_name=name, liability_confirmed=confirmed,
        delegate=delegate, explanation_en="", explanation_zh="",
    )
    en, zh = _explain(site, category, decision)
    return replace(decision, explanation_en=en, explanation_zh=zh)


NOT_COVERED = frozenset({Cause.owner_misuse, Cause.owner_renovation, Cause.third_party,
                         Cause.force_majeure, Cause.wear})


def _rule_for(site: SiteFacts, category: CategoryFacts) -> WarrantyRule:
    table = RULE_TABLES.get(site.jurisdiction)
    if table is None or category.warranty_category not in table:
        raise Rejection("no_rule", f"No warranty rule for {category.warranty_category!r} in "
                        f"jurisdiction {site.jurisdiction!r}.",
                        f"没有适用于“{category.warranty_category}”的保修规则。", "category", 422)
    return table[category.warranty_category]


def _contract_term(site: SiteFacts, rule: WarrantyRule, layer: str) -> ContractTerm | None:
    return next((t for t in site.contract_terms
                 if t.warranty_category == rule.category and t.layer == layer), None)


def _end(site: SiteFacts, period: Period, start: date) -> tuple[date | None, tuple[str, ...]]:
    """The last day of `period` from `start`, with notes on how it was reached."""
    if period.kind is PeriodKind.agreement:
        return None, ()
    if period.kind in (PeriodKind.heating_periods, PeriodKind.cooling_periods):
        heating = period.kind is PeriodKind.heating_periods
        season = site.heating_season if heating else site.cooling_season
        if season is None:
            what = "heating season" if heating else "cooling season"
            where = f"the city {site.city}" if heating else f"project {site.project}"
            raise Rejection(f"{'heating' if heating else 'cooling'}_season_missing",
                            f"The {what} of {where} is not configured; the period cannot be "
                            "computed.",
                            f"未配置{site.city if heating else site.project}的"
                            f"{'采暖期' if heating else '供冷期'}，无法计算保修期。",
                            "heating_season" if heating else "cooling_season", 422)
        return end_of_seasons(start, period.count, season,
                              count_in_progress=site.count_season_in_progress), ()
    months = (site.design_service_life_years * 12 if period.kind is PeriodKind.service_life
              else period.months())
    assert months is not None
    end = end_of_term(start, months, convention=site.convention, work_calendar=site.work_calendar)
    notes = []
    if end.moved_from:
        notes.append(f"{end.moved_from} is a day off: the period ends on the next working day")
    if end.calendar_unknown:
        notes.append(f"the statutory calendar of {end.last_day.year} is not published yet: "
                     "only weekends counted as days off")
    return end.last_day, tuple(notes)


@dataclass(frozen=True)
class _Span:
    """The period that gives a layer's end, the clause behind it, the end and notes."""

    period: Period
    source: str
    ends_on: date | None
    notes: tuple[str, ...]


def _span(site: SiteFacts, rule: WarrantyRule, layer: str, start: date) -> _Span:
    """A layer's statutory period from `start`, or the contract's where it ends later: a
    contract can lengthen a period, never shorten it, whatever unit each is counted in."""
    statutory, source = ((rule.contractor, rule.contractor_source) if layer == "contractor"
                         else (rule.developer, rule.developer_source))
    term = _contract_term(site, rule, layer)
    try:
        ends_on, notes = _end(site, statutory, start)
    except Rejection as missing:
        # No season configured to count the statute in: a contract term stands alone only
        # if it outlasts any N seasons (they end within N + 1 years); else still refused.
        longest = (statutory.count + 1) * 12
        term_months = term.period.months() if term is not None else None
        if (term is None or not missing.code.endswith("_season_missing")
                or term_months is None or term_months < longest):
            raise
        term_ends_on, term_notes = _end(site, term.period, start)
        return _Span(term.period, term.clause, term_ends_on, term_notes + (
            "the statutory period (in heating or cooling periods) could not be counted: no "
            "season is configured for the project; the contract's term outlasts it anyway",))
    if term is None:
        return _Span(statutory, source, ends_on, notes)
    term_ends_on, term_notes = _end(site, term.period, start)
    if ends_on is None or (term_ends_on is not None and term_ends_on > ends_on):
        return _Span(term.period, term.clause, term_ends_on, term_notes)
    if term_ends_on is not None and term_ends_on < ends_on:
        notes += (f"the contract's {term.period.describe()[0]} ({term.clause}) would end on "
                  f"{term_ends_on}: a contract can lengthen the statutory period, not shorten it",)
    return _Span(statutory, source, ends_on, notes)


def _describe(site: SiteFacts, period: Period) -> tuple[str, str]:
    if period.kind is PeriodKind.service_life:
        years = site.design_service_life_years
        return f"{years} years (design service life)", f"{years}年（设计合理使用年限）"
    return period.describe()


def _contractor_layer(site: SiteFacts, rule: WarrantyRule, completion: date,
                      reported_on: date) -> Layer:
    span = _span(site, rule, "contractor", completion)
    en, zh = _describe(site, span.period)
    return Layer("contractor", completion, span.ends_on,
                 span.ends_on is not None and reported_on <= span.ends_on, en, zh, span.source,
                 span.notes)


def contractor_end(site: SiteFacts, rule: WarrantyRule, completion: date
                   ) -> tuple[PeriodKind, date | None, tuple[str, ...]]:
    """One warranty category's contractor-layer period kind and last day at `site` (as in
    `_contractor_layer`: the contract's period where it ends later), with notes."""
    span = _span(site, rule, "contractor", completion)
    return span.period.kind, span.ends_on, span.notes


def _developer_layer(site: SiteFacts, rule: WarrantyRule, contractor: Layer,
                     reported_on: date) -> Layer:
    if site.delivered_on is None:
        en, zh = _describe(site, rule.developer)
        return Layer("developer", None, None, False, en, zh, rule.developer_source,
                     ("not delivered to a buyer yet: the developer's warranty has not started",))
    # The 102号 minimum, the service life included, runs from delivery (rules page formula).
    span = _span(site, rule, "developer", site.delivered_on)
    ends_on, notes, source = span.ends_on, span.notes, span.source
    en, zh = _describe(site, span.period)
    if contractor.ends_on and (ends_on is None or contractor.ends_on > ends_on):
        # Order 88 Art. 33: never shorter than what remains of the contractor's period.
        ends_on, notes = contractor.ends_on, contractor.notes
        source = "《商品房销售管理办法》第三十三条：不得低于施工单位向建设单位出具的保修期的存续期"
        en, zh = "not shorter than the contractor's warranty", "不短于施工单位保修期"
    covered = ends_on is not None and site.delivered_on <= reported_on <= ends_on
    return Layer("developer", site.delivered_on, ends_on, covered, en, zh, source, notes)


def _liability(site: SiteFacts, category: CategoryFacts, cause: Cause, covered: bool,
               contractor: Layer, maker: Manufacturer | None
               ) -> tuple[LiableParty, str | None, bool, bool, bool]:
    """(liable party, its name, confirmed, delegate, chargeable)."""
    common = site.common_area is not None and site.unit is None
    if cause in (Cause.owner_misuse, Cause.owner_renovation):
        return LiableParty.owner, None, True, False, True  # Order 80 Art. 17
    if cause is Cause.third_party:
        return LiableParty.third_party, None, True, False, True
    if cause is Cause.force_majeure:  # the owners or their insurer: the fund is for wear
        return LiableParty.owner, None, True, False, True
    if cause is Cause.wear or not covered:
        payer = LiableParty.maintenance_fund if common else LiableParty.owner
        return payer, None, True, False, True
    confirmed = cause is not Cause.unknown
    if cause is Cause.design_defect:
        # Order 80 Art. 13: the contractor repairs, the developer pays and recovers.
        return LiableParty.developer, site.developer, True, True, False
    if maker:  # equipment still under its own warranty goes to its manufacturer
        return LiableParty.manufacturer, maker.name, confirmed, True, False
    if contractor.covered:
        specialist = site.subcontractors.get(category.trade)
        if specialist:
            return LiableParty.subcontractor, specialist, confirmed, True, False
        return LiableParty.general_contractor, site.general_contractor, confirmed, True, False
    return LiableParty.developer, site.developer, confirmed, True, False


_PARTY_ZH = {
    LiableParty.developer: "开发商", LiableParty.general_contractor: "总包单位",
    LiableParty.subcontractor: "专业分包单位", LiableParty.manufacturer: "设备厂家",
    LiableParty.owner: "业主", LiableParty.third_party: "第三方（如楼上住户）",
    LiableParty.maintenance_fund: "专项维修资金",
}
_PARTY_EN = {
    LiableParty.developer: "the developer", LiableParty.general_contractor:
    "the general contractor", LiableParty.subcontractor: "the specialty subcontractor",
    LiableParty.manufacturer: "the equipment manufacturer", LiableParty.owner: "the owner",
    LiableParty.third_party: "a third party (such as the flat upstairs)",
    LiableParty.maintenance_fund: "the special maintenance fund",
}


def _explain(site: SiteFacts, category: CategoryFacts, d: Decision) -> tuple[str, str]:
    place = site.unit or site.common_area or site.building
    en = [f"{category.name_en.capitalize()} at {site.project} {site.building} {place}, "
          f"reported on {d.reported_on}."]
    zh = [f"{site.project}项目{site.building}楼栋{place}的{category.name_zh}，报修日期{d.reported_on}。"]
    for layer, name_en, name_zh, start_en, start_zh in (
        (d.contractor, "Contractor's warranty", "施工单位保修期", "completion", "竣工"),
        (d.developer, "Developer's warranty to the buyer", "开发商对业主的保修期", "delivery",
         "交付"),
    ):
        if layer.starts_on is None:
            en.append(f"{name_en}: not started (not delivered yet).")
            zh.append(f"{name_zh}：尚未开始（尚未交付）。")
        elif layer.ends_on is None:
            en.append(f"{name_en}: no statutory period, and the contract sets none "
                      f"({layer.rule}).")
            zh.append(f"{name_zh}：法规未规定期限，合同亦未约定（{layer.rule}）。")
        else:
            state_en = "in force" if layer.covered else "ended"
            state_zh = "在保修期内" if layer.covered else "已过保修期"
            en.append(f"{name_en}: from {start_en} on {layer.starts_on}, {layer.period_en}, "
                      f"until {layer.ends_on}: {state_en} ({layer.rule}).")
            zh.append(f"{name_zh}：自{start_zh}日{layer.starts_on}起，{layer.period_zh}，"
                      f"至{layer.ends_on}止，{state_zh}（{layer.rule}）。")
    if d.liable_party is LiableParty.manufacturer:
        maker = next(m for m in site.manufacturers if m.name == d.liable_party_name)
        en.append(f"The equipment's own warranty from {maker.name} runs until "
                  f"{maker.warranty_ends_on}.")
        zh.append(f"设备厂家（{maker.name}）保修期至{maker.warranty_ends_on}，在保修期内。")
    who_en, who_zh = _PARTY_EN[d.liable_party], _PARTY_ZH[d.liable_party]
    if d.liable_party_name:
        who_en, who_zh = f"{who_en} ({d.liable_party_name})", f"{who_zh}（{d.liable_party_name}）"
    if d.cause is Cause.force_majeure:
        who_en, who_zh = (("the owners collectively or their insurer", "全体业主或其保险人")
                          if site.common_area and not site.unit
                          else ("the owner or their insurer", "业主或其保险人"))
    if not d.chargeable:
        en.append(f"Free repair under warranty; {who_en} is liable"
                  + (" and the repair is handed to them." if d.delegate else "."))
        zh.append(f"属于保修范围，免费维修，由{who_zh}负责" + ("，转交其维修。" if d.delegate else "。"))
        if not d.liability_confirmed:
            en.append("The cause is confirmed on site: damage from misuse, renovation or a third "
                      "party is not covered and would be charged.")
            zh.append("责任以现场查勘为准：如属使用不当、装修或第三方造成，不在保修范围内，需收费。")
    elif d.cause in (Cause.owner_misuse, Cause.owner_renovation, Cause.third_party,
                     Cause.force_majeure, Cause.wear):
        en.append(f"Not covered by the warranty ({d.cause.value.replace('_', ' ')}): "
                  f"{who_en} pays; we can repair at the cost of labour and materials.")
        zh.append(f"不属于保修范围（{_CAUSE_ZH[d.cause]}），费用由{who_zh}承担；可按工料费提供有偿维修。")
    elif d.contractor.ends_on is None and d.developer.ends_on is None:
        en.append("No warranty period is set for this category (by agreement, and none agreed): "
                  f"{who_en} pays; we can still repair at the cost of labour and materials.")
        zh.append(f"该类别的保修期由双方约定，但未约定保修期限，费用由{who_zh}承担；"
                  "仍可按工料费提供有偿维修。")
    else:
        en.append(f"The warranty has ended: {who_en} pays; we can still repair at the cost of "
                  "labour and materials.")
        zh.append(f"已过保修期，费用由{who_zh}承担；仍可按工料费提供有偿维修。")
    return " ".join(en), "".join(zh)


_CAUSE_ZH = {
    Cause.owner_misuse: "业主使用不当", Cause.owner_renovation: "业主自行装修造成",
    Cause.third_party: "第三方造成", Cause.force_majeure: "不可抗力", Cause.wear: "正常磨损老化",
}
