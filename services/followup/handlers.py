"""Follow-up's commands and the repairs' events it acts on.

A closed repair (`repairs.status_changed.v1`, status `closed`) becomes a job that may get a
return visit: the sampler chooses it or not so that the period's rate stays at or above
the project's target (both are kept, for the rate's record), and a chosen one gets its
window, its specialist role and a `ReturnVisitWorkflow` for its deadlines. The window and
the quarter count from the repair's completion (its last `completed` step; the closing
when none was seen). The same place (a unit, or a common area of a building) repaired for
the same category `same_repair` times within the look-back opens (or grows) a corrective
action for the technical department. A visit's result is recorded once; an unsatisfied
owner opens a complaint for the manager, to be answered within the policy's hours (a
`ReturnVisitWorkflow` with target `complaint` reminds, marks it late and escalates), and a
handled complaint gets its own visit (all of them: rate 100 %)."""

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
    COMPLAINT_LATE,
    CORRECTIVE_ACTION,
    VISIT_LATE,
    VISIT_RECORDED,
    VISIT_SCHEDULED,
    CheckVisit,
    Complaint,
    ComplaintResponsesRow,
    Complaints,
    CorrectiveActionView,
    DeveloperFlagView,
    GetComplaint,
    GetPolicy,
    GetStatistics,
    GetVisit,
    HandleComplaint,
    KindRow,
    ListComplaints,
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
from services.common.followup_policy import (
    DEFAULT_POLICY,
    FollowupPolicy,
    FollowupRole,
    VisitKind,
)
from services.common.registry_contracts import GetProject, ProjectIn
from services.followup import models, repository
from services.followup.revisit_rules import count_findings, finding
from services.followup.statistics import (
    ComplaintRecord,
    RepairRecord,
    VisitRecord,
    followup_report,
    quarter,
    quarter_of,
)
from services.followup.visits import (
    VisitWindow,
    add_months,
    complaint_deadlines,
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
        """A completed repair: remember when (the visit's window counts from it). A closed
        repair: decide and schedule its return visit (once, however often the event
        comes)."""
        if event.kind == "completed":
            async with self.sessions.begin() as session:
                if await repository.get_repair(session=session,
                                               repair_id=event.repair_id) is None:
                    raise NotYet(event.repair_id)
                await repository.mark_completed(session=session, repair_id=event.repair_id,
                                                at=event.at)
            return
        if event.status != "closed":
            return
        zone = await self._zone(event.project)
        async with self.sessions.begin() as session:
            repair = await repository.get_repair(session=session, repair_id=event.repair_id)
            if repair is None:
                raise NotYet(event.repair_id)
            # 完成维修工程一个月后: from the completion (the last one, after any rework);
            # the closing when no completion was seen.
            completed = repair.completed_at
            served_at = completed if completed is not None and completed <= event.at \
                else event.at
            await repository.mark_closed(session=session, repair_id=repair.repair_id,
                                         at=event.at)
            policy = await _policy(session, repair.project)
            visit = await self._decide(session, policy, kind=VisitKind.repair,
                                       key=repair.repair_id,
                                       project=repair.project, served_at=served_at, zone=zone,
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
        """The job's visit row: chosen by the rate of the quarter it was served in, or not
        (kept either way); the statistics count it in that same quarter."""
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
        """Start the workflow of every visit still due, and every complaint not answered,
        that has none (stored while this service was down, or loaded as demo history);
        returns how many were asked."""
        async with self.sessions() as session:
            due = await repository.list_visits(
                session=session, within=None, project=None, assignee=None,
                closes_before=None, include_done=False, limit=10_000)
            waiting = await repository.list_complaints(
                session=session, within=None, project=None, include_handled=False,
                late_only=False, limit=10_000)
            policies = {p: await _policy(session, p)
                        for p in {v.project for v in due} | {c.project for c in waiting}}
        for visit in due:
            await self._start_workflow(visit, policies[visit.project],
                                       await self._zone(visit.project))
        for complaint in waiting:
            await self._start_complaint(complaint, policies[complaint.project])
        return len(due) + len(waiting)

    async def _start_complaint(self, complaint: models.Complaint, policy: FollowupPolicy
                               ) -> None:
        """The complaint's response deadline as a workflow (the same id again: no-op)."""
        deadlines = complaint_deadlines(complaint.opened_at, policy,
                                        respond_by=complaint.respond_by)
        await self.start_visit(ReturnVisitInput(
            visit_id=complaint.id, project=complaint.project,
            remind_at=deadlines.remind_at or deadlines.respond_by,
            closes_at=deadlines.respond_by,
            late_steps=[LateStep(role=s.role.value, at=s.at) for s in deadlines.late_steps],
            target="complaint"))

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
        """The same place (a unit, or a common area of a building: one lift), the same
        category, `same_repair` times in the look-back: the technical department's
        corrective action (one open per place and category)."""
        area = None if repair.unit is not None else repair.common_area
        if repair.unit is None and area is None:
            return None
        repeats = policy.repeats
        local = at.astimezone(ZoneInfo(zone))
        since = datetime.combine(add_months(local.date(), -repeats.lookback_months),
                                 local.timetz())
        same = await repository.closed_repairs(
            session=session, project=repair.project, since=since, until=at + timedelta(
                microseconds=1), unit=repair.unit, building=repair.building,
            common_area=area, category=repair.category)
        ids = [r.repair_id for r in same]
        if len(ids) < repeats.same_repair:
            return None
        action = await repository.open_corrective_action(
            session=session, project=repair.project, unit=repair.unit,
            building=repair.building, common_area=area, category=repair.category)
        if action is None:
            detected = local.date()
            place = repair.unit if repair.unit is not None else f"{repair.building}:{area}"
            action = models.CorrectiveAction(
                id=f"{repair.project}/{place}/{repair.category}/{detected.isoformat()}",
                project=repair.project, building=repair.building, unit=repair.unit,
                common_area=area, category=repair.category, repair_ids=ids,
                owner="technical_department",
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
                    opened_at=result.at,
                    respond_by=complaint_deadlines(result.at, policy).respond_by,
                    assignee_role="manager", escalations=[])
                await repository.add_complaint(session=session, complaint=complaint)
            view = self.view(visit)
        await self.bus.publish_event(VISIT_RECORDED, view, msg_id=f"{visit.id}:recorded")
        if complaint is not None:
            log.info("unsatisfied owner: complaint opened", visit_id=visit.id,
                     complaint_id=complaint.id)
            await self._start_complaint(complaint, policy)
        return view

    async def check(self, command: CheckVisit) -> VisitCheck:
        """A deadline of the visit's workflow: record the reminder, the lateness or the
        escalation if the visit is still not made (each once)."""
        if command.target == "complaint":
            return await self._check_complaint(command)
        async with self.sessions.begin() as session:
            visit = await repository.get_visit(session=session, visit_id=command.visit_id,
                                               lock=True)
            if visit is None or visit.status != "due":
                return VisitCheck(open=False)
            late = _step(visit, command)
            view = self.view(visit)
        if late:
            await self.bus.publish_event(VISIT_LATE, view, msg_id=f"{visit.id}:late")
        return VisitCheck(open=True)

    async def _check_complaint(self, command: CheckVisit) -> VisitCheck:
        """A complaint's deadline: remind its handler, mark it late (an event) or escalate
        it, while it is not handled."""
        async with self.sessions.begin() as session:
            complaint = await repository.get_complaint(
                session=session, complaint_id=command.visit_id, lock=True)
            if complaint is None or complaint.handled_at is not None:
                return VisitCheck(open=False)
            late = _step(complaint, command)
            view = _complaint_view(complaint)
        if late:
            await self.bus.publish_event(COMPLAINT_LATE, view, msg_id=f"{view.id}:late")
            log.info("complaint not answered in time", complaint_id=view.id)
        return VisitCheck(open=True)

    async def handle_complaint(self, command: HandleComplaint) -> Complaint:
        """A handled complaint gets its return visit within 3 days (all of them), by the
        manager for a major one, else the complained-of department's head with the
        center's specialist (002 篇1 §4.1.3). Handled after `respond_by`, it stays late."""
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
            if command.at < complaint.opened_at:
                raise Rejection("before_opened", "A complaint cannot be handled before it was "
                                "opened.", "投诉处理时间不能早于投诉时间。", "at")
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
                assignee_role=(FollowupRole.manager if complaint.major
                               else FollowupRole.department_head).value)
            answer = _complaint_view(complaint)
        await self._started(visit, policy, zone)
        return answer

    async def get_complaint(self, command: GetComplaint) -> Complaint:
        async with self.sessions() as session:
            complaint = await repository.get_complaint(session=session,
                                                       complaint_id=command.complaint_id)
        if complaint is None or not _owns(complaint.project, command.within):
            raise Rejection("unknown_complaint", f"No complaint {command.complaint_id!r}.",
                            "没有这条投诉。", "complaint_id", 404)
        return _complaint_view(complaint)

    async def list_complaints(self, command: ListComplaints) -> Complaints:
        """Complaints not answered yet (or all, with `include_handled`), soonest response
        deadline first; `late_only`: those past it."""
        if command.project is not None and not _owns(command.project, command.within):
            return Complaints(complaints=[])
        async with self.sessions() as session:
            rows = await repository.list_complaints(
                session=session, within=command.within, project=command.project,
                include_handled=command.include_handled, late_only=command.late_only,
                limit=command.limit)
        return Complaints(complaints=[_complaint_view(c) for c in rows])

    async def statistics(self, command: GetStatistics) -> Statistics:
        """The quarter's visits against target, failed visits, repeated complaints and
        repairs (corrective actions), categories repeating across a building, and the
        repairs its revisits found against their due day."""
        if not _owns(command.project, command.within):
            raise _out_of_scope()
        zone = await self._zone(command.project)
        period = quarter(command.year, command.quarter, time_zone=zone)
        async with self.sessions() as session:
            policy = await _policy(session, command.project)
            since = datetime.combine(
                add_months(period.start.date(), -policy.repeats.lookback_months),
                period.start.timetz())
            visits = await repository.visits_served(
                session=session, project=command.project, since=since, until=period.end)
            repairs = await repository.closed_repairs(
                session=session, project=command.project, since=since, until=period.end)
            complaints = await repository.complaints_opened(
                session=session, project=command.project, since=period.start,
                until=period.end)
            stored = await repository.corrective_actions_of(session=session,
                                                            project=command.project)
            revisits = await repository.revisits_done(
                session=session, project=command.project, since=period.start,
                until=period.end)
            solved = await repository.completions(
                session=session, repair_ids=[i for r in revisits for i in r.found_repair_ids])
        # As of now: visits made after the quarter still count for its jobs. A record
        # carrying a later moment than this clock (a result given with its own `at`) is a
        # fact already, so the count is as of just after the latest of them.
        as_of = max([datetime.now(UTC), *(m for v in visits for m in (v.done_at, v.late_at)
                                          if m is not None),
                     *(m for c in complaints for m in (c.handled_at, c.late_at)
                       if m is not None)]) + timedelta(microseconds=1)
        report = followup_report(
            visits=[_record(v) for v in visits],
            repairs=[RepairRecord(r.repair_id, r.project, r.building, r.unit, r.category,
                                  r.closed_at, r.common_area)
                     for r in repairs if r.closed_at is not None],
            complaints=[ComplaintRecord(c.id, c.opened_at, c.respond_by, c.handled_at)
                        for c in complaints],
            period=period, policy=policy, time_zone=zone, as_of=as_of)
        answers = report.complaint_responses
        # The findings of the quarter's revisits (by the revisit's day), as of the latest
        # moment on record when later than `as_of`.
        found_as_of = max([as_of, *(r.done_at for r in revisits if r.done_at),
                           *(at for at in solved.values() if at)])
        findings = count_findings(
            finding(i, found_at=r.done_at, solved_at=solved.get(i), as_of=found_as_of,
                    days=policy.planned.findings_days, time_zone=zone)
            for r in revisits if r.done_at for i in r.found_repair_ids)
        return Statistics(
            project=command.project, year=command.year, quarter=command.quarter,
            starts=period.start, ends=period.end,
            kinds=[KindRow(kind=k.kind.value, eligible=k.eligible, due=k.due, done=k.done,
                           on_time=k.on_time, late_done=k.late_done, overdue=k.overdue,
                           pending=k.pending, failed=k.failed, rate=k.rate, target=k.target,
                           met=k.met) for k in report.kinds],
            failed_visits=list(report.failed_visits),
            repeated_complaints=[{"building": c.building, "unit": c.unit,
                                  "subject": c.subject, "visit_ids": list(c.visit_ids)}
                                 for c in report.repeated_complaints],
            corrective_actions=[_action_view(a) for a in stored
                                if period.start.date() <= a.detected_on < period.end.date()],
            developer_flags=[DeveloperFlagView(
                project=f.project, building=f.building, category=f.category,
                units=list(f.units), repair_ids=list(f.repair_ids))
                for f in report.developer_flags],
            complaint_responses=ComplaintResponsesRow(
                opened=answers.opened, handled=answers.handled, on_time=answers.on_time,
                late_handled=answers.late_handled, overdue=answers.overdue,
                pending=answers.pending, late=answers.late, late_ids=list(answers.late_ids)),
            revisit_findings=findings)

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
            assignee=visit.assignee, joint_role=(
                FollowupRole.customer_specialist.value
                if visit.assignee_role == FollowupRole.department_head else None),
            reminded_at=visit.reminded_at,
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
        in_unit=visit.in_unit, category=visit.category, subject=visit.subject,
        building=visit.building)


