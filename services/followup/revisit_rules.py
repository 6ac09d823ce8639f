"""Pure rules around the annual revisit plan: the registry's answer turned into the plan's
facts, when a warranty certificate is due, and when a record is old enough to archive.

- Plan facts: a building not yet handed over has no revisits (it is left out); a category
  counts while its contractor-layer period has a known end, except the main structure's
  design service life (decades: no expiry notice is planned for it).
- Certificates (保修证书/维修卡): due within one month of completion (竣工一个月内,
  002 篇4 §3; domain.md: "within one month of completion"): one calendar month after the
  building's completion acceptance, clamped to the month's end (completed 31 January: due
  28/29 February). When the registry does not know the completion, one month after the
  unit's delivery (completion comes before delivery, so never earlier than the rule).
- Retention (存档): a record is archived once its moment (a visit made, a revisit made, a
  complaint handled) is `years` calendar years or more before `as_of`.
- Findings (发现问题15日内解决, 002 篇5): each repair a revisit found is due `days` after
  the revisit's day, in the project's zone. It is solved when its work is completed (the
  latest completion): `solved` on or before the due day, `solved_late` after; not solved,
  it is `overdue` once the due day has passed by `as_of`, else `open`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

from services.common.followup_contracts import FindingState, RevisitFindingsRow
from services.common.registry_contracts import WarrantyExpiries
from services.followup.plan import BuildingFacts, ProjectFacts
from services.followup.visits import add_months

NO_EXPIRY_NOTICE = frozenset({"service_life", "agreement"})
FINDING_STATES: tuple[FindingState, ...] = get_args(FindingState)


@dataclass(frozen=True)
class Finding:
    """A repair a revisit found, its due day and when its work was completed."""

    repair_id: str
    due_on: date
    solved_at: datetime | None
    state: FindingState


def project_facts(expiries: WarrantyExpiries) -> ProjectFacts:
    """The plan's facts from `warranty.registry.expiries`."""
    return ProjectFacts(expiries.project, tuple(
        BuildingFacts(b.building, b.delivered_on, tuple(
            (c.warranty_category, c.ends_on) for c in b.categories
            if c.ends_on is not None and c.period_kind not in NO_EXPIRY_NOTICE))
        for b in expiries.buildings if b.delivered_on is not None))


def certificate_due_on(completion_on: date | None, delivered_on: date) -> date:
    """The last day to hand the owner the certificate and the repair card."""
    return add_months(completion_on if completion_on is not None else delivered_on, 1)


def retention_cutoff(as_of: datetime, years: int) -> datetime:
    """Records from before this moment are past retention: `as_of` less `years` calendar
    years (29 February → 28 February), at the same wall-clock time and offset."""
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must carry a time zone")
    if years < 1:
        raise ValueError("retention is at least a year")
    return datetime.combine(add_months(as_of.date(), -12 * years), as_of.timetz())


def finding(repair_id: str, *, found_at: datetime, solved_at: datetime | None, days: int,
            as_of: datetime, time_zone: str) -> Finding:
    """A revisit's finding and its state as of `as_of`."""
    zone = ZoneInfo(time_zone)
    due_on = found_at.astimezone(zone).date() + timedelta(days=days)
    if solved_at is not None:
        state: FindingState = ("solved" if solved_at.astimezone(zone).date() <= due_on
                               else "solved_late")
    else:
        state = "overdue" if as_of.astimezone(zone).date() > due_on else "open"
    return Finding(repair_id, due_on, solved_at, state)


def count_findings(findings: Iterable[Finding]) -> RevisitFindingsRow:
    """The findings counted by state, with their repair ids (sorted)."""
    ids: dict[str, list[str]] = {state: [] for state in FINDING_STATES}
    for one in findings:
        ids[one.state].append(one.repair_id)
    return RevisitFindingsRow(
        found=sum(len(found) for found in ids.values()),
        **{state: len(found) for state, found in ids.items()},
        **{f"{state}_ids": sorted(found) for state, found in ids.items()})
