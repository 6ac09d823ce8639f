"""When each warranty category of a building ends (保修到期), for the follow-up service's
annual revisit plan: the contractor layer (施工单位保修期), counted from completion with the
same period rules as a determination (contract terms, the Civil Code's counting, seasons).
Pure: the registry's facts in, the dates out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.errors import Rejection
from services.warranty.determination import SiteFacts, completion_date, contractor_end
from services.warranty.rules import RULE_TABLES


@dataclass(frozen=True)
class Expiry:
    warranty_category: str
    period_kind: str
    ends_on: date | None  # None: as agreed by contract, or a season not configured
    notes: tuple[str, ...] = ()


def site_completion(site: SiteFacts) -> date | None:
    """The day the contractor's clock starts, or None while it is not known."""
    return completion_date(
        accepted=site.completion_accepted_on, reported=site.completion_reported_on,
        delayed=site.acceptance_delayed_by_developer, possession=site.possession_on)[0]


def contractor_expiries(site: SiteFacts) -> list[Expiry]:
    """Every warranty category of the site's rule table with its contractor-layer end,
    sorted by category; empty while the building's completion is not known."""
    completion = site_completion(site)
    if completion is None:
        return []
    expiries = []
    for code, rule in sorted(RULE_TABLES[site.jurisdiction].items()):
        try:
            kind, ends_on, notes = contractor_end(site, rule, completion)
        except Rejection as refusal:  # a heating or cooling season not configured
            kind = rule.contractor.kind
            ends_on, notes = None, (refusal.message_en,)
        expiries.append(Expiry(code, kind.value, ends_on, tuple(notes)))
    return expiries


def first_handover(common_areas_on: date | None, units_on: list[date | None]) -> date | None:
    """When the building was first handed over: its common parts or its first unit."""
    days = [d for d in (common_areas_on, *units_on) if d is not None]
    return min(days, default=None)
