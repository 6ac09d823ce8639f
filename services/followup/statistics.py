"""The quarterly count of return visits and repeated defects (走访回访统计, 002 篇1 §4.7).

The rules, for a period (a quarter by default) counted at `as_of` (by default: with
everything recorded, as if every window had closed):

- A job belongs to the period it was served in (`served_at`: the repair completed, the
  complaint handled), the same quarter key as the sampler's counts (handlers._decide), so
  a quarter in which the sampler chose enough jobs shows its rate met once the chosen
  visits are made on time, even those made in the next quarter. `eligible` counts every
  such job, `due` those chosen for a visit (or visited anyway). A visit counts as done
  only if made before `as_of`; done on time when made inside its window, early before it
  opens, late at or after it closes. An undone visit is `overdue` once its window has
  closed by `as_of`, otherwise `pending`. So due = done + not done, done = on time +
  early + late done, not done = overdue + pending, late = late done + overdue.
- The rate is on-time visits over eligible jobs: a visit outside its window does not count
  (在限定时效内进行回访, 002 篇1 §4.4). It is met when at or over the kind's rate and, with
  `in_unit_repairs_all`, no in-unit repair missed its visit. No jobs: no rate, met.
- A visit failed (回访不合格) when the owner said so (`failed`) or rated it at or under
  `unsatisfied_at_most` on the 1-5 scale (2 by default: 3 is neutral, not a failure).
- Repeats are counted over `lookback_months` up to the period's end and reported when one
  of their occurrences falls in the period: the same complaint subject from the same unit
  `same_complaint` times (to the manager), the same defect category repaired at the same
  place (a unit, or a common area of a building: a lift) `same_repair` times (a
  corrective action for the technical department, due `corrective_days` after
  detection), the same category repaired in `building_units` distinct units of a building
  or `project_units` of a project (a flag for the developer).
- Complaint responses (004 紧急维修制度 §8.2): the complaints opened in the period, handled
  on time (before `respond_by`), handled late, and not handled: overdue once `respond_by`
  has passed by `as_of`, otherwise pending.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import TypeVar
from zoneinfo import ZoneInfo

from services.common.followup_policy import FollowupPolicy, FollowupRole, VisitKind
from services.followup.visits import add_months

R = TypeVar("R")


@dataclass(frozen=True)
class Period:
    """From `start` up to, not including, `end`."""

    start: datetime
    end: datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end

    @property
    def quarter_label(self) -> str:
        """`2026Q3` for a quarter (see `quarter`): the key of its sampling counts."""
        return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class VisitRecord:
    """One job that calls for a return visit, with the visit if there was one."""

    id: str
    kind: VisitKind
    unit: str
    served_at: datetime  # the repair completed, the complaint handled (the window's start)
    opens_at: datetime
    closes_at: datetime
    selected: bool = True  # chosen for a visit (see visits.should_visit)
    done_at: datetime | None = None
    satisfaction: int | None = None  # 1 (very unsatisfied) to 5 (very satisfied)
    failed: bool = False  # the owner was not satisfied (不满意), whatever the score
    in_unit: bool = False  # work inside an owner's unit (涉及业户)
    category: str | None = None
    subject: str | None = None  # what a complaint was about, as a code: equal means same
    building: str | None = None  # with `unit` "" : a common area of this building


@dataclass(frozen=True)
class RepairRecord:
    id: str
    project: str
    building: str
    unit: str | None  # None: a common area of the building
    category: str
    completed_at: datetime
    common_area: str | None = None

    @property
    def place(self) -> tuple[str, str | None, str | None]:
        """Where it was: a unit, or a common area of a building (one lift, one lobby)."""
        return (self.building, self.unit, None if self.unit is not None else self.common_area)


@dataclass(frozen=True)
class ComplaintRecord:
    """A complaint and its response deadline (投诉24小时内回应)."""

    id: str
    opened_at: datetime
    respond_by: datetime
    handled_at: datetime | None = None


@dataclass(frozen=True)
class ComplaintResponses:
    """The period's complaints: answered on time or late, or not yet."""

    opened: int
    handled: int
    on_time: int
    late_handled: int
    overdue: int
    pending: int
    late_ids: tuple[str, ...]  # handled late or overdue

    @property
    def late(self) -> int:
        return self.late_handled + self.overdue