def _step(record: models.ReturnVisit | models.Complaint, command: CheckVisit) -> bool:
    """Record a deadline's step on a visit or a complaint still open, each once; True when
    it became late just now."""
    if command.step == "remind" and record.reminded_at is None:
        record.reminded_at = command.at
    elif command.step == "late" and record.late_at is None:
        record.late_at = command.at
        return True
    elif command.step == "escalate" and command.level not in [
            e["level"] for e in record.escalations or []]:
        record.escalations = [*(record.escalations or []), {
            "role": command.role, "level": command.level, "at": command.at.isoformat()}]
    return False


def _action_view(action: models.CorrectiveAction) -> CorrectiveActionView:
    return CorrectiveActionView(
        id=action.id, project=action.project, building=action.building, unit=action.unit,
        common_area=action.common_area, category=action.category,
        repair_ids=list(action.repair_ids), owner=action.owner,
        detected_on=action.detected_on.isoformat(), due_on=action.due_on.isoformat())


def _complaint_view(complaint: models.Complaint) -> Complaint:
    return Complaint(
        id=complaint.id, project=complaint.project, unit=complaint.unit,
        subject=complaint.subject, major=complaint.major,
        source_visit_id=complaint.source_visit_id, opened_at=complaint.opened_at,
        respond_by=complaint.respond_by, handled_at=complaint.handled_at,
        handled_by=complaint.handled_by, outcome=complaint.outcome,
        assignee_role=complaint.assignee_role,
        late=complaint.late_at is not None or (
            complaint.handled_at is not None and complaint.handled_at >= complaint.respond_by),
        reminded_at=complaint.reminded_at,
        escalations=list(complaint.escalations or []))
