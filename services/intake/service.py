"""Taking a report (报修受理): the repair row and its outbox entries, in the caller's
transaction. Nothing here commits or talks to other servers."""

from __future__ import annotations

import calendar
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.business_calendar import STATUTORY, WorkCalendar
from services.common.contracts import RepairReported, ReportLocated
from services.common.errors import Rejection
from services.common.service_levels import DEFAULT_POLICY, ServiceLevelPolicy, Target
from services.intake import repository
from services.intake.models import OutboxEntry, Repair, RepairCall
from services.intake.schemas import ReportRepair
from workflows.deadlines import service_deadlines
from workflows.repair.messages import (
    Guarantee,
    LifecyclePolicy,
    RepairInput,
    Status,
    workflow_id,
)

MAX_PLANNED_AHEAD = timedelta(days=366)
START_WORKFLOW = "start_workflow"
PUBLISH_REPORTED = "publish_reported"
RAISE_PRIORITY = "raise_priority"


def calendar_of(located: ReportLocated) -> WorkCalendar:
    """The project's business calendar: the statutory one with the project's exceptions."""
    return WorkCalendar(frozenset(located.extra_days_off),
                        frozenset(located.extra_working_days))


def priority_of(command: ReportRepair, located: ReportLocated) -> str:
    """An emergency when the caller says so or the category is one by itself (004); else
    the center's classification, routine by default."""
    if command.emergency or located.always_emergency:
        return "emergency"
    return command.priority or "routine"


async def record_report(
    *, session: AsyncSession, command: ReportRepair, located: ReportLocated, received_at: datetime
) -> Repair:
    """Store a new repair with what must follow it: its workflow and its event."""
    repair_id = str(uuid.uuid4())
    priority = priority_of(command, located)
    reported_at = command.reported_at or received_at
    policy = await repository.service_levels(session=session, project=located.project)
    # The clock starts when the center received the call (a late-keyed report is not given
    # extra time, and a report typed in before the call time is not given less).
    # A planned repair's visit is agreed at the report: it is the arrival deadline.
    agreed = command.preferred_visit_at if priority == "planned" else None
    if priority == "planned" and agreed is None:
        raise Rejection("visit_required", "A planned repair needs its agreed visit time.",
                        "计划性维修须填写预约上门时间。", "preferred_visit_at")
    if agreed is not None and agreed <= min(reported_at, received_at):
        raise Rejection("visit_in_the_past", "A planned repair's visit must come after the "
                        "report.", "计划性维修的预约时间须晚于报修时间。", "preferred_visit_at")
    if agreed is not None and agreed > received_at + MAX_PLANNED_AHEAD:
        raise Rejection("visit_too_far", "A planned repair's visit must be within a year.",
                        "计划性维修的预约时间须在一年之内。", "preferred_visit_at")
    deadlines = service_deadlines(
        policy=policy, calendar=calendar_of(located), priority=priority,
        received_at=min(reported_at, received_at), time_zone=located.time_zone,
        agreed_visit_at=agreed,
    )
    arrive = deadlines.arrive_by
    if arrive is None:  # refused when the policy is stored; an older document may lack it
        arrive = service_deadlines(
            policy=DEFAULT_POLICY, calendar=calendar_of(located), priority=priority,
            received_at=min(reported_at, received_at), time_zone=located.time_zone,
        ).arrive_by
        assert arrive is not None
    number = await repository.next_ticket_number(session=session, project=located.project)
    repair = Repair(
        id=repair_id,
        ticket=f"{located.project}-{number:06d}",
        project=located.project,
        building=located.building,
        unit=located.unit,
        common_area=located.common_area,
        category=located.category,
        channel=command.channel.value,
        priority=priority,
        emergency=priority == "emergency",
        reporter_name=command.reporter.name,
        reporter_phone=command.reporter.phone,
        description=command.description,
        time_zone=located.time_zone,
        reported_at=reported_at,
        received_at=received_at,
        preferred_visit_at=command.preferred_visit_at,
        arrive_by=arrive.due_at,
        arrive_rule=arrive.rule,
        finish_by=deadlines.finish_by.due_at if deadlines.finish_by else None,
        finish_rule=deadlines.finish_by.rule if deadlines.finish_by else None,
        respond_by=deadlines.respond_by.due_at if deadlines.respond_by else None,
        respond_rule=deadlines.respond_by.rule if deadlines.respond_by else None,
        trade=located.trade,
        status="reported",
        workflow_id=workflow_id(repair_id),
        guarantee=await _guarantee(session, located, policy,
                                   reported_at=min(reported_at, received_at)),
    )
    session.add(repair)
    # What must follow the commit; the relay rebuilds both from the row (see outbox.py), and
    # the workflow gets the project's policy as it was when the report came in.
    lifecycle = asdict(lifecycle_policy(policy, priority=priority,
                                        calendar=calendar_of(located)))
    # The event first: the workflow's own events then always follow it on the stream, so
    # webhooks and followers see `reported` before `offered` (the relay keeps this order).
    session.add_all([
        OutboxEntry(repair_id=repair.id, kind=PUBLISH_REPORTED, payload={}),
        OutboxEntry(repair_id=repair.id, kind=START_WORKFLOW, payload={"policy": lifecycle}),
    ])
    await session.flush()
    return repair


