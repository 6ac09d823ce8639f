"""HTTP endpoints of intake, the front door for call centers, apps and the console."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from services.common.bus import Bus
from services.common.contracts import (
    WARRANTY_GET_PROJECT,
    WARRANTY_LOCATE,
    LocateReport,
    Priority,
    ReportLocated,
)
from services.common.errors import Rejection
from services.common.failpoints import failpoint
from services.common.registry_contracts import GetProject, ProjectIn
from services.intake import photos, report_body, repository, service
from services.intake.auth import Authorized, Caller, ProjectDirectory, RateLimits
from services.intake.models import IdempotencyKey, Photo, Repair, RepairCall, RepairStep
from services.intake.outbox import OutboxRelay
from services.intake.report_body import Submission, read_submission
from services.intake.schemas import (
    DUPLICATE_EXAMPLE,
    Deadlines,
    IntakeSettingsIn,
    RepairGuaranteeView,
    RepairPage,
    RepairView,
    Reporter,
    ServiceLevels,
    TimelineEntry,
    normalise_phone,
)
from services.intake.storage import AttachmentStore

log = structlog.get_logger(__name__)
router = APIRouter()
operations = APIRouter()  # unauthenticated: load balancers and monitoring probe it


@dataclass(frozen=True)
class Runtime:
    """What the endpoints need, built once by the app's lifespan (see app.py)."""

    sessions: async_sessionmaker
    bus: Bus
    temporal: Client
    relay: OutboxRelay
    store: AttachmentStore
    photo_max_bytes: int
    directory: ProjectDirectory
    rate_limits: RateLimits


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


Rt = Annotated[Runtime, Depends(runtime)]
RepairId = Annotated[str, Path(description="The repair's `id` (not its ticket).",
                               examples=["5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"])]
ProjectCode = Annotated[str, Path(description="A project's code.", examples=["SH-LJ"])]


@router.post(
    "/v1/repairs", status_code=status.HTTP_201_CREATED, response_model=RepairView,
    tags=["repairs"], summary="Report a defect (报修)",
    responses={200: {"model": RepairView, "description": "Folded into an open repair of the "
                     "same place and category (`duplicate_of` is set), or a replay of an "
                     "Idempotency-Key that got a 200.",
                     "content": {"application/json": {"example": DUPLICATE_EXAMPLE}}},
               409: {"description": "The Idempotency-Key was used with another body."}},
    openapi_extra=report_body.OPENAPI,
)
async def report_repair(
    rt: Rt, caller: Authorized, response: Response,
    submission: Annotated[Submission, Depends(read_submission)],
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=200,
        description="Send the same key when retrying: the same repair comes back.")] = None,
) -> RepairView:
    """Record a report and start its repair. A 201 means it is stored and will not be lost.
    A report of the same place and category as an open repair, within the project's
    window, is attached to that repair instead (200, `duplicate_of`). Sent as multipart, the
    report (the `report` part) comes with its photos (`photos` parts), kept with the
    repair it is recorded on."""
    command = submission.report
    if command.unit is not None and command.common_area is not None:
        raise Rejection(
            "place_ambiguous", "Give either a unit or a common area, not both.",
            "房号和公共区域只能填写一项。", "common_area", 422,
        )
    await caller.require(command.project, status=422)
    fingerprint = service.request_hash(command, photos=[p.sha256 for p in submission.photos])
    if idempotency_key:  # a retry gets its answer even if the registry changed meanwhile
        async with rt.sessions() as session:
            replayed = await _replay(session, caller, idempotency_key, fingerprint, response)
        if replayed is not None:
            return replayed
    located = await rt.bus.ask(
        WARRANTY_LOCATE,
        LocateReport(project=command.project, building=command.building, unit=command.unit,
                     common_area=command.common_area, category=command.category),
        ReportLocated,
    )
    received_at = datetime.now(UTC)
    created = False
    async with rt.sessions.begin() as session:
        if idempotency_key:
            await repository.lock(session=session, key=f"idem|{caller.key_id}|{idempotency_key}")
            replayed = await _replay(session, caller, idempotency_key, fingerprint, response)
            if replayed is not None:
                return replayed
        await repository.lock(session=session, key="place|" + "|".join(
            str(x) for x in (located.project, located.building, located.unit,
                             located.common_area, located.category)))
        window = await repository.duplicate_window(session=session, project=located.project)
        repair = await repository.open_repair_of_place(
            session=session, project=located.project, building=located.building,
            unit=located.unit, common_area=located.common_area, category=located.category,
            since=received_at - window)
        raised = False
        if repair is not None:
            service.attach_call(session=session, repair=repair, command=command,
                                received_at=received_at)
            raised = await service.raise_to_emergency(session=session, repair=repair,
                                                      command=command, located=located,
                                                      received_at=received_at)
        else:
            repair = await service.record_report(
                session=session, command=command, located=located, received_at=received_at)
            created = True
        await photos.keep(store=rt.store, session=session, repair_id=repair.id,
                          photos=submission.photos, uploaded_at=received_at)
        if idempotency_key:
            session.add(IdempotencyKey(
                scope=caller.key_id, key=idempotency_key, request_hash=fingerprint,
                repair_id=repair.id, status_code=201 if created else 200))
        await session.flush()
        result = await _view_with_calls(session, repair, duplicate=not created)
    structlog.contextvars.bind_contextvars(repair_id=repair.id)
    if not created:
        log.info("repeat report attached", ticket=repair.ticket, raised_to_emergency=raised)
        response.status_code = status.HTTP_200_OK
        if raised:
            await _deliver(rt, repair.id)
        return result
    log.info("repair reported", ticket=repair.ticket, priority=repair.priority)
    failpoint("intake.after_commit")
    # Deliver now so that the workflow normally exists when the caller gets the 201.
    await _deliver(rt, repair.id)
    return result


