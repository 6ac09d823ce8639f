"""Follow-up's commands and the repairs' events it acts on.

A closed repair (`repairs.status_changed.v1`, status `closed`) becomes a job that may get a
return visit: the sampler chooses it or not so that the period's rate stays at or above
the project's target (both are kept, for the rate's record), and a chosen one gets its
window, its specialist role and a `ReturnVisitWorkflow` for its deadlines. The same unit
repaired for the same category `same_repair` times within the look-back opens (or grows)
a corrective action for the technical department. A visit's result is recorded once; an
unsatisfied owner opens a complaint for the manager, and a handled complaint gets its own
visit (all of them: rate 100 %)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.common.bus import Bus
from services.common.contracts import WARRANTY_GET_PROJECT, RepairProgressed, RepairReported
from services.common.errors import Rejection
from services.common.followup_contracts import (
    CORRECTIVE_ACTION,
    VISIT_LATE,
    VISIT_RECORDED,
    VISIT_SCHEDULED,
    CheckVisit,
    Complaint,
    CorrectiveActionView,
    DeveloperFlagView,
    GetPolicy,
    GetStatistics,
    GetVisit,
    HandleComplaint,
    KindRow,
    ListDueVisits,
    PolicyView,
    PutPolicy,
    RecordVisit,
    Statistics,
    Visit,
    VisitCheck,
    VisitResult,
    Visits,
)
from services.common.followup_policy import DEFAULT_POLICY, FollowupPolicy, VisitKind
from services.common.registry_contracts import GetProject, ProjectIn
from services.followup import models, repository
from services.followup.statistics import (
    RepairRecord,
    VisitRecord,
    followup_report,
    quarter,
    quarter_of,
)
from services.followup.visits import (
    VisitWindow,
    add_months,
    late_escalation,
    reminder_at,
    should_visit,
)
from services.followup.visits import visit_window as window_of
from workflows.return_visit.messages import LateStep, ReturnVisitInput

log = structlog.get_logger(__name__)
# Starts the visit's ReturnVisitWorkflow (idempotent: the same visit is the same workflow).
StartVisit = Callable[[ReturnVisitInput], Awaitable[None]]


class NotYet(Exception):
    """An event that cannot be applied yet (its repair's report is still on its way)."""


def _owns(project: str, within: list[str] | None) -> bool:
    return within is None or project in within


def unknown_visit(visit_id: str) -> Rejection:
    return Rejection("unknown_visit", f"No return visit {visit_id!r}.", "没有这条回访记录。",
                     "visit_id", 404)


class FollowupHandlers:
    def __init__(self, sessions: async_sessionmaker, bus: Bus, start_visit: StartVisit) -> None:
        self.sessions = sessions
        self.bus = bus
        self.start_visit = start_visit
        self._zones: dict[str, str] = {}

    # --- the repairs' events --------------------------------------------------------------

    async def on_reported(self, event: RepairReported) -> None:
        async with self.sessions.begin() as session:
            await repository.remember_repair(session=session, repair=models.FollowedRepair(
                repair_id=event.repair_id, ticket=event.ticket, project=event.project,
                building=event.building, unit=event.unit, common_area=event.common_area,
                category=event.category, reported_at=event.reported_at, closed_at=None))

    async def on_progressed(self, event: RepairProgressed) -> None:
        """A closed repair: decide and schedule its return visit (once, however often the
        event comes)."""
        if event.status != "closed":
            return
        zone = await self._zone(event.project)
        async with self.sessions.begin() as session:
            repair = await repository.get_repair(session=session, repair_id=event.repair_id)
            if repair is None:
                raise NotYet(event.repair_id)
            await repository.mark_closed(session=session, repair_id=repair.repair_id,
                                         at=event.at)
            policy = await _policy(session, repair.project)
            visit = await self._decide(session, policy, kind=VisitKind.repair,
                                       key=repair.repair_id,
                                       project=repair.project, served_at=event.at, zone=zone,
                                       in_unit=repair.unit is not None, facts={
                                           "building": repair.building, "unit": repair.unit,
                                           "category": repair.category,
                                           "repair_id": repair.repair_id})
            action = await self._repeated(session, policy, repair, event.at, zone)
        await self._started(visit, policy, zone)
        if action is not None:
            await self.bus.publish_event(CORRECTIVE_ACTION, action,
                                         msg_id=f"{action.id}:{len(action.repair_ids)}")

    async def _decide(self, session, policy: FollowupPolicy, *, kind: VisitKind, key: str,
                      project: str,
                      served_at: datetime, zone: str, in_unit: bool, facts: dict,
                      assignee_role: str = "customer_specialist") -> models.ReturnVisit:
        """The job's visit row: chosen by the period's rate, or not (kept either way)."""
        visit_id = f"{kind.value}-{key}"
        existing = await repository.get_visit(session=session, visit_id=visit_id)
        if existing is not None:
            return existing
        label = quarter_of(served_at, time_zone=zone).quarter_label
        count = await repository.count_for_sampling(session=session, project=project,
                                                    kind=kind.value, period=label)
        chosen = should_visit(kind=kind, selected=count.selected, seen=count.seen,
                              policy=policy, in_unit=in_unit)
        rate = policy.rates.of(kind)
        why = ("in-unit: all" if chosen and in_unit and kind == VisitKind.repair
               and policy.rates.in_unit_repairs_all else f"rate {rate:g}")
        window = window_of(kind=kind, done_at=served_at, policy=policy, time_zone=zone)
        assignee = None
        if chosen and assignee_role == "customer_specialist" and policy.specialists:
            # The specialist with the fewest visits still to make; ties in the policy's order.
            load = await repository.open_visits_by_assignee(
                session=session, project=project, assignees=list(policy.specialists))
            assignee = min(policy.specialists, key=lambda name: load[name])
        visit = models.ReturnVisit(
            id=visit_id, kind=kind.value, project=project, served_at=served_at,
            opens_at=window.opens_at, closes_at=window.closes_at,
            status="due" if chosen else "not_selected", selected_by=why, in_unit=in_unit,
            assignee_role=assignee_role, assignee=assignee, escalations=[], **facts)
        await repository.add_visit(session=session, visit=visit)
        count.seen += 1
        count.selected += int(chosen)
        return visit

    async def _started(self, visit: models.ReturnVisit, policy: FollowupPolicy, zone: str
                       ) -> None:
        """The visit's deadlines as a workflow (again after a redelivery: the same id)."""
        if visit.status != "due":
            return
        await self._start_workflow(visit, policy, zone)
        await self.bus.publish_event(VISIT_SCHEDULED, self.view(visit),
                                     msg_id=f"{visit.id}:scheduled")

    async def resume(self) -> int:
        """Start the workflow of every visit still due that has none (visits stored while
        this service was down, or loaded as demo history); returns how many were asked."""
        async with self.sessions() as session:
            due = await repository.list_visits(
                session=session, within=None, project=None, assignee=None,
                closes_before=None, include_done=False, limit=10_000)
            policies = {v.project: await _policy(session, v.project) for v in due}
        for visit in due:
            await self._start_workflow(visit, policies[visit.project],
                                       await self._zone(visit.project))
        return len(due)

    async def _start_workflow(self, visit: models.ReturnVisit, policy: FollowupPolicy,
                              zone: str) -> None:
        window = VisitWindow(visit.opens_at, visit.closes_at)
        steps = late_escalation(window, policy, time_zone=zone)
        await self.start_visit(ReturnVisitInput(
            visit_id=visit.id, project=visit.project,
            remind_at=reminder_at(window, policy),
            closes_at=visit.closes_at,
            late_steps=[LateStep(role=step.role.value, at=step.at) for step in steps]))

    async def _repeated(self, session, policy: FollowupPolicy, repair: models.FollowedRepair,
                        at: datetime, zone: str) -> CorrectiveActionView | None:
        """The same unit, the same category, `same_repair` times in the look-back: the
        technical department's corrective action (one open per unit and category)."""
        if repair.unit is None:
            return None
        repeats = policy.repeats
        local = at.astimezone(ZoneInfo(zone))
        since = datetime.combine(add_months(local.date(), -repeats.lookback_months),
                                 local.timetz())
        same = await repository.closed_repairs(
            session=session, project=repair.project, since=since, until=at + timedelta(
                microseconds=1), unit=repair.unit, category=repair.category)
        ids = [r.repair_id for r in same]
        if len(ids) < repeats.same_repair:
            return None
        action = await repository.open_corrective_action(
            session=session, project=repair.project, unit=repair.unit,
            category=repair.category)
        if action is None:
            detected = local.date()
            action = models.CorrectiveAction(
                id=f"{repair.project}/{repair.unit}/{repair.category}/{detected.isoformat()}",
                project=repair.project, building=repair.building, unit=repair.unit,
                category=repair.category, repair_ids=ids, owner="technical_department",
                detected_on=detected,
                due_on=detected + timedelta(days=repeats.corrective_days))
            session.add(action)
        elif set(ids) != set(action.repair_ids):
            action.repair_ids = sorted(set(action.repair_ids) | set(ids))
        else:
            return None
        return _action_view(action)

    # --- commands -------------------------------------------------------------------------

    async def due(self, command: ListDueVisits) -> Visits:
        """Visits still to make (or made, with `include_done`), soonest deadline first."""
        if command.project is not None and not _owns(command.project, command.within):
            return Visits(visits=[])
        async with self.sessions() as session:
            rows = await repository.list_visits(
                session=session, within=command.within, project=command.project,
                assignee=command.assignee, closes_before=command.closes_before,
                include_done=command.include_done, limit=command.limit)
        return Visits(visits=[self.view(row) for row in rows])

    async def get(self, command: GetVisit) -> Visit:
        async with self.sessions() as session:
            visit = await repository.get_visit(session=session, visit_id=command.visit_id)
        if visit is None or not _owns(visit.project, command.within):
            raise unknown_visit(command.visit_id)
        return self.view(visit)

    async def record(self, command: RecordVisit) -> Visit:
        """The visit's result, once, inside or after its window (a late visit still
        counts as made, and as late); an unsatisfied owner opens a complaint."""
        result = command.result
        async with self.sessions.begin() as session:
            visit = await repository.get_visit(session=session, visit_id=command.visit_id,
                                               lock=True)
            if visit is None or not _owns(visit.project, command.within):
                raise unknown_visit(command.visit_id)
            if visit.status == "done":
                raise Rejection("already_recorded", "This visit's result is recorded already.",
                                "该回访已有记录。", "visit_id", 409)
            if visit.status != "due":
                raise Rejection("visit_not_due", "This job was not chosen for a return visit.",
                                "该工单未被抽中回访。", "visit_id", 409)
            if result.at < visit.opens_at:
                raise Rejection("visit_not_due", f"The visit's window opens at "
                                f"{visit.opens_at.isoformat()}.", "尚未到回访时间。", "at", 409)
            policy = await _policy(session, visit.project)
            visit.result = result.model_dump(mode="json")
            visit.status, visit.done_at = "done", result.at
            complaint = None
            if not result.satisfied or (
                    result.satisfaction <= policy.repeats.unsatisfied_at_most):
                complaint = models.Complaint(
                    id=f"visit-{visit.id}", project=visit.project, building=visit.building,
                    unit=visit.unit, subject=visit.category or visit.kind,
                    detail=result.shortcomings or f"satisfaction {result.satisfaction}",
                    major=result.satisfaction == 1, source_visit_id=visit.id,
                    opened_at=result.at, assignee_role="manager")
                await repository.add_complaint(session=session, complaint=complaint)
            view = self.view(visit)
        await self.bus.publish_event(VISIT_RECORDED, view, msg_id=f"{visit.id}:recorded")
        if complaint is not None:
            log.info("unsatisfied owner: complaint opened", visit_id=visit.id,
                     complaint_id=complaint.id)
        return view

    async def check(self, command: CheckVisit) -> VisitCheck:
        """A deadline of the visit's workflow: record the reminder, the lateness or the
        escalation if the visit is still not made (each once)."""
        async with self.sessions.begin() as session:
            visit = await repository.get_visit(session=session, visit_id=command.visit_id,
                                               lock=True)
            if visit is None or visit.status != "due":
                return VisitCheck(open=False)
            late = False
            if command.step == "remind" and visit.reminded_at is None:
                visit.reminded_at = command.at
            elif command.step == "late" and visit.late_at is None:
                visit.late_at, late = command.at, True
            elif command.step == "escalate" and command.level not in [
                    e["level"] for e in visit.escalations]:
                visit.escalations = [*visit.escalations, {
                    "role": command.role, "level": command.level,
                    "at": command.at.isoformat()}]
            view = self.view(visit)
        if late:
            await self.bus.publish_event(VISIT_LATE, view, msg_id=f"{visit.id}:late")
        return VisitCheck(open=True)

    async def handle_complaint(self, command: HandleComplaint) -> Complaint:
        """A handled complaint gets its return visit within 3 days (all of them), by the
        manager for a major one, else the department head with the center."""
        zone = None
        async with self.sessions.begin() as session:
            complaint = await repository.get_complaint(
                session=session, complaint_id=command.complaint_id, lock=True)
            if complaint is None or not _owns(complaint.project, command.within):
                raise Rejection("unknown_complaint", f"No complaint {command.complaint_id!r}.",
                                "没有这条投诉。", "complaint_id", 404)
            if complaint.handled_at is not None:
                raise Rejection("already_handled", "This complaint is handled already.",
                                "该投诉已处理完毕。", "complaint_id", 409)
            complaint.handled_at, complaint.handled_by = command.at, command.by
            complaint.outcome = command.outcome
            zone = await self._zone(complaint.project)
            policy = await _policy(session, complaint.project)
            visit = await self._decide(
                session, policy, kind=VisitKind.complaint, key=complaint.id,
                project=complaint.project, served_at=command.at, zone=zone,
                in_unit=complaint.unit is not None,
                facts={"building": complaint.building, "unit": complaint.unit,
                       "category": None, "subject": complaint.subject,
                       "complaint_id": complaint.id},
                assignee_role="manager" if complaint.major else "center_supervisor")
            answer = _complaint_view(complaint)
        await self._started(visit, policy, zone)
        return answer

    async def statistics(self, command: GetStatistics) -> Statistics:
        """The quarter's visits against target, failed visits, repeated complaints and
        repairs (corrective actions), and categories repeating across a building."""
        if not _owns(command.project, command.within):
            raise _out_of_scope()
        zone = await self._zone(command.project)
        period = quarter(command.year, command.quarter, time_zone=zone)
        async with self.sessions() as session:
            policy = await _policy(session, command.project)
            since = datetime.combine(
                add_months(period.start.date(), -policy.repeats.lookback_months),
                period.start.timetz())
            visits = await repository.visits_closing(
                session=session, project=command.project, since=since, until=period.end)
            repairs = await repository.closed_repairs(
                session=session, project=command.project, since=since, until=period.end)
            stored = await repository.corrective_actions_of(session=session,
                                                            project=command.project)
        report = followup_report(
            visits=[_record(v) for v in visits],
            repairs=[RepairRecord(r.repair_id, r.project, r.building, r.unit, r.category,
                                  r.closed_at) for r in repairs if r.unit and r.closed_at],
            period=period, policy=policy, time_zone=zone)
        return Statistics(
            project=command.project, year=command.year, quarter=command.quarter,
            starts=period.start, ends=period.end,
            kinds=[KindRow(kind=k.kind.value, eligible=k.eligible, due=k.due, done=k.done,
                           on_time=k.on_time, late_done=k.late_done, overdue=k.overdue,
                           pending=k.pending, failed=k.failed, rate=k.rate, target=k.target,
                           met=k.met) for k in report.kinds],
            failed_visits=list(report.failed_visits),
            repeated_complaints=[{"unit": c.unit, "subject": c.subject,
                                  "visit_ids": list(c.visit_ids)}
                                 for c in report.repeated_complaints],
            corrective_actions=[_action_view(a) for a in stored
                                if period.start.date() <= a.detected_on < period.end.date()],
            developer_flags=[DeveloperFlagView(
                project=f.project, building=f.building, category=f.category,
                units=list(f.units), repair_ids=list(f.repair_ids))
                for f in report.developer_flags])

    async def put_policy(self, command: PutPolicy) -> PolicyView:
        """Replace a project's follow-up policy; jobs decided from now on follow it."""
        if not _owns(command.project, command.within):
            raise _out_of_scope()
        await self._zone(command.project)  # the project exists
        try:
            policy = FollowupPolicy.model_validate(command.policy)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(["policy", *(str(p) for p in first["loc"])])
            raise Rejection("invalid_policy", f"{field}: {first['msg']}",
                            f"{field}：设置不正确", field, 422) from None
        at = datetime.now(UTC)
        async with self.sessions.begin() as session:
            await repository.put_policy(session=session, project=command.project,
                                        document=command.policy, at=at)
        return PolicyView(project=command.project, policy=policy.model_dump(mode="json"),
                          updated_at=at)

    async def get_policy(self, command: GetPolicy) -> PolicyView:
        if not _owns(command.project, command.within):
            raise _out_of_scope()
        await self._zone(command.project)
        async with self.sessions() as session:
            row = await repository.get_policy(session=session, project=command.project)
        policy = FollowupPolicy.model_validate(row.document) if row else DEFAULT_POLICY
        return PolicyView(project=command.project, policy=policy.model_dump(mode="json"),
                          updated_at=row.updated_at if row else None)

    # --- helpers --------------------------------------------------------------------------

    async def _zone(self, project: str) -> str:
        if project not in self._zones:
            found = await self.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=project),
                                       ProjectIn)
            self._zones[project] = found.time_zone
        return self._zones[project]

    @staticmethod
    def view(visit: models.ReturnVisit) -> Visit:
        return Visit(
            id=visit.id, kind=visit.kind, project=visit.project, building=visit.building,
            unit=visit.unit, category=visit.category, repair_id=visit.repair_id,
            complaint_id=visit.complaint_id, served_at=visit.served_at,
            opens_at=visit.opens_at, closes_at=visit.closes_at, status=visit.status,
            selected_by=visit.selected_by, assignee_role=visit.assignee_role,
            assignee=visit.assignee, reminded_at=visit.reminded_at,
            late=visit.late_at is not None or (
                visit.done_at is not None and visit.done_at >= visit.closes_at),
            escalations=list(visit.escalations or []),
            result=VisitResult.model_validate(visit.result) if visit.result else None)