async def _guarantee(session: AsyncSession, located: ReportLocated,
                     policy: ServiceLevelPolicy, *, reported_at: datetime) -> dict | None:
    """The earlier repair whose guarantee (维修质保, 004 紧急维修制度 §7) covers this report:
    the same place and category, accepted by the owner within the project's months (to the
    end of the corresponding day, in the project's zone)."""
    months = policy.repair_guarantee.months
    if months == 0:
        return None
    last = await repository.last_accepted_repair(
        session=session, project=located.project, building=located.building,
        unit=located.unit, common_area=located.common_area, category=located.category)
    if last is None:
        return None
    earlier, accepted_at = last
    zone = ZoneInfo(located.time_zone)
    accepted_at = accepted_at.astimezone(zone)
    last_day = months_after(accepted_at.date(), months)
    ends_at = datetime.combine(last_day + timedelta(days=1), time(), zone)
    if reported_at >= ends_at:
        return None
    return {"repair_id": earlier.id, "ticket": earlier.ticket,
            "accepted_at": accepted_at.isoformat(), "ends_at": ends_at.isoformat()}


def months_after(day: date, months: int) -> date:
    """The corresponding day `months` later, or that month's last day if it has none."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _span_seconds(target: Target | None, fallback: int | None = None, *,
                  within_hours: bool = True) -> int | None:
    """A target's span in seconds (0: at once); `fallback` without one, or for a target
    in working days."""
    span = target.span(within_hours=within_hours) if target is not None else None
    return int(span.total_seconds()) if span is not None else fallback


def lifecycle_policy(policy: ServiceLevelPolicy, *, priority: str = "routine",
                     calendar: WorkCalendar = STATUTORY) -> LifecyclePolicy:
    """What the workflow needs of a project's service levels, in seconds. The arrival spans
    are a rework's new visit: the repair's priority (routine's for an emergency's ordinary
    span) and the emergency target. A target without a span (none, or working days) keeps
    the workflow's default; working days of an approval count as whole days (the workflow
    takes seconds)."""
    default = LifecyclePolicy()
    ordinary = policy.targets.of("routine" if priority == "emergency" else priority).arrive
    approve = policy.fee_waiver.approve
    return LifecyclePolicy(
        offer_seconds=policy.dispatching.offer_minutes * 60,
        rework_limit=policy.rework.limit,
        escalation_chain=[role.value for role in policy.escalation.chain],
        escalation_seconds=policy.escalation.interval_minutes * 60,
        emergency_escalation_seconds=policy.escalation.emergency_interval_minutes * 60,
        arrive_seconds_within_hours=_span_seconds(
            ordinary, default.arrive_seconds_within_hours),
        arrive_seconds_outside_hours=_span_seconds(
            ordinary, default.arrive_seconds_outside_hours, within_hours=False),
        arrive_seconds_emergency=_span_seconds(
            policy.targets.emergency.arrive, default.arrive_seconds_emergency),
        negotiate_seconds=_span_seconds(
            policy.quote_dispute.negotiate, default.negotiate_seconds),
        waiver_approve_seconds=_span_seconds(approve, (approve.working_days or 1) * 86400),
        director_limit_fen=policy.fee_waiver.director_limit_yuan * 100,
        delegate_attend_seconds=_span_seconds(
            policy.delegation.attend, default.delegate_attend_seconds),
        delegate_attend_seconds_emergency=_span_seconds(
            policy.delegation.attend_emergency, default.delegate_attend_seconds_emergency),
        assess_seconds=_span_seconds(policy.targets.of(priority).assess),
        working_hours=[f"{policy.working_hours.start:%H:%M}",
                       f"{policy.working_hours.end:%H:%M}"],
        extra_days_off=sorted(d.isoformat() for d in calendar.extra_days_off),
        extra_working_days=sorted(d.isoformat() for d in calendar.extra_working_days),
    )


def workflow_input(repair: Repair, policy: dict | None = None) -> RepairInput:
    """The input of the repair's workflow, from its row and the lifecycle policy kept with
    its start (none for a repair reported before policies: the defaults)."""
    return RepairInput(
        repair_id=repair.id, ticket=repair.ticket, project=repair.project,
        building=repair.building, unit=repair.unit, common_area=repair.common_area,
        category=repair.category, priority=repair.priority, time_zone=repair.time_zone,
        reported_at=repair.reported_at, arrive_by=repair.arrive_by, trade=repair.trade or "",
        emergency=repair.emergency, finish_by=repair.finish_by, respond_by=repair.respond_by,
        policy=LifecyclePolicy(**policy) if policy else LifecyclePolicy(),
        guarantee=Guarantee(
            repair_id=repair.guarantee["repair_id"], ticket=repair.guarantee["ticket"],
            accepted_at=datetime.fromisoformat(repair.guarantee["accepted_at"]),
            ends_at=datetime.fromisoformat(repair.guarantee["ends_at"]),
        ) if repair.guarantee else None,
    )


def reported_event(repair: Repair) -> RepairReported:
    """The `repairs.reported.v1` event, from the row."""
    return RepairReported(
        repair_id=repair.id, ticket=repair.ticket, project=repair.project,
        building=repair.building, unit=repair.unit, common_area=repair.common_area,
        category=repair.category, priority=repair.priority, channel=repair.channel,
        reported_at=repair.reported_at, arrive_by=repair.arrive_by,
    )


def attach_call(*, session: AsyncSession, repair: Repair, command: ReportRepair,
                received_at: datetime) -> RepairCall:
    """Record another report of an open repair: who called again, when and how."""
    call = RepairCall(
        repair_id=repair.id, channel=command.channel.value,
        reporter_name=command.reporter.name, reporter_phone=command.reporter.phone,
        description=command.description, reported_at=command.reported_at or received_at,
        received_at=received_at, emergency=command.emergency,
    )
    session.add(call)
    return call


async def raise_to_emergency(*, session: AsyncSession, repair: Repair, command: ReportRepair,
                             located: ReportLocated, received_at: datetime) -> bool:
    """A repeat call that says it is an emergency makes the open repair one: the emergency
    arrival target counts from this call if that is sooner, and the workflow is told (an
    outbox entry, after the start). True when the repair changed."""
    if repair.priority == "emergency" or not command.emergency:
        return False
    policy = await repository.service_levels(session=session, project=repair.project)
    # From the call: its reported time if it falls between the repair's receipt and now
    # (a mistyped one does not make a deadline already past), else its receipt.
    reported = command.reported_at
    called = reported if reported and repair.received_at <= reported <= received_at \
        else received_at
    arrive = service_deadlines(
        policy=policy, calendar=calendar_of(located), priority="emergency",
        received_at=called, time_zone=repair.time_zone).arrive_by
    not_there_yet = repair.status in (Status.REPORTED, Status.UNASSIGNED, Status.OFFERED,
                                      Status.ACCEPTED)
    if arrive is not None and not_there_yet and arrive.due_at < repair.arrive_by:
        repair.arrive_by, repair.arrive_rule = arrive.due_at, arrive.rule
    repair.priority, repair.emergency = "emergency", True
    session.add(OutboxEntry(repair_id=repair.id, kind=RAISE_PRIORITY, payload={
        "arrive_by": repair.arrive_by.isoformat(), "by": command.reporter.name,
        "reason": command.description[:200],
        "assess_seconds": _span_seconds(policy.targets.emergency.assess)}))
    return True


def request_hash(command: ReportRepair, photos: Sequence[str] = ()) -> str:
    """The same report, whatever its key order or spacing, hashes the same; photos (their
    SHA-256, in order) count when there are any."""
    document = command.model_dump(mode="json")
    if document.get("priority") is None:  # as hashed before the field existed
        document.pop("priority", None)
    if photos:
        document["photos"] = list(photos)
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