async def _deliver(rt: Runtime, repair_id: str) -> None:
    """What the commit owes, delivered now; accepted whatever happens here: the relay loop
    retries (outbox.py)."""
    try:
        await rt.relay.deliver(repair_id=repair_id)
    except Exception as exc:  # noqa: BLE001 - stored is accepted; delivery can wait
        log.warning("delivery after commit failed; the relay will retry", error=repr(exc))


async def _replay(session, caller: Caller, key: str, fingerprint: str, response: Response
                  ) -> RepairView | None:
    """The stored answer to an earlier request with this Idempotency-Key, if there is one;
    409 if that request had another body."""
    prior = await repository.get_idempotency(session=session, scope=caller.key_id, key=key)
    if prior is None:
        return None
    if prior.request_hash != fingerprint:
        raise Rejection("idempotency_key_reused",
                        "This Idempotency-Key was used for a different report.",
                        "该幂等键已用于另一份不同的报修。", "Idempotency-Key", 409)
    repair = await repository.get_repair(session=session, repair_id=prior.repair_id)
    assert repair is not None
    response.status_code = prior.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return await _view_with_calls(session, repair, duplicate=prior.status_code == 200)


async def visible_repair(session, caller: Caller, repair_id: str) -> Repair:
    """The repair, if the caller's key may see it; otherwise the 404 of a missing one."""
    repair = await repository.get_repair(session=session, repair_id=repair_id)
    if repair is None or not await caller.may(repair.project):
        raise Rejection("repair_not_found", f"No repair {repair_id!r}.",
                        f"没有编号为“{repair_id}”的报修单。", "repair_id", 404)
    return repair


@router.get("/v1/repairs/{repair_id}", response_model=RepairView, tags=["repairs"],
            summary="One repair: status, deadlines, timeline")
async def get_repair(repair_id: RepairId, rt: Rt, caller: Authorized) -> RepairView:
    async with rt.sessions() as session:
        repair = await visible_repair(session, caller, repair_id)
        calls = await repository.calls_of(session=session, repair_id=repair.id)
        photos = await repository.photos_of(session=session, repair_id=repair.id)
        steps = await repository.steps_of(session=session, repair_id=repair.id)
    result = view(repair, repeat_calls=len(calls))
    result.timeline = timeline(repair, calls, photos, steps)
    return result


