"""Planned quality revisits (质量回访), warranty certificates (保修证书/维修卡) and retention
(存档) on real NATS and PostgreSQL with the warranty and follow-up services: the plan
follows the demo registry, planning again adds nothing, a result is recorded once, the
yearly plan runs as a workflow (time-skipping server) and as a Temporal Schedule (the dev
server: the time-skipping one has no schedules), old records are archived, not deleted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import BaseModel
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from services.cli import app as cli
from services.common.bus import Bus
from services.common.contracts import (
    WARRANTY_EXPIRIES,
)
from services.common.errors import Rejection
from services.common.followup_contracts import (
    FOLLOWUP_SUBJECTS,
    Archived,
    ArchiveRecords,
    Certificate,
    Certificates,
    Complaint,
    GetVisit,
    HandleComplaint,
    IssueCertificate,
    ListDueVisits,
    ListMissingCertificates,
    ListRevisits,
    PlanRevisits,
    PolicyView,
    PutPolicy,
    RecordRevisit,
    RecordVisit,
    Revisit,
    RevisitPlan,
    Revisits,
    Visit,
    Visits,
)
from services.common.registry_contracts import GetWarrantyExpiries, WarrantyExpiries
from services.followup.admin import plan_and_schedule
from services.followup.service import FollowupSettings
from services.followup.service import running as followup_running
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from tests.integration.test_return_visits import close_repair as repair_closed
from tests.integration.test_return_visits import visit_of
from workflows.revisit_plan.messages import RevisitPlanInput, RevisitPlanOutcome, schedule_id
from workflows.revisit_plan.workflow import RevisitPlanWorkflow
from workflows.worker import WorkerSettings, build_worker

# SH-LJ in deploy/demo/demo.yaml: building 1 completed 2023-06-30, first unit delivered
# 2023-12-18; building 2 completed 2023-09-15, delivered 2024-03-01. In 2028 the 5-year
# contractor periods (roofs, walls, wet rooms, basements, insulation) end on 2028-06-30
# and 2028-09-15 (both Fridays): their notices are due 30 days before.
FIVE_YEARS = ["basement_leakage", "exterior_wall_leakage", "external_insulation",
              "roof_leakage", "wet_room_leakage"]
SEASONAL = "roof_leakage, exterior_wall_leakage"
PLAN_2028 = [
    (date(2028, 4, 30), "1", "seasonal", SEASONAL),
    (date(2028, 4, 30), "2", "seasonal", SEASONAL),
    *[(date(2028, 5, 31), "1", "expiry_notice", f"{c}: every owner") for c in FIVE_YEARS],
    (date(2028, 6, 30), "1", "half_yearly", "whole building"),
    (date(2028, 6, 30), "2", "half_yearly", "whole building"),
    *[(date(2028, 8, 16), "2", "expiry_notice", f"{c}: every owner") for c in FIVE_YEARS],
    (date(2028, 12, 31), "1", "half_yearly", "whole building"),
    (date(2028, 12, 31), "2", "half_yearly", "whole building"),
]


class UncheckedPlan(BaseModel):
    """A PlanRevisits as a careless client sends it: the service must check it."""

    project: str
    year: int


async def services(stack: AsyncExitStack, settings: dict, temporal: Client, bus: Bus) -> None:
    await stack.enter_async_context(warranty_running(WarrantySettings(**settings)))
    await stack.enter_async_context(followup_running(FollowupSettings(**settings),
                                                     temporal=temporal))
    await stack.enter_async_context(build_worker(temporal, bus, WorkerSettings(**settings)))


@pytest.fixture
async def followup(time_skipping: WorkflowEnvironment, settings: dict, demo_database: str,
                   bus: Bus) -> AsyncIterator[Bus]:
    async with AsyncExitStack() as stack:
        await services(stack, settings, time_skipping.client, bus)
        yield bus


async def plan(bus: Bus, year: int, project: str = "SH-LJ", **scope) -> RevisitPlan:
    return await bus.ask(FOLLOWUP_SUBJECTS["plan_revisits"], PlanRevisits(
        project=project, year=year, **scope), RevisitPlan, timeout=10)


async def record(bus: Bus, revisit_id: int, at: datetime, **change) -> Revisit:
    return await bus.ask(FOLLOWUP_SUBJECTS["record_revisit"], RecordRevisit.model_validate({
        "revisit_id": revisit_id, "result": "屋面无渗漏；2单元外墙有裂缝，已报修",
        "by": "工程部 吴海涛", "at": at, **change}), Revisit)


async def test_the_registry_tells_each_building_s_handover_and_warranty_ends(followup: Bus):
    registry = await followup.ask(WARRANTY_EXPIRIES, GetWarrantyExpiries(project="SH-LJ"),
                                  WarrantyExpiries)
    one = registry.buildings[0]
    assert (one.building, one.completion_on, one.delivered_on) == (
        "1", date(2023, 6, 30), date(2023, 12, 18))
    ends = {c.warranty_category: c for c in one.categories}
    assert ends["roof_leakage"].ends_on == date(2028, 6, 30)
    assert ends["other"].ends_on == date(2025, 6, 30)  # the contract's 2 years
    assert ends["structure"].period_kind == "service_life"
    assert [u.code for u in one.units] == ["1-101", "1-1201", "1-502"]
    with pytest.raises(Rejection) as unknown:
        await followup.ask(WARRANTY_EXPIRIES, GetWarrantyExpiries(project="NOPE"),
                           WarrantyExpiries)
    assert unknown.value.status == 404 and unknown.value.code == "unknown_project"


async def test_a_year_is_planned_from_the_registry_once(followup: Bus):
    first = await plan(followup, 2028)
    assert [(r.due_on, r.building, r.kind, r.scope) for r in first.revisits] == PLAN_2028
    assert first.added == len(PLAN_2028) and first.time_zone == "Asia/Shanghai"
    assert {r.method for r in first.revisits if r.kind == "expiry_notice"} == {"letter"}
    assert all(r.status == "planned" and r.year == 2028 for r in first.revisits)
    again = await plan(followup, 2028)
    assert again.added == 0 and again.revisits == first.revisits
    listed = await followup.ask(FOLLOWUP_SUBJECTS["list_revisits"], ListRevisits(
        project="SH-LJ", year=2028, due_before=date(2028, 7, 1)), Revisits)
    assert [r.id for r in listed.revisits] == [r.id for r in first.revisits[:9]]
    # 2025: the 2-year periods and both cooling seasons end too.
    earlier = await plan(followup, 2025)
    notices = [r for r in earlier.revisits if r.kind == "expiry_notice"]
    assert (date(2025, 1, 29), "1", "heating_system: every owner") in [
        (r.due_on, r.building, r.scope) for r in notices]
    assert len(notices) == 2 + 12 + 12 + 2


async def test_bad_plans_are_refused_and_save_nothing(followup: Bus):
    with pytest.raises(Rejection) as unknown:
        await plan(followup, 2028, project="NOPE")
    assert unknown.value.status == 404 and unknown.value.field == "project"
    nothing = await followup.ask(FOLLOWUP_SUBJECTS["list_revisits"], ListRevisits(
        project="NOPE"), Revisits)
    assert nothing.revisits == []
    with pytest.raises(Rejection) as year:
        await followup.ask(FOLLOWUP_SUBJECTS["plan_revisits"], UncheckedPlan(
            project="SH-LJ", year=1999), RevisitPlan)
    assert year.value.status == 400 and year.value.field == "year"
    with pytest.raises(Rejection) as scope:
        await plan(followup, 2028, within=["BJ-YH"])
    assert scope.value.status == 403


async def test_a_revisit_s_result_is_recorded_once(followup: Bus):
    revisit = (await plan(followup, 2028)).revisits[0]
    at = datetime(2028, 4, 28, 10, tzinfo=UTC)
    with pytest.raises(Rejection) as elsewhere:
        await record(followup, revisit.id, at, within=["BJ-YH"])
    assert elsewhere.value.status == 404
    found = [str(uuid.uuid4())]
    done = await record(followup, revisit.id, at, found_repair_ids=found * 2)
    assert done.status == "done" and done.found_repair_ids == found
    assert done.done_by == "工程部 吴海涛" and done.done_at == at
    with pytest.raises(Rejection) as twice:
        await record(followup, revisit.id, at + timedelta(days=1))
    assert twice.value.code == "already_recorded" and twice.value.status == 409
    with pytest.raises(Rejection) as unknown:
        await record(followup, 10**9, at)
    assert unknown.value.code == "unknown_revisit" and unknown.value.status == 404
    made = await followup.ask(FOLLOWUP_SUBJECTS["list_revisits"], ListRevisits(
        project="SH-LJ", status="done"), Revisits)
    assert [r.id for r in made.revisits] == [revisit.id]
    assert (await plan(followup, 2028)).revisits[0] == done  # planning again keeps it


async def test_the_revisit_plan_workflow_plans_the_next_year(
        time_skipping: WorkflowEnvironment, followup: Bus, task_queue: str):
    outcome = await time_skipping.client.execute_workflow(
        RevisitPlanWorkflow.run, RevisitPlanInput(project="SH-LJ"),
        id=f"revisit-plan-test-{uuid.uuid4()}", task_queue=task_queue)
    year = (await time_skipping.get_current_time()).year + 1
    assert isinstance(outcome, RevisitPlanOutcome)
    assert (outcome.project, outcome.year) == ("SH-LJ", year)
    assert outcome.added == outcome.revisits > 0
    stored = await followup.ask(FOLLOWUP_SUBJECTS["list_revisits"], ListRevisits(
        project="SH-LJ", year=year), Revisits)
    assert len(stored.revisits) == outcome.revisits
    with pytest.raises(WorkflowFailureError) as failed:
        await time_skipping.client.execute_workflow(
            RevisitPlanWorkflow.run, RevisitPlanInput(project="NOPE", year=2028),
            id=f"revisit-plan-test-{uuid.uuid4()}", task_queue=task_queue)
    cause = failed.value.cause.cause
    assert isinstance(cause, ApplicationError) and cause.type == "Rejection"


async def test_planning_creates_the_project_s_yearly_schedule(
        temporal_client: Client, settings: dict, demo_database: str, bus: Bus,
        task_queue: str):
    handle = temporal_client.get_schedule_handle(schedule_id("SH-LJ"))
    async with AsyncExitStack() as stack:
        await services(stack, settings, temporal_client, bus)
        try:
            outcome = await plan_and_schedule(bus=bus, temporal=temporal_client,
                                              project="SH-LJ", year=2028,
                                              task_queue=task_queue)
            assert outcome.schedule_id == "revisit-plan-SH-LJ", outcome.schedule_error
            assert len(outcome.plan.revisits) == len(PLAN_2028)
            again = await plan_and_schedule(bus=bus, temporal=temporal_client,
                                            project="SH-LJ", year=2028,
                                            task_queue=task_queue)
            assert again.schedule_id == outcome.schedule_id and again.plan.added == 0
            described = await handle.describe()
            (calendar,) = described.schedule.spec.calendars
            assert [(r.start, r.end) for r in calendar.month] == [(12, 12)]
            assert [(r.start, r.end) for r in calendar.day_of_month] == [(1, 1)]
            assert described.schedule.spec.time_zone_name == "Asia/Shanghai"
            assert described.schedule.action.workflow == "RevisitPlanWorkflow"
            assert described.schedule.action.task_queue == task_queue
            # Run it now instead of on 1 December: the next year gets planned.
            await handle.trigger()
            run = None
            for _ in range(100):
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    run = actions[-1].action
                    break
                await asyncio.sleep(0.1)
            assert run is not None, "the schedule started nothing"
            done = await temporal_client.get_workflow_handle(
                run.workflow_id, run_id=run.first_execution_run_id).result()
            year = datetime.now(UTC).year + 1
            assert done["year"] == year and done["revisits"] > 0
            stored = await bus.ask(FOLLOWUP_SUBJECTS["list_revisits"], ListRevisits(
                project="SH-LJ", year=year), Revisits)
            assert len(stored.revisits) == done["revisits"]
        finally:
            await handle.delete()


async def test_the_command_line_plans_prints_and_refuses_bad_input(
        temporal_client: Client, settings: dict, demo_database: str, bus: Bus,
        task_queue: str):
    env = {"DATABASE_URL": demo_database, "NATS_URL": settings["nats_url"],
           "REPAIRFLOW_NATS_PREFIX": settings["nats_prefix"],
           "TEMPORAL_ADDRESS": settings["temporal_address"], "REPAIRFLOW_TASK_QUEUE": task_queue}

    async def run(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, cli, ["followup", *args], env=env)

    async with AsyncExitStack() as stack:
        await services(stack, settings, temporal_client, bus)
        try:
            planned = await run("plan", "--project", "SH-LJ", "--year", "2028")
            assert planned.exit_code == 0, planned.output
            # The services run in this process: their log lines may interleave.
            lines = [line for line in planned.output.splitlines() if "[info" not in line]
            assert lines[0].split()[:4] == ["id", "due", "on", "building"]
            assert sum("expiry_notice" in line for line in lines) == 10
            assert "schedule revisit-plan-SH-LJ" in planned.output
            unknown = await run("plan", "--project", "NOPE", "--year", "2028")
            assert unknown.exit_code == 1 and "Unknown project 'NOPE'" in unknown.output
            early = await run("plan", "--project", "SH-LJ", "--year", "1999")
            assert early.exit_code == 2 and "between 2000 and 2100" in early.output
            archived = await run("archive", "--project", "SH-LJ")
            assert archived.exit_code == 0 and "archived 0 records" in archived.output
            nowhere = await run("archive", "--project", "NOPE")
            assert nowhere.exit_code == 1 and "NOPE" in nowhere.output
            garbled = await run("archive", "--as-of", "yesterday")
            assert garbled.exit_code == 2 and "ISO 8601" in garbled.output
        finally:
            await temporal_client.get_schedule_handle(schedule_id("SH-LJ")).delete()


async def close_repair(bus: Bus, at: datetime) -> Visit:
    """A repair closed at `at`, and its return visit (the first of a quarter is chosen)."""
    return await visit_of(bus, await repair_closed(bus, at))


def unsatisfied(at: datetime) -> dict:
    return {"method": "phone", "quality": 2, "effect": 2, "satisfaction": 2,
            "satisfied": False, "shortcomings": "仍有渗水", "owner_confirmed": True,
            "by": "客服 王敏", "at": at.isoformat()}


async def archive(bus: Bus, as_of: datetime, project: str | None = "SH-LJ") -> Archived:
    return await bus.ask(FOLLOWUP_SUBJECTS["archive"], ArchiveRecords(
        project=project, as_of=as_of), Archived)


async def test_records_past_retention_are_archived_not_deleted(
        time_skipping: WorkflowEnvironment, followup: Bus):
    now = await time_skipping.get_current_time()
    await followup.ask(FOLLOWUP_SUBJECTS["put_policy"], PutPolicy(
        project="SH-LJ", policy={"rates": {"repair": 1.0}}), PolicyView)  # every job visited
    # Three years ago: a visit made, its unsatisfied owner's complaint handled.
    old = await close_repair(followup, now - timedelta(days=3 * 365))
    made = await followup.ask(FOLLOWUP_SUBJECTS["record"], RecordVisit.model_validate({
        "visit_id": old.id, "result": unsatisfied(old.opens_at)}), Visit)
    complaint = await followup.ask(FOLLOWUP_SUBJECTS["handle_complaint"], HandleComplaint(
        complaint_id=f"visit-{made.id}", by="经理 孙强", at=old.opens_at + timedelta(days=1),
        outcome="返修"), Complaint)
    assert complaint.handled_at is not None
    # A revisit made three years ago, one made now, and a visit still to make.
    old_year = (now - timedelta(days=3 * 365)).year
    then = (await plan(followup, old_year)).revisits[0]
    await record(followup, then.id, now - timedelta(days=3 * 365))
    recent = (await plan(followup, now.year)).revisits[0]
    await record(followup, recent.id, now)
    fresh = await close_repair(followup, now)

    # Kept four years, nothing is old enough yet.
    await followup.ask(FOLLOWUP_SUBJECTS["put_policy"], PutPolicy(
        project="SH-LJ", policy={"retention": {"years": 4}}), PolicyView)
    assert (await archive(followup, now)).total == 0
    await followup.ask(FOLLOWUP_SUBJECTS["put_policy"], PutPolicy(project="SH-LJ", policy={}),
                       PolicyView)
    done = await archive(followup, now)
    (row,) = done.projects
    assert (row.project, row.retention_years) == ("SH-LJ", 2)
    assert (row.visits, row.revisits, row.complaints) == (1, 1, 1)
    assert (await archive(followup, now, project=None)).total == 0  # once

    visits = await followup.ask(FOLLOWUP_SUBJECTS["due"], ListDueVisits(
        project="SH-LJ", include_done=True, limit=1000), Visits)
    ids = {v.id for v in visits.visits}
    assert old.id not in ids and fresh.id in ids
    assert f"complaint-{complaint.id}" in ids  # open work is never archived
    revisits = await followup.ask(FOLLOWUP_SUBJECTS["list_revisits"], ListRevisits(
        project="SH-LJ", status="done"), Revisits)
    assert [r.id for r in revisits.revisits] == [recent.id]
    # Archived, not deleted: the record is still there.
    kept = await followup.ask(FOLLOWUP_SUBJECTS["get"], GetVisit(visit_id=old.id), Visit)
    assert kept.status == "done"
    with pytest.raises(Rejection) as unknown:
        await archive(followup, now, project="NOPE")
    assert unknown.value.status == 404


async def issue(bus: Bus, unit: str, on: date, building: str = "1") -> Certificate:
    return await bus.ask(FOLLOWUP_SUBJECTS["issue_certificate"], IssueCertificate(
        project="SH-LJ", building=building, unit=unit, issued_on=on, by="客服 王敏"),
        Certificate)


async def missing(bus: Bus, as_of: date, **options) -> list[tuple[str, date, bool]]:
    listed = await bus.ask(FOLLOWUP_SUBJECTS["missing_certificates"], ListMissingCertificates(
        project="SH-LJ", as_of=as_of, **options), Certificates)
    return [(c.unit, c.due_on, c.overdue) for c in listed.certificates]


async def test_certificates_not_issued_are_listed(followup: Bus):
    # Due within a month of the building's completion (竣工一个月内, 002 篇4 §3): building 1
    # completed 2023-06-30, building 2 2023-09-15, whenever their units were delivered.
    assert await missing(followup, date(2023, 8, 1)) == [
        ("1-101", date(2023, 7, 30), True), ("1-1201", date(2023, 7, 30), True),
        ("1-502", date(2023, 7, 30), True),
        ("2-301", date(2023, 10, 15), False), ("2-902", date(2023, 10, 15), False)]
    issued = await issue(followup, "2-301", date(2024, 3, 1), building="2")  # delivered then
    assert issued.issued_on == date(2024, 3, 1) and issued.due_on == date(2023, 10, 15)
    assert issued.overdue  # delivered after the month: the certificate could not be in time
    assert await issue(followup, "2-301", date(2024, 3, 1), building="2") == issued  # a retry
    with pytest.raises(Rejection) as twice:
        await issue(followup, "2-301", date(2024, 3, 2), building="2")
    assert twice.value.code == "already_issued" and twice.value.status == 409
    with pytest.raises(Rejection) as early:
        await issue(followup, "1-502", date(2023, 12, 1))  # delivered 2023-12-18
    assert early.value.code == "issued_before_delivery"
    with pytest.raises(Rejection) as unknown:
        await issue(followup, "9-999", date(2024, 1, 1))
    assert unknown.value.code == "unknown_unit" and unknown.value.status == 404
    await issue(followup, "1-502", date(2023, 12, 18))
    assert await missing(followup, date(2023, 10, 1), overdue_only=True) == [
        ("1-101", date(2023, 7, 30), True), ("1-1201", date(2023, 7, 30), True)]
    # Planning counts them too.
    assert (await plan(followup, 2028)).certificates_missing == 3