@dataclass(frozen=True)
class KindStatistics:
    kind: VisitKind
    eligible: int
    due: int
    done: int
    on_time: int
    early: int
    late_done: int
    overdue: int
    pending: int
    failed: int
    in_unit_missed: int
    rate: float | None  # on time / eligible
    target: float
    met: bool

    @property
    def not_done(self) -> int:
        return self.due - self.done

    @property
    def late(self) -> int:
        return self.late_done + self.overdue


@dataclass(frozen=True)
class RepeatedComplaint:
    """连续就同一事项投诉: goes to the manager for non-conformity control."""

    unit: str
    subject: str
    visit_ids: tuple[str, ...]
    owner: FollowupRole = FollowupRole.manager
    building: str | None = None


@dataclass(frozen=True)
class CorrectiveAction:
    """纠正预防措施 proposed for a defect repaired again and again at one place: a unit, or
    a common area of a building (`unit` None)."""

    project: str
    building: str
    unit: str | None
    category: str
    repair_ids: tuple[str, ...]
    detected_on: date
    due_on: date
    owner: FollowupRole = FollowupRole.technical_department
    common_area: str | None = None


@dataclass(frozen=True)
class DeveloperFlag:
    """A defect category repeating across a building (or a whole project when `building`
    is None): likely a construction defect, for the developer."""

    project: str
    building: str | None
    category: str
    units: tuple[str, ...]
    repair_ids: tuple[str, ...]
    owner: FollowupRole = FollowupRole.developer


@dataclass(frozen=True)
class FollowupReport:
    period: Period
    kinds: tuple[KindStatistics, ...]
    failed_visits: tuple[str, ...]
    repeated_complaints: tuple[RepeatedComplaint, ...]
    corrective_actions: tuple[CorrectiveAction, ...]
    developer_flags: tuple[DeveloperFlag, ...]
    complaint_responses: ComplaintResponses


@dataclass(frozen=True)
class Archive:
    archive_by: date  # the records go to the office by this day (交管理处存档)
    keep_until: date


def quarter(year: int, number: int, *, time_zone: str) -> Period:
    """The `number`-th quarter (1-4) of `year`, midnight to midnight in the project's zone."""
    if not 1 <= number <= 4:
        raise ValueError("a quarter is numbered 1 to 4")
    first = date(year, 3 * number - 2, 1)
    zone = ZoneInfo(time_zone)
    return Period(_midnight(first, zone), _midnight(add_months(first, 3), zone))