@router.get("/v1/repairs", response_model=RepairPage, tags=["repairs"],
            summary="Find repairs, newest first, a page at a time")
async def list_repairs(
    rt: Rt, caller: Authorized,
    project: Annotated[str | None, Query(examples=["SH-LJ"])] = None,
    building: Annotated[str | None, Query(examples=["1"])] = None,
    unit: Annotated[str | None, Query(examples=["1-1201"])] = None,
    common_area: Annotated[str | None, Query(examples=["LOBBY"])] = None,
    status_: Annotated[str | None, Query(alias="status", examples=["reported"])] = None,
    priority: Priority | None = None,
    overdue: Annotated[bool | None, Query(
        description="Only repairs with a missed deadline (true), or only the others "
                    "(false).")] = None,
    category: Annotated[str | None, Query(examples=["LK-WET"])] = None,
    phone: Annotated[str | None, Query(
        description="The first reporter's phone, in any written form.",
        examples=["138 0013 8001"])] = None,
    created_from: Annotated[AwareDatetime | None, Query(
        description="Received at or after, with its offset.",
        examples=["2026-06-01T00:00:00+08:00"])] = None,
    created_to: Annotated[AwareDatetime | None, Query(
        description="Received before, with its offset.",
        examples=["2026-07-01T00:00:00+08:00"])] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(
        description="The `next_cursor` of the previous page.")] = None,
) -> RepairPage:
    """Filters combine; `phone` matches the first reporter in any written form. Only the
    projects of the caller's key are searched."""
    if project is not None:
        await caller.require(project, status=404)
    filters = {"projects": await caller.allowed(), "project": project, "building": building,
               "unit": unit, "common_area": common_area, "status": status_,
               "priority": priority.value if priority else None, "overdue": overdue,
               "category": category, "created_from": created_from, "created_to": created_to,
               "reporter_phone": _phone_filter(phone)}
    async with rt.sessions() as session:
        rows = await repository.search(session=session, filters=filters,
                                       after=_decode_cursor(cursor), limit=limit + 1)
        calls = await repository.count_calls(session=session,
                                             repair_ids=[r.id for r in rows[:limit]])
    page = [view(r, repeat_calls=calls.get(r.id, 0)) for r in rows[:limit]]
    more = len(rows) > limit
    return RepairPage(repairs=page,
                      next_cursor=_encode_cursor(rows[limit - 1]) if more else None)


@router.get("/v1/projects/{project}/buildings/{building}/units/{unit}/repairs",
            response_model=RepairPage, tags=["repairs"],
            summary="A unit's repairs, newest first, for the agent on the phone")
async def unit_history(project: ProjectCode,
                       building: Annotated[str, Path(examples=["1"])],
                       unit: Annotated[str, Path(examples=["1-1201"])],
                       rt: Rt, caller: Authorized,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50,
                       cursor: Annotated[str | None, Query(
                           description="The `next_cursor` of the previous page.")] = None,
                       ) -> RepairPage:
    return await list_repairs(rt, caller, project=project, building=building, unit=unit,
                              limit=limit, cursor=cursor)


@router.put("/v1/projects/{project}/intake", response_model=IntakeSettingsIn,
            tags=["registry"], summary="A project's intake policy (the duplicate window)")
async def put_intake_settings(project: ProjectCode, settings: IntakeSettingsIn, rt: Rt,
                              caller: Authorized) -> IntakeSettingsIn:
    await caller.require(project)
    await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=project), ProjectIn)  # exists?
    async with rt.sessions.begin() as session:
        await repository.put_settings(session=session, project=project,
                                      window_hours=settings.duplicate_window_hours)
    return settings


@router.get("/v1/projects/{project}/intake", response_model=IntakeSettingsIn,
            tags=["registry"], summary="A project's intake policy")
