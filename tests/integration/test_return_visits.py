"""Return visits (回访) on real NATS, PostgreSQL and the time-skipping Temporal server: the
follow-up service follows the repairs' events, chooses visits to keep the rate, and each
chosen visit's workflow reminds, marks it late and escalates; results, complaints (with
their 24-hour response deadline, kept the same way), corrective actions and the quarter's
statistics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel
from temporalio.testing import WorkflowEnvironment

from services.common.bus import Bus
from services.common.contracts import (
    REPAIR_PROGRESSED,
    REPAIR_REPORTED,
    RepairProgressed,
    RepairReported,
)
from services.common.errors import Rejection
from services.common.followup_contracts import (
    FOLLOWUP_SUBJECTS,
    Complaint,
    Complaints,
    GetComplaint,
    GetStatistics,
    GetVisit,
    HandleComplaint,
    ListComplaints,
    ListDueVisits,
    PolicyView,
    PutPolicy,
    RecordVisit,
    Statistics,
    Visit,
    Visits,
)
from services.followup.service import FollowupSettings
from services.followup.service import running as followup_running
from services.followup.visits import add_months
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from workflows.return_visit.messages import (
    ReturnVisitOutcome,
    complaint_workflow_id,
    workflow_id,
)
from workflows.return_visit.workflow import ReturnVisitWorkflow
from workflows.worker import WorkerSettings, build_worker

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Unchecked(BaseModel):
    """A RecordVisit as a careless client sends it: the service must check it."""

    visit_id: str
    result: dict


@pytest.fixture
async def followup(time_skipping: WorkflowEnvironment, settings: dict, demo_database: str,
                   bus: Bus) -> AsyncIterator[Bus]:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(warranty_running(WarrantySettings(**settings)))
        await stack.enter_async_context(followup_running(FollowupSettings(**settings),
                                                         temporal=time_skipping.client))
        await stack.enter_async_context(build_worker(time_skipping.client, bus,
                                                     WorkerSettings(**settings)))
        yield bus


async def close_repair(bus: Bus, at: datetime, *, unit: str | None = "1-502",
                       category: str = "LK-WET", common_area: str = "地下车库",
                       completed: list[datetime] = ()) -> str:
    """A repair reported, completed at each of `completed` (after a rework, again) and
    closed (the owner accepted it) at `at`, as its events say."""
    repair_id = str(uuid.uuid4())
    await bus.publish_event(REPAIR_REPORTED, RepairReported(
        repair_id=repair_id, ticket="SH-LJ-000001", project="SH-LJ", building="1", unit=unit,
        common_area=None if unit else common_area, category=category, priority="routine",
        channel="hotline", reported_at=at - timedelta(days=30),
        arrive_by=at - timedelta(days=30)), msg_id=f"{repair_id}:reported")
    for n, moment in enumerate(completed, start=5):
        await bus.publish_event(REPAIR_PROGRESSED, RepairProgressed(
            repair_id=repair_id, project="SH-LJ", sequence=n, status="completed",
            kind="completed", at=moment, by="T-SH-01", detail="更换角阀",
            technician_id="T-SH-01"), msg_id=f"{repair_id}:{n}")
    await bus.publish_event(REPAIR_PROGRESSED, RepairProgressed(
        repair_id=repair_id, project="SH-LJ", sequence=9, status="closed", kind="closed",
        at=at, by="王芳", detail="the owner accepted the work", technician_id="T-SH-01",
        overdue=False, arrive_by=at - timedelta(days=2)), msg_id=f"{repair_id}:9")
    return repair_id


async def visit_of(bus: Bus, repair_id: str) -> Visit:
    for _ in range(100):
        try:
            return await bus.ask(FOLLOWUP_SUBJECTS["get"], GetVisit(
                visit_id=f"repair-{repair_id}"), Visit)
        except Rejection:
            await asyncio.sleep(0.1)
    raise AssertionError(f"no visit for {repair_id}")


async def past(env: WorkflowEnvironment, moment: datetime) -> None:
    """Skip the test server's clock past `moment` (the workflow's timers fire on the way)."""
    await env.sleep(moment - await env.get_current_time() + timedelta(minutes=1))


async def outcome_of(env: WorkflowEnvironment, visit: Visit) -> ReturnVisitOutcome:
    handle = env.client.get_workflow_handle_for(ReturnVisitWorkflow.run, workflow_id(visit.id))
    return await handle.result()


def result(at: datetime, **change) -> dict:
    return {"method": "phone", "quality": 5, "effect": 5, "satisfaction": 5, "satisfied": True,
            "owner_confirmed": True, "by": "客服 王敏", "at": at.isoformat(), **change}


async def record(bus: Bus, visit: Visit, at: datetime, **change) -> Visit:
    return await bus.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit.model_validate({
        "visit_id": visit.id, "result": result(at, **change)}), Visit)


async def complaint_of(bus: Bus, complaint_id: str) -> Complaint:
    return await bus.ask(FOLLOWUP_SUBJECTS["get_complaint"], GetComplaint(
        complaint_id=complaint_id), Complaint)


async def statistics_of(bus: Bus, moment: datetime) -> Statistics:
    local = moment.astimezone(SHANGHAI)
    return await bus.ask(FOLLOWUP_SUBJECTS["statistics"], GetStatistics(
        project="SH-LJ", year=local.year, quarter=(local.month - 1) // 3 + 1), Statistics)


async def test_the_visited_share_meets_the_rate_at_every_point(
        time_skipping: WorkflowEnvironment, followup: Bus):
    now = await time_skipping.get_current_time()
    chosen = []
    for n in range(10):
        visit = await visit_of(followup, await close_repair(followup, now + timedelta(
            minutes=n), unit=None))
        chosen.append(visit.status == "due")
        assert sum(chosen) >= 0.8 * len(chosen), chosen
    assert sum(chosen) == 8  # ceil(0.8 × 10): never more than the rate needs


async def test_a_visit_not_made_is_reminded_late_and_escalated(
        time_skipping: WorkflowEnvironment, followup: Bus):
    closed_at = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    visit = await visit_of(followup, await close_repair(followup, closed_at))
    assert visit.status == "due" and visit.kind == "repair"  # the first job is always chosen
    # From a month after the work to the end of the day two months after (002 篇1 §4.1.1).
    assert visit.opens_at.date() > closed_at.date() + timedelta(days=27)
    assert visit.closes_at - visit.opens_at > timedelta(days=27)
    await past(time_skipping, visit.closes_at + timedelta(days=2))
    outcome = await outcome_of(time_skipping, visit)
    assert outcome.outcome == "late" and outcome.reminded
    assert outcome.escalated_to == ["center_supervisor", "manager"]
    after = await followup.ask(FOLLOWUP_SUBJECTS["get"], GetVisit(visit_id=visit.id), Visit)
    assert after.late and after.reminded_at is not None
    assert [e.role for e in after.escalations] == ["center_supervisor", "manager"]
    # A late visit is still recorded, and stays late.
    made = await followup.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit.model_validate({
        "visit_id": visit.id, "result": result(after.escalations[-1].at)}), Visit)
    assert made.status == "done" and made.late


async def test_a_visit_made_in_its_window_ends_its_deadlines(
        time_skipping: WorkflowEnvironment, followup: Bus):
    closed_at = await time_skipping.get_current_time()
    visit = await visit_of(followup, await close_repair(followup, closed_at))
    with pytest.raises(Rejection) as early:
        await followup.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit.model_validate({
            "visit_id": visit.id, "result": result(closed_at + timedelta(days=3))}), Visit)
    assert early.value.code == "visit_not_due"
    with pytest.raises(Rejection) as out_of_range:
        await followup.ask(FOLLOWUP_SUBJECTS["record"], Unchecked(
            visit_id=visit.id, result=result(visit.opens_at, satisfaction=9)), Visit)
    assert out_of_range.value.status == 400 and "satisfaction" in out_of_range.value.field
    made = await followup.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit.model_validate({
        "visit_id": visit.id, "result": result(visit.opens_at + timedelta(days=1))}), Visit)
    assert made.status == "done" and not made.late
    with pytest.raises(Rejection) as twice:
        await followup.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit.model_validate({
            "visit_id": visit.id, "result": result(visit.opens_at + timedelta(days=2))}), Visit)
    assert twice.value.code == "already_recorded"
    await past(time_skipping, visit.closes_at)
    outcome = await outcome_of(time_skipping, visit)
    assert outcome.outcome == "done" and outcome.escalated_to == []
    due = await followup.ask(FOLLOWUP_SUBJECTS["due"], ListDueVisits(project="SH-LJ"), Visits)
    assert visit.id not in [v.id for v in due.visits]


async def test_an_unsatisfied_owner_opens_a_complaint_whose_handling_is_visited(
        time_skipping: WorkflowEnvironment, followup: Bus):
    closed_at = await time_skipping.get_current_time()
    visit = await visit_of(followup, await close_repair(followup, closed_at))
    await followup.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit.model_validate({
        "visit_id": visit.id, "result": result(visit.opens_at, satisfaction=2,
                                               satisfied=False, shortcomings="仍有渗水")}),
        Visit)
    handled_at = visit.opens_at + timedelta(days=1)
    complaint = await followup.ask(FOLLOWUP_SUBJECTS["handle_complaint"], HandleComplaint(
        complaint_id=f"visit-{visit.id}", by="经理 孙强", at=handled_at,
        outcome="返修并赔偿"), Complaint)
    assert complaint.assignee_role == "manager" and complaint.handled_by == "经理 孙强"
    follow = await followup.ask(FOLLOWUP_SUBJECTS["get"], GetVisit(
        visit_id=f"complaint-{complaint.id}"), Visit)
    # All complaints are visited, within 3 days; an ordinary one by the complained-of
    # department's head together with the center's specialist (002 篇1 §4.1.3 b).
    assert follow.status == "due" and follow.kind == "complaint"
    assert follow.closes_at - handled_at <= timedelta(days=4)
    assert (follow.assignee_role, follow.joint_role) == ("department_head",
                                                         "customer_specialist")
    # A major one (very unsatisfied) by the manager (a).
    other = await visit_of(followup, await close_repair(followup, closed_at))
    await record(followup, other, other.opens_at, satisfaction=1, satisfied=False)
    major = await followup.ask(FOLLOWUP_SUBJECTS["handle_complaint"], HandleComplaint(
        complaint_id=f"visit-{other.id}", by="经理 孙强", at=handled_at,
        outcome="返修并赔偿"), Complaint)
    assert major.major
    visit = await followup.ask(FOLLOWUP_SUBJECTS["get"], GetVisit(
        visit_id=f"complaint-{major.id}"), Visit)
    assert (visit.assignee_role, visit.joint_role) == ("manager", None)


async def test_a_complaint_not_answered_within_24_hours_is_late_and_escalated(
        time_skipping: WorkflowEnvironment, followup: Bus):
    closed_at = await time_skipping.get_current_time()
    late_visit, prompt_visit = [await visit_of(followup, await close_repair(followup, closed_at))
                                for _ in range(2)]
    await past(time_skipping, late_visit.opens_at)
    opened_at = await time_skipping.get_current_time()
    for visit in (late_visit, prompt_visit):
        await record(followup, visit, opened_at, satisfaction=2, satisfied=False)
    late = await complaint_of(followup, f"visit-{late_visit.id}")
    assert late.respond_by == opened_at + timedelta(hours=24)  # 004 紧急维修制度 §8.2
    assert not late.late and late.escalations == []
    # One is answered within hours: its deadlines end, it is not late.
    prompt = await followup.ask(FOLLOWUP_SUBJECTS["handle_complaint"], HandleComplaint(
        complaint_id=f"visit-{prompt_visit.id}", by="经理 孙强",
        at=opened_at + timedelta(hours=3), outcome="返修"), Complaint)
    assert not prompt.late and prompt.respond_by == late.respond_by
    waiting = await followup.ask(FOLLOWUP_SUBJECTS["list_complaints"], ListComplaints(
        project="SH-LJ"), Complaints)
    assert [c.id for c in waiting.complaints] == [late.id]

    # The other is not: reminded, late at its deadline, then up the chain a day apart.
    await past(time_skipping, late.respond_by + timedelta(days=1))
    handle = time_skipping.client.get_workflow_handle_for(
        ReturnVisitWorkflow.run, complaint_workflow_id(late.id))
    outcome = await handle.result()
    assert outcome.outcome == "late" and outcome.reminded
    assert outcome.escalated_to == ["property_director", "company_leader"]
    after = await complaint_of(followup, late.id)
    assert after.late and after.handled_at is None and after.reminded_at is not None
    assert [e.role for e in after.escalations] == ["property_director", "company_leader"]
    for escalation, due in zip(after.escalations, (late.respond_by, late.respond_by +
                                                   timedelta(days=1)), strict=True):
        assert due <= escalation.at < due + timedelta(minutes=1)
    overdue = await followup.ask(FOLLOWUP_SUBJECTS["list_complaints"], ListComplaints(
        project="SH-LJ", late_only=True), Complaints)
    assert [c.id for c in overdue.complaints] == [late.id]
    answered = await time_skipping.client.get_workflow_handle_for(
        ReturnVisitWorkflow.run, complaint_workflow_id(prompt.id)).result()
    assert answered.outcome == "done" and answered.escalated_to == []

    # The quarter counts the late response, and it stays late once handled.
    counted = (await statistics_of(followup, opened_at)).complaint_responses
    assert (counted.opened, counted.on_time, counted.overdue, counted.late_ids) == (
        2, 1, 1, [late.id])
    handled = await followup.ask(FOLLOWUP_SUBJECTS["handle_complaint"], HandleComplaint(
        complaint_id=late.id, by="经理 孙强", at=await time_skipping.get_current_time(),
        outcome="返修"), Complaint)
    assert handled.late
    counted = (await statistics_of(followup, opened_at)).complaint_responses
    assert (counted.handled, counted.on_time, counted.late_handled, counted.late) == (
        2, 1, 1, 1)


async def test_the_window_counts_from_the_repair_s_last_completion(
        time_skipping: WorkflowEnvironment, followup: Bus):
    now = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    first, again = now - timedelta(days=40), now - timedelta(days=12)  # reworked once
    visit = await visit_of(followup, await close_repair(followup, now,
                                                        completed=[first, again]))
    # 完成维修工程一个月后，两个月内: from the completion, not the owner's sign-off.
    assert visit.served_at == again
    assert visit.opens_at.astimezone(SHANGHAI).date() == add_months(again.date(), 1)
    assert visit.closes_at.astimezone(SHANGHAI).date() == add_months(again.date(), 2) + \
        timedelta(days=1)


async def test_a_quarter_the_sampler_kept_at_the_rate_shows_it_met(
        time_skipping: WorkflowEnvironment, followup: Bus):
    year = (await time_skipping.get_current_time()).year - 1
    # Four repairs 5-8 January, one 10 February (its window closes 11 April), one 1 April.
    served = [datetime(year, 1, day, 10, tzinfo=SHANGHAI) for day in range(5, 9)]
    served += [datetime(year, 2, 10, 10, tzinfo=SHANGHAI), datetime(year, 4, 1, 10,
                                                                     tzinfo=SHANGHAI)]
    visits = [await visit_of(followup, await close_repair(followup, moment, unit=None))
              for moment in served]
    assert [v.status for v in visits] == ["due"] * 4 + ["not_selected", "due"]
    for visit in visits:
        if visit.status == "due":  # every chosen visit made on time
            await record(followup, visit, visit.opens_at + timedelta(hours=10))
    rows = {}
    for month in (1, 4):
        statistics = await statistics_of(followup, datetime(year, month, 15, tzinfo=SHANGHAI))
        rows[month] = next(k for k in statistics.kinds if k.kind == "repair")
    assert (rows[1].eligible, rows[1].on_time, rows[1].rate, rows[1].met) == (5, 4, 0.8, True)
    assert (rows[4].eligible, rows[4].on_time, rows[4].rate, rows[4].met) == (1, 1, 1.0, True)


async def test_a_lift_repaired_three_times_opens_a_corrective_action(
        time_skipping: WorkflowEnvironment, followup: Bus):
    start = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    ids = [await close_repair(followup, start + timedelta(days=n), unit=None,
                              common_area="1号电梯", category="LIFT") for n in range(3)]
    await close_repair(followup, start, unit=None, common_area="2号电梯", category="LIFT")
    for repair_id in ids:
        await visit_of(followup, repair_id)
    statistics = await statistics_of(followup, start + timedelta(days=2))
    (action,) = [a for a in statistics.corrective_actions if a.category == "LIFT"]
    assert (action.building, action.unit, action.common_area) == ("1", None, "1号电梯")
    assert sorted(action.repair_ids) == sorted(ids)
    assert action.owner == "technical_department"


async def test_the_same_repair_three_times_opens_a_corrective_action(
        time_skipping: WorkflowEnvironment, followup: Bus):
    start = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    ids = [await close_repair(followup, start + timedelta(days=n), unit="2-1101",
                              category="LK-ROOF") for n in range(3)]
    for repair_id in ids:
        await visit_of(followup, repair_id)
    local = start + timedelta(days=2)
    statistics = await followup.ask(FOLLOWUP_SUBJECTS["statistics"], GetStatistics(
        project="SH-LJ", year=local.year, quarter=(local.month - 1) // 3 + 1), Statistics)
    actions = [a for a in statistics.corrective_actions if a.unit == "2-1101"]
    assert len(actions) == 1 and sorted(actions[0].repair_ids) == sorted(ids)
    assert actions[0].owner == "technical_department"
    repair_row = next(k for k in statistics.kinds if k.kind == "repair")
    assert repair_row.target == 0.8


async def test_visits_go_to_the_projects_specialists_fewest_first(
        time_skipping: WorkflowEnvironment, followup: Bus):
    specialists = ["客服 王敏", "客服 李静"]
    with pytest.raises(Rejection) as bad:
        await followup.ask(FOLLOWUP_SUBJECTS["put_policy"], PutPolicy(
            project="SH-LJ", policy={"rates": {"repair": 1.5}}), PolicyView)
    assert bad.value.status == 422 and bad.value.field == "policy.rates.repair"
    saved = await followup.ask(FOLLOWUP_SUBJECTS["put_policy"], PutPolicy(
        project="SH-LJ", policy={"specialists": specialists, "rates": {"repair": 1.0}}),
        PolicyView)
    assert saved.policy["windows"]["complaint"]["closes_days"] == 3  # defaults filled in
    now = await time_skipping.get_current_time()
    visits = [await visit_of(followup, await close_repair(followup, now + timedelta(minutes=n)))
              for n in range(4)]
    assert [v.assignee for v in visits] == specialists * 2
    mine = await followup.ask(FOLLOWUP_SUBJECTS["due"], ListDueVisits(
        project="SH-LJ", assignee="客服 李静"), Visits)
    assert {v.id for v in mine.visits} == {visits[1].id, visits[3].id}
    # Another project's key sees none of them.
    other = await followup.ask(FOLLOWUP_SUBJECTS["due"], ListDueVisits(within=["BJ-YH"]),
                               Visits)
    assert other.visits == []
