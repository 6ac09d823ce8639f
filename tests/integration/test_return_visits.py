"""Return visits (回访) on real NATS, PostgreSQL and the time-skipping Temporal server: the
follow-up service follows the repairs' events, chooses visits to keep the rate, and each
chosen visit's workflow reminds, marks it late and escalates; results, complaints,
corrective actions and the quarter's statistics."""

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
    GetStatistics,
    GetVisit,
    HandleComplaint,
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
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from workflows.return_visit.messages import ReturnVisitOutcome, workflow_id
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
                       category: str = "LK-WET") -> str:
    """A repair reported and closed (the owner accepted it) at `at`, as its events say."""
    repair_id = str(uuid.uuid4())
    await bus.publish_event(REPAIR_REPORTED, RepairReported(
        repair_id=repair_id, ticket="SH-LJ-000001", project="SH-LJ", building="1", unit=unit,
        common_area=None if unit else "地下车库", category=category, priority="routine",
        channel="hotline", reported_at=at - timedelta(days=2),
        arrive_by=at - timedelta(days=2)), msg_id=f"{repair_id}:reported")
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
    # All complaints are visited, within 3 days, by the center with the department head.
    assert follow.status == "due" and follow.kind == "complaint"
    assert follow.closes_at - handled_at <= timedelta(days=4)
    assert follow.assignee_role == "center_supervisor"


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