async def get_intake_settings(project: ProjectCode, rt: Rt, caller: Authorized) -> IntakeSettingsIn:
    await caller.require(project)
    async with rt.sessions() as session:
        window = await repository.duplicate_window(session=session, project=project)
    return IntakeSettingsIn(duplicate_window_hours=int(window.total_seconds() // 3600))


@router.put("/v1/projects/{project}/service-levels", response_model=ServiceLevels,
            tags=["registry"], summary="A project's service levels (服务时限)")
async def put_service_levels(project: ProjectCode, policy: ServiceLevels, rt: Rt,
                             caller: Authorized) -> ServiceLevels:
    """Replace the project's service-level policy; a setting left out keeps its default
    (and follows ours if it changes). Reports from now on get its deadlines, and their
    workflows its offer time, rework limit and escalation chain; repairs already reported
    keep theirs. The answer is the whole policy in force."""
    await caller.require(project)
    for priority in ("emergency", "routine"):  # the priorities intake files
        if policy.targets.of(priority).arrive is None:
            raise Rejection(
                "arrival_target_required",
                f"{priority.capitalize()} repairs need an arrival target: their workflow "
                "watches it.", f"{_PRIORITY_ZH[priority]}报修必须设置到场时限。",
                f"targets.{priority}.arrive", 422)
    await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=project), ProjectIn)  # exists?
    async with rt.sessions.begin() as session:
        await repository.put_service_levels(
            session=session, project=project,
            document=policy.model_dump(mode="json", exclude_unset=True))
    return policy


@router.get("/v1/projects/{project}/service-levels", response_model=ServiceLevels,
            tags=["registry"], summary="A project's service levels in force")
async def get_service_levels(project: ProjectCode, rt: Rt, caller: Authorized) -> ServiceLevels:
    """The whole policy: the project's settings and our defaults for the rest."""
    await caller.require(project)
    await rt.bus.ask(WARRANTY_GET_PROJECT, GetProject(code=project), ProjectIn)  # exists?
    async with rt.sessions() as session:
        policy = await repository.service_levels(session=session, project=project)
    return ServiceLevels.model_validate(policy.model_dump(mode="json"))


_PRIORITY_ZH = {"emergency": "紧急", "routine": "日常"}


class DependencyHealth(BaseModel):
    ok: bool
    ms: float | None = Field(None, description="How long the probe took, when it answered.")
    error: str | None = Field(None, description="Why it did not, when it did not.")


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "ok", "dependencies": {"postgres": {"ok": True, "ms": 1.2},
                                          "nats": {"ok": True, "ms": 0.4},
                                          "temporal": {"ok": True, "ms": 3.1}}},
        {"status": "degraded", "dependencies": {
            "postgres": {"ok": True, "ms": 1.3}, "nats": {"ok": True, "ms": 0.5},
            "temporal": {"ok": False, "error": "RPCError('connection refused')"}}},
    ]})
    status: Literal["ok", "degraded"]
    dependencies: dict[str, DependencyHealth]


@operations.get("/healthz", tags=["operations"], summary="Each dependency's health",
                responses={200: {"model": Health},
                           503: {"model": Health, "description": "A dependency is down."}})
async def healthz(rt: Rt) -> JSONResponse:
    checks: dict[str, Any] = {}

    async def check(name: str, probe) -> None:
        started = time.perf_counter()
        try:
            await probe()
            checks[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
        except Exception as exc:  # noqa: BLE001 - reporting, not handling
            checks[name] = {"ok": False, "error": repr(exc)[:300]}

    async def postgres() -> None:
        async with rt.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def nats() -> None:
        if not rt.bus.nc.is_connected:
            raise ConnectionError("not connected")
        await rt.bus.nc.flush(timeout=2)

    async def temporal() -> None:
        await rt.temporal.service_client.check_health()

    await check("postgres", postgres)
    await check("nats", nats)
    await check("temporal", temporal)
    healthy = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "dependencies": checks},
        status_code=200 if healthy else 503,
    )


async def _view_with_calls(session, repair: Repair, *, duplicate: bool) -> RepairView:
    calls = await repository.count_calls(session=session, repair_ids=[repair.id])
    return view(repair, repeat_calls=calls.get(repair.id, 0),
                duplicate_of=repair.id if duplicate else None)


