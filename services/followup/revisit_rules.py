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
"""

from __future__ import annotations

from datetime import date, datetime

from services.common.registry_contracts import WarrantyExpiries
from services.followup.plan import BuildingFacts, ProjectFacts
from services.followup.visits import add_months

NO_EXPIRY_NOTICE = frozenset({"service_life", "agreement"})


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