def quarter_of(moment: datetime, *, time_zone: str) -> Period:
    """The quarter a moment falls in, in the project's zone."""
    local = _local(moment, time_zone, "moment")
    return quarter(local.year, (local.month - 1) // 3 + 1, time_zone=time_zone)


def archive_dates(done_at: datetime, policy: FollowupPolicy, *, time_zone: str) -> Archive:
    """When a visit record is archived (the given day of the next quarter) and kept until."""
    next_quarter = quarter_of(done_at, time_zone=time_zone).end.date()
    archive_by = next_quarter.replace(day=policy.retention.archive_by_day)
    return Archive(archive_by, add_months(archive_by, 12 * policy.retention.years))


def is_failed(visit: VisitRecord, policy: FollowupPolicy) -> bool:
    """回访不合格: a visit made whose owner was not satisfied."""
    if visit.done_at is None:
        return False
    low = visit.satisfaction is not None and (
        visit.satisfaction <= policy.repeats.unsatisfied_at_most
    )
    return visit.failed or low


def kind_statistics(
    *,
    visits: Iterable[VisitRecord],
    kind: VisitKind,
    period: Period,
    policy: FollowupPolicy,
    as_of: datetime | None = None,
) -> KindStatistics:
    """Due, done, late and the rate against the target for one kind of visit, over the
    jobs served in the period (the sampler's quarter)."""
    cutoff = as_of

    def done(v: VisitRecord) -> bool:
        return v.done_at is not None and (cutoff is None or v.done_at < cutoff)

    def closed(v: VisitRecord) -> bool:
        return cutoff is None or v.closes_at <= cutoff

    def on_time(v: VisitRecord) -> bool:
        return v.done_at is not None and done(v) and v.opens_at <= v.done_at < v.closes_at

    def early(v: VisitRecord) -> bool:
        return v.done_at is not None and done(v) and v.done_at < v.opens_at

    eligible = [v for v in visits if v.kind == kind and v.served_at in period]
    due = [v for v in eligible if v.selected or done(v)]
    made = [v for v in due if done(v)]
    undone = [v for v in due if not done(v)]
    timely = [v for v in made if on_time(v)]
    overdue = [v for v in undone if closed(v)]
    in_unit_missed = 0
    if kind == VisitKind.repair and policy.rates.in_unit_repairs_all:
        # Missed: visited outside the window, or the window closed without one; a window
        # still open at `as_of` is not missed yet.
        in_unit_missed = sum(
            1 for v in eligible
            if v.in_unit and not on_time(v) and (done(v) or closed(v))
        )
    target = policy.rates.of(kind)
    exact = Fraction(len(timely), len(eligible)) if eligible else None
    return KindStatistics(
        kind=kind,
        eligible=len(eligible),
        due=len(due),
        done=len(made),
        on_time=len(timely),
        early=sum(1 for v in made if early(v)),
        late_done=sum(1 for v in made if not on_time(v) and not early(v)),
        overdue=len(overdue),
        pending=len(undone) - len(overdue),
        failed=sum(1 for v in made if is_failed(v, policy)),
        in_unit_missed=in_unit_missed,
        rate=None if exact is None else float(exact),
        target=target,
        met=(exact is None or exact >= Fraction(str(target))) and in_unit_missed == 0,
    )


def repeated_complaints(
    *,
    visits: Iterable[VisitRecord],
    period: Period,
    policy: FollowupPolicy,
    time_zone: str,
    as_of: datetime | None = None,
) -> tuple[RepeatedComplaint, ...]:
    """The same subject complained of from the same place (a unit; for common areas, the
    building) `same_complaint` times or more."""
    complaints = [v for v in visits if v.kind == VisitKind.complaint and v.subject is not None]
    groups = _repeats(
        complaints,
        # A unit is a place of its own; a common area is its building's.
        key=lambda v: (None if v.unit else v.building, v.unit, v.subject),
        when=lambda v: v.served_at,
        period=period,
        policy=policy,
        time_zone=time_zone,
        as_of=as_of,
    )
    return tuple(
        RepeatedComplaint(unit, subject, tuple(v.id for v in group), building=building)
        for (building, unit, subject), group in groups
        if len(group) >= policy.repeats.same_complaint
    )


def corrective_actions(
    *,
    repairs: Iterable[RepairRecord],
    period: Period,
    policy: FollowupPolicy,
    time_zone: str,
    as_of: datetime | None = None,
) -> tuple[CorrectiveAction, ...]:
    """The same category repaired at the same place (a unit, or a common area of a
    building) `same_repair` times or more."""
    end = period.end if as_of is None else min(period.end, as_of)
    detected = _local(end, time_zone, "as_of").date()
    due = detected + timedelta(days=policy.repeats.corrective_days)
    groups = _repeats(
        list(repairs),
        key=lambda r: (r.project, *r.place, r.category),
        when=lambda r: r.completed_at,
        period=period,
        policy=policy,
        time_zone=time_zone,
        as_of=as_of,
    )
    return tuple(
        CorrectiveAction(project=project, building=building, unit=unit, category=category,
                         repair_ids=tuple(r.id for r in group), detected_on=detected,
                         due_on=due, common_area=common_area)
        for (project, building, unit, common_area, category), group in groups
        if len(group) >= policy.repeats.same_repair
    )


def complaint_responses(
    *, complaints: Iterable[ComplaintRecord], period: Period, as_of: datetime | None = None
) -> ComplaintResponses:
    """The complaints opened in the period against their response deadline."""
    opened = [c for c in complaints if c.opened_at in period]
    handled = [c for c in opened
               if c.handled_at is not None and (as_of is None or c.handled_at < as_of)]
    on_time = [c for c in handled if c.handled_at is not None and c.handled_at < c.respond_by]
    late_handled = [c for c in handled if c not in on_time]
    waiting = [c for c in opened if c not in handled]
    overdue = [c for c in waiting if as_of is None or c.respond_by <= as_of]
    return ComplaintResponses(
        opened=len(opened), handled=len(handled), on_time=len(on_time),
        late_handled=len(late_handled), overdue=len(overdue),
        pending=len(waiting) - len(overdue),
        late_ids=tuple(sorted(c.id for c in late_handled + overdue)))


def developer_flags(
    *,
    repairs: Iterable[RepairRecord],
    period: Period,
    policy: FollowupPolicy,
    time_zone: str,
    as_of: datetime | None = None,
) -> tuple[DeveloperFlag, ...]:
    """A category repaired in many distinct units of one building, or of one project
    (common areas are not units: they count in the corrective actions only)."""
    repairs = [r for r in repairs if r.unit is not None]
    flags: list[DeveloperFlag] = []
    levels = (
        (lambda r: (r.project, r.building, r.category), policy.repeats.building_units),
        (lambda r: (r.project, None, r.category), policy.repeats.project_units),
    )
    for key, threshold in levels:
        for (project, building, category), group in _repeats(
            repairs, key=key, when=lambda r: r.completed_at, period=period,
            policy=policy, time_zone=time_zone, as_of=as_of,
        ):
            units = tuple(sorted({r.unit for r in group if r.unit is not None}))
            if len(units) >= threshold:
                ids = tuple(r.id for r in group)
                flags.append(DeveloperFlag(project, building, category, units, ids))
    return tuple(flags)


def followup_report(
    *,
    visits: Sequence[VisitRecord],
    repairs: Sequence[RepairRecord],
    period: Period,
    policy: FollowupPolicy,
    time_zone: str,
    as_of: datetime | None = None,
    complaints: Sequence[ComplaintRecord] = (),
) -> FollowupReport:
    """Everything the center counts at the end of a quarter (季度末统计分析)."""
    failed = sorted(
        v.id for v in visits
        if v.served_at in period and v.done_at is not None
        and (as_of is None or v.done_at < as_of) and is_failed(v, policy)
    )
    return FollowupReport(
        period=period,
        kinds=tuple(
            kind_statistics(visits=visits, kind=kind, period=period, policy=policy, as_of=as_of)
            for kind in VisitKind
        ),
        failed_visits=tuple(failed),
        repeated_complaints=repeated_complaints(
            visits=visits, period=period, policy=policy, time_zone=time_zone, as_of=as_of
        ),
        corrective_actions=corrective_actions(
            repairs=repairs, period=period, policy=policy, time_zone=time_zone, as_of=as_of
        ),
        developer_flags=developer_flags(
            repairs=repairs, period=period, policy=policy, time_zone=time_zone, as_of=as_of
        ),
        complaint_responses=complaint_responses(
            complaints=complaints, period=period, as_of=as_of
        ),
    )


def _repeats(
    records: Iterable[R],
    *,
    key: Callable[[R], tuple],
    when: Callable[[R], datetime],
    period: Period,
    policy: FollowupPolicy,
    time_zone: str,
    as_of: datetime | None,
) -> list[tuple[tuple, list[R]]]:
    """Records of the look-back grouped by `key`, oldest first, keeping the groups with an
    occurrence in the period; sorted by key."""
    end = period.end if as_of is None else min(period.end, as_of)
    end_day = _local(period.end, time_zone, "period.end").date()
    since = _midnight(add_months(end_day, -policy.repeats.lookback_months), ZoneInfo(time_zone))
    groups: dict[tuple, list[R]] = defaultdict(list)
    for record in records:
        if since <= _aware(when(record)) < end:
            groups[key(record)].append(record)
    return [
        (k, sorted(group, key=lambda r: (when(r), getattr(r, "id", ""))))
        for k, group in sorted(groups.items(), key=lambda item: _sort_key(item[0]))
        if any(when(r) in period for r in group)
    ]


def _sort_key(key: tuple) -> tuple:
    # None (the project-wide flag) sorts before any building name.
    return tuple((part is not None, part or "") for part in key)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("record moments must carry a time zone")
    return moment


def _local(moment: datetime, time_zone: str, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone")
    return moment.astimezone(ZoneInfo(time_zone))