def view(repair: Repair, *, repeat_calls: int = 0, duplicate_of: str | None = None
         ) -> RepairView:
    """A repair for the API; every time in the project's zone, with its offset."""
    zone = ZoneInfo(repair.time_zone)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment else None

    return RepairView(
        id=repair.id, ticket=repair.ticket, project=repair.project, building=repair.building,
        unit=repair.unit, common_area=repair.common_area, category=repair.category,
        channel=repair.channel, priority=repair.priority, status=repair.status,
        # As stored: a number kept in an older written form must still show.
        reporter=Reporter.model_construct(name=repair.reporter_name,
                                          phone=repair.reporter_phone),
        description=repair.description, reported_at=local(repair.reported_at),
        received_at=local(repair.received_at), preferred_visit_at=local(repair.preferred_visit_at),
        deadlines=Deadlines(arrive_by=local(repair.arrive_by), arrive_rule=repair.arrive_rule,
                            finish_by=local(repair.finish_by), finish_rule=repair.finish_rule,
                            respond_by=local(repair.respond_by),
                            respond_rule=repair.respond_rule),
        workflow_id=repair.workflow_id, overdue=repair.overdue_at is not None,
        duplicate_of=duplicate_of, repeat_calls=repeat_calls, trade=repair.trade,
        assignee=repair.technician_id, reworks=repair.reworks or 0,
        warranty_outcome=repair.warranty_outcome, warranty=repair.warranty,
        repair_guarantee=_guarantee_view(repair.guarantee),
    )


def _guarantee_view(guarantee: dict | None) -> RepairGuaranteeView | None:
    if guarantee is None:
        return None
    ends_at = datetime.fromisoformat(guarantee["ends_at"])
    return RepairGuaranteeView(
        repair_id=guarantee["repair_id"], ticket=guarantee["ticket"],
        accepted_at=datetime.fromisoformat(guarantee["accepted_at"]),
        guaranteed_through=(ends_at - timedelta(microseconds=1)).date())


def timeline(repair: Repair, calls: list[RepairCall], photos: list[Photo],
             steps: Sequence[RepairStep] = ()) -> list[TimelineEntry]:
    """What happened to a repair, oldest first, in the project's zone: intake's own entries
    and the workflow's steps (without its `reported`, which intake's own tells better)."""
    zone = ZoneInfo(repair.time_zone)
    entries = [TimelineEntry(
        at=repair.received_at.astimezone(zone), kind="reported",
        detail=f"{repair.channel}: {repair.reporter_name} {repair.reporter_phone}")]
    entries += [TimelineEntry(
        at=c.received_at.astimezone(zone), kind="called_again",
        detail=f"{c.channel}: {c.reporter_name} {c.reporter_phone}: {c.description}")
        for c in calls]
    entries += [TimelineEntry(at=p.uploaded_at.astimezone(zone), kind="photo",
                              detail=f"/v1/repairs/{repair.id}/photos/{p.id}") for p in photos]
    entries += [TimelineEntry(at=s.at.astimezone(zone), kind=s.kind, detail=s.detail, by=s.by,
                              technician_id=s.technician_id)
                for s in steps if s.kind != "reported"]
    if repair.overdue_at and not any(s.kind == "overdue" for s in steps):
        entries.append(TimelineEntry(at=repair.overdue_at.astimezone(zone), kind="overdue",
                                     detail="nobody had arrived by the arrival deadline"))
    return sorted(entries, key=lambda e: e.at)  # stable: steps of one moment keep their order


def _phone_filter(phone: str | None) -> str | None:
    if phone is None:
        return None
    try:
        return normalise_phone(phone)
    except ValueError:
        raise Rejection("invalid_phone", "Not a mainland mobile or landline number.",
                        "不是有效的手机或固定电话号码。", "phone", 422) from None


def _encode_cursor(repair: Repair) -> str:
    raw = f"{repair.received_at.isoformat()}|{repair.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, repair_id = raw.split("|", 1)
        return datetime.fromisoformat(moment), repair_id
    except (ValueError, UnicodeDecodeError):
        raise Rejection("invalid_cursor", "This cursor is not one we gave out.",
                        "分页游标无效。", "cursor", 422) from None