async def _policy(session, project: str) -> FollowupPolicy:
    row = await repository.get_policy(session=session, project=project)
    return FollowupPolicy.model_validate(row.document) if row else DEFAULT_POLICY


def _out_of_scope() -> Rejection:
    return Rejection("project_out_of_scope", "Project is outside this API key's scope.",
                     "项目不在此API密钥的授权范围内。", "project", 403)


def _record(visit: models.ReturnVisit) -> VisitRecord:
    result = visit.result or {}
    return VisitRecord(
        id=visit.id, kind=VisitKind(visit.kind), unit=visit.unit or "",
        served_at=visit.served_at, opens_at=visit.opens_at, closes_at=visit.closes_at,
        selected=visit.status != "not_selected", done_at=visit.done_at,
        satisfaction=result.get("satisfaction"), failed=result.get("satisfied") is False,
        in_unit=visit.in_unit, category=visit.category, subject=visit.subject)


def _action_view(action: models.CorrectiveAction) -> CorrectiveActionView:
    return CorrectiveActionView(
        id=action.id, project=action.project, building=action.building, unit=action.unit,
        category=action.category, repair_ids=list(action.repair_ids), owner=action.owner,
        detected_on=action.detected_on.isoformat(), due_on=action.due_on.isoformat())


def _complaint_view(complaint: models.Complaint) -> Complaint:
    return Complaint(
        id=complaint.id, project=complaint.project, unit=complaint.unit,
        subject=complaint.subject, major=complaint.major,
        source_visit_id=complaint.source_visit_id, opened_at=complaint.opened_at,
        handled_at=complaint.handled_at, handled_by=complaint.handled_by,
        outcome=complaint.outcome, assignee_role=complaint.assignee_role)
