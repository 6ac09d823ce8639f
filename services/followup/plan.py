"""The annual quality-revisit plan of a project (年度工程质量回访计划, 000 §3).

From each building's delivery date and the end of each of its warranty categories:

- half-yearly: every delivered building, on the last day of each listed month (June and
  December); after the warranty too unless the policy says otherwise;
- quarterly, where the contract promises it: while the building is in warranty, on the
  last day of each quarter; it takes the place of a half-yearly revisit due the same day;
- seasonal: on the last day of the configured month before the rain and typhoon season,
  for roofs and walls, while one of those categories is in warranty;
- expiry notice: `lead_days` before a category ends, to every owner of the building, with
  a revisit (保修期满前的回访); never before delivery.

A building is in warranty on a day when a category with an end date has not yet ended
(`expires_on` is its last covered day); leave categories without an end (structure) out.
Nothing is planned before a building's delivery. Pure and deterministic: the plan is
sorted by date, building, kind and scope, whatever the order of the input.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.common.followup_policy import FollowupPolicy, RevisitMethod


class RevisitKind(StrEnum):
    half_yearly = "half_yearly"  # 每半年回访
    quarterly = "quarterly"  # 每三个月回访
    seasonal = "seasonal"  # 季节性回访
    expiry_notice = "expiry_notice"  # 保修期满前的回访


_ORDER = {kind: n for n, kind in enumerate(RevisitKind)}


@dataclass(frozen=True)
class BuildingFacts:
    building: str
    delivered_on: date
    warranties: tuple[tuple[str, date], ...] = ()  # (category code, last covered day)

    def in_warranty(self, day: date, categories: tuple[str, ...] | None = None) -> bool:
        """Whether a category (of `categories`, if given) still covers `day`."""
        return any(
            day <= ends for code, ends in self.warranties
            if categories is None or code in categories
        )


@dataclass(frozen=True)
class ProjectFacts:
    project: str
    buildings: tuple[BuildingFacts, ...]


@dataclass(frozen=True)
class PlannedRevisit:
    kind: RevisitKind
    due_on: date
    building: str
    scope: str
    method: RevisitMethod
    reason: str


def annual_plan(
    *, facts: ProjectFacts, policy: FollowupPolicy, year: int
) -> list[PlannedRevisit]:
    """Every planned revisit of the project due in `year`, sorted."""
    names = [b.building for b in facts.buildings]
    if len(set(names)) != len(names):
        raise ValueError("each building appears once in the project's facts")
    plan: set[PlannedRevisit] = set()
    for building in facts.buildings:
        plan.update(_building_plan(building, policy, year))
    return sorted(plan, key=lambda p: (p.due_on, p.building, _ORDER[p.kind], p.scope, p.reason))


def _building_plan(b: BuildingFacts, policy: FollowupPolicy, year: int) -> list[PlannedRevisit]:
    rules = policy.planned
    out: list[PlannedRevisit] = []
    quarterly_days: set[date] = set()
    if rules.quarterly.enabled:
        for day in _month_ends(year, rules.quarterly.months):
            if b.delivered_on <= day and b.in_warranty(day):
                quarterly_days.add(day)
                out.append(PlannedRevisit(
                    RevisitKind.quarterly, day, b.building, "whole building",
                    rules.quarterly.method,
                    "every three months during the warranty (002 篇5)",
                ))
    if rules.half_yearly.enabled:
        for day in _month_ends(year, rules.half_yearly.months):
            in_warranty = b.in_warranty(day)
            if b.delivered_on > day or day in quarterly_days:
                continue
            if not in_warranty and not rules.half_yearly.after_warranty:
                continue
            when = "during" if in_warranty else "after"
            out.append(PlannedRevisit(
                RevisitKind.half_yearly, day, b.building, "whole building",
                rules.half_yearly.method,
                f"every half year {when} the warranty (000 §3, 002 篇3 §二.2)",
            ))
    seasonal = rules.seasonal
    if seasonal.enabled:
        (day,) = _month_ends(year, (seasonal.month,))
        if b.delivered_on <= day and b.in_warranty(day, seasonal.categories):
            out.append(PlannedRevisit(
                RevisitKind.seasonal, day, b.building, ", ".join(seasonal.categories),
                seasonal.method,
                "roofs and walls before the rain and typhoon season (002 篇3 §二.1)",
            ))
    notice = rules.expiry_notice
    if notice.enabled:
        for code, ends in b.warranties:
            day = max(ends - timedelta(days=notice.lead_days), b.delivered_on)
            if day.year == year:
                out.append(PlannedRevisit(
                    RevisitKind.expiry_notice, day, b.building, f"{code}: every owner",
                    notice.method,
                    f"the {code} warranty ends on {ends.isoformat()}: tell every owner "
                    "and revisit before it does (002 篇3 §二.1)",
                ))
    return out


def _month_ends(year: int, months: tuple[int, ...]) -> list[date]:
    return [date(year, m, calendar.monthrange(year, m)[1]) for m in months]
