"""A year of follow-up history for a demo project (演示数据): closed repairs, the return
visits the sampler chose with their results (most on time, a few late or unsatisfied),
the complaints those opened, and corrective actions where a unit had the same repair
three times. Generated with a fixed seed through the same rules the service applies, so
the center's lists and the quarter's statistics have something true to show."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.followup_policy import DEFAULT_POLICY, FollowupPolicy, VisitKind
from services.followup import models, repository
from services.followup.statistics import RepairRecord, corrective_actions, quarter_of
from services.followup.visits import complaint_deadlines, should_visit, visit_window

# Categories a residential project sees most, in rough proportion.
CATEGORIES = ("LK-WET", "LK-WET", "PIPE-BLK", "PIPE-BLK", "SAN-WARE", "EL-FIX", "EL-FIX",
              "DW-DEF", "CRK-WALL", "TILE-HOL", "LK-WIN", "LK-PIPE")
# Planted repeats: the same unit and category three times in the last quarter.
REPEATED = (("1", "1-502", "LK-WET"), ("2", "2-301", "PIPE-BLK"))


@dataclass(frozen=True)
class Place:
    building: str
    unit: str | None
    common_area: str | None = None


@dataclass
class History:
    repairs: list[models.FollowedRepair] = field(default_factory=list)
    visits: list[models.ReturnVisit] = field(default_factory=list)
    complaints: list[models.Complaint] = field(default_factory=list)
    actions: list[models.CorrectiveAction] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # (kind, period) → (seen, selected)


def generate(*, project: str, places: list[Place], now: datetime, time_zone: str,
             policy: FollowupPolicy = DEFAULT_POLICY, per_week: int = 2, seed: int = 7
             ) -> History:
    """A year of closed repairs up to `now` and everything follow-up made of them."""
    rng = random.Random(seed)
    zone = ZoneInfo(time_zone)
    local_now = now.astimezone(zone)
    closings: list[tuple[datetime, Place, str]] = []
    for week in range(52, 0, -1):
        for _ in range(per_week):
            day = local_now.date() - timedelta(weeks=week, days=rng.randrange(7))
            moment = datetime.combine(day, time(rng.randrange(9, 17), rng.randrange(60)),
                                      zone)
            closings.append((moment, rng.choice(places), rng.choice(CATEGORIES)))
    for n, (building, unit, category) in enumerate(REPEATED):
        for k in range(3):
            moment = local_now - timedelta(days=70 - 25 * k - n, hours=3)
            closings.append((moment, Place(building, unit), category))
    closings.sort(key=lambda c: c[0])

    history = History()
    seen: Counter = Counter()
    selected: Counter = Counter()
    for closed_at, place, category in closings:
        repair_id = str(uuid.UUID(int=rng.getrandbits(128)))
        history.repairs.append(models.FollowedRepair(
            repair_id=repair_id, ticket=f"{project}-D{len(history.repairs) + 1:05d}",
            project=project, building=place.building, unit=place.unit,
            common_area=place.common_area, category=category,
            reported_at=closed_at - timedelta(days=rng.randrange(1, 6)), closed_at=closed_at))
        key = (VisitKind.repair.value, quarter_of(closed_at, time_zone=time_zone).quarter_label)
        chosen = should_visit(kind=VisitKind.repair, selected=selected[key], seen=seen[key],
                              policy=policy, in_unit=place.unit is not None)
        seen[key] += 1
        selected[key] += int(chosen)
        window = visit_window(kind=VisitKind.repair, done_at=closed_at, policy=policy,
                              time_zone=time_zone)
        visit = models.ReturnVisit(
            id=f"repair-{repair_id}", kind="repair", project=project,
            building=place.building, unit=place.unit, category=category, subject=None,
            repair_id=repair_id, complaint_id=None, served_at=closed_at,
            opens_at=window.opens_at, closes_at=window.closes_at,
            status="due" if chosen else "not_selected",
            selected_by=f"rate {policy.rates.repair:g}", in_unit=place.unit is not None,
            assignee_role="customer_specialist",
            assignee=rng.choice(policy.specialists) if chosen and policy.specialists else None,
            escalations=[], result=None)
        history.visits.append(visit)
        if chosen and window.opens_at < now:
            _visit(history, visit, rng, now, policy)
    for key in seen:
        history.counts[key] = (seen[key], selected[key])
    history.actions = _actions(history, now, time_zone, policy)
    return history


def _visit(history: History, visit: models.ReturnVisit, rng: random.Random, now: datetime,
           policy: FollowupPolicy) -> None:
    """Most visits made on time, a few late, some not yet (still in their window)."""
    span = (visit.closes_at - visit.opens_at).total_seconds()
    roll = rng.random()
    if roll < 0.85:
        at = visit.opens_at + timedelta(seconds=rng.uniform(0.05, 0.9) * span)
    elif roll < 0.92:
        at = visit.closes_at + timedelta(days=rng.randrange(1, 6))  # made late
    else:
        return  # not made: overdue, or still to make
    if at >= now:
        return
    satisfaction = rng.choices((5, 4, 3, 2, 1), weights=(55, 28, 10, 5, 2))[0]
    satisfied = satisfaction >= 3
    visit.status, visit.done_at = "done", at
    if at >= visit.closes_at:
        visit.late_at = visit.closes_at
    visit.result = {
        "method": rng.choice(("phone", "phone", "visit", "online")), "quality": satisfaction,
        "effect": satisfaction, "satisfaction": satisfaction, "satisfied": satisfied,
        "shortcomings": None if satisfied else "维修后仍有问题",
        "suggestions": rng.choice((None, None, "希望提前电话预约")),
        "owner_confirmed": True, "by": visit.assignee or "客服中心",
        "at": at.isoformat(), "defect_found": None, "new_repair_id": None}
    if satisfaction <= policy.repeats.unsatisfied_at_most or not satisfied:
        # Most answered within the day, now and then one late (past its 24 hours).
        respond_by = complaint_deadlines(at, policy).respond_by
        handled_at = at + timedelta(hours=rng.choice((3, 6, 20, 30)))
        history.complaints.append(models.Complaint(
            id=f"visit-{visit.id}", project=visit.project, building=visit.building,
            unit=visit.unit, subject=visit.category or "repair", detail="维修后仍有问题",
            major=satisfaction == 1, source_visit_id=visit.id, opened_at=at,
            respond_by=respond_by, assignee_role="manager",
            late_at=respond_by if handled_at >= respond_by else None, escalations=[],
            handled_at=handled_at, handled_by="经理 孙强", outcome="返修并回访"))


def _actions(history: History, now: datetime, time_zone: str, policy: FollowupPolicy
             ) -> list[models.CorrectiveAction]:
    """One corrective action per place (a unit or a common area) and category that
    repeated, as the live rule opens."""
    records = [RepairRecord(r.repair_id, r.project, r.building, r.unit, r.category,
                            r.closed_at, r.common_area)
               for r in history.repairs if r.closed_at is not None]
    found: dict[tuple, models.CorrectiveAction] = {}
    period = quarter_of(now, time_zone=time_zone)
    for action in corrective_actions(repairs=records, period=period, policy=policy,
                                     time_zone=time_zone, as_of=now):
        key = (action.project, action.building, action.unit, action.common_area,
               action.category)
        place = action.unit if action.unit is not None else \
            f"{action.building}:{action.common_area}"
        found.setdefault(key, models.CorrectiveAction(
            id=f"{action.project}/{place}/{action.category}/{action.detected_on.isoformat()}",
            project=action.project, building=action.building, unit=action.unit,
            common_area=action.common_area, category=action.category,
            repair_ids=list(action.repair_ids),
            owner="technical_department", detected_on=action.detected_on,
            due_on=action.due_on))
    return list(found.values())


async def load(session: AsyncSession, history: History, project: str) -> None:
    """Store a generated history (in one transaction, which the caller owns)."""
    for repair in history.repairs:
        await repository.remember_repair(session=session, repair=repair)
    for visit in history.visits:
        await repository.add_visit(session=session, visit=visit)
    for complaint in history.complaints:
        await repository.add_complaint(session=session, complaint=complaint)
    for (kind, period), (seen, chosen) in history.counts.items():
        count = await repository.count_for_sampling(session=session, project=project,
                                                    kind=kind, period=period)
        count.seen, count.selected = count.seen + seen, count.selected + chosen
    session.add_all(history.actions)

