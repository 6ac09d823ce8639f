"""HTTP endpoints of intake, the front door for call centers, apps and the console."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client

from services.common.bus import Bus
from services.common.contracts import WARRANTY_LOCATE, LocateReport, ReportLocated
from services.common.errors import Rejection
from services.common.failpoints import failpoint
from services.intake import repository, service
from services.intake.models import Repair
from services.intake.outbox import OutboxRelay
from services.intake.schemas import Deadlines, RepairView, Reporter, ReportRepair

log = structlog.get_logger(__name__)
router = APIRouter()


@dataclass(frozen=True)
class Runtime:
    """What the endpoints need, built once by the app's lifespan (see app.py)."""

    sessions: async_sessionmaker
    bus: Bus
    temporal: Client
    relay: OutboxRelay


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


Rt = Annotated[Runtime, Depends(runtime)]


@router.post("/v1/repairs", status_code=status.HTTP_201_CREATED, response_model=RepairView,
             tags=["repairs"], summary="Report a defect (报修)")
async def report_repair(command: ReportRepair, rt: Rt) -> RepairView:
    """Record a report and start its repair. A 201 means it is stored and will not be lost."""
    if command.unit is not None and command.common_area is not None:
        raise Rejection(
            "place_ambiguous", "Give either a unit or a common area, not both.",
            "房号和公共区域只能填写一项。", "common_area", 422,
        )
    located = await rt.bus.ask(
        WARRANTY_LOCATE,
        LocateReport(project=command.project, building=command.building, unit=command.unit,
                     common_area=command.common_area, category=command.category),
        ReportLocated,
    )
    async with rt.sessions.begin() as session:
        repair = await service.record_report(
            session=session, command=command, located=located, received_at=datetime.now(UTC)
        )
    structlog.contextvars.bind_contextvars(repair_id=repair.id)
    log.info("repair reported", ticket=repair.ticket, priority=repair.priority)
    failpoint("intake.after_commit")
    # Deliver now so that the workflow normally exists when the caller gets the 201. The
    # report is accepted whatever happens here: the relay loop retries (outbox.py).
    try:
        await rt.relay.deliver(repair_id=repair.id)
    except Exception as exc:  # noqa: BLE001 - stored is accepted; delivery can wait
        log.warning("delivery after commit failed; the relay will retry", error=repr(exc))
    return view(repair)


@router.get("/v1/repairs/{repair_id}", response_model=RepairView, tags=["repairs"],
            summary="One repair: status, deadlines, warranty decision")
async def get_repair(repair_id: str, rt: Rt) -> RepairView:
    async with rt.sessions() as session:
        repair = await repository.get_repair(session=session, repair_id=repair_id)
    if repair is None:
        raise Rejection("repair_not_found", f"No repair {repair_id!r}.",
                        f"没有编号为“{repair_id}”的报修单。", "repair_id", 404)
    return view(repair)


@router.get("/healthz", tags=["operations"], summary="Each dependency's health")
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


def view(repair: Repair) -> RepairView:
    """A repair for the API; every time in the project's zone, with its offset."""
    zone = ZoneInfo(repair.time_zone)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment else None

    return RepairView(
        id=repair.id, ticket=repair.ticket, project=repair.project, building=repair.building,
        unit=repair.unit, common_area=repair.common_area, category=repair.category,
        channel=repair.channel, priority=repair.priority, status=repair.status,
        reporter=Reporter(name=repair.reporter_name, phone=repair.reporter_phone),
        description=repair.description, reported_at=local(repair.reported_at),
        received_at=local(repair.received_at), preferred_visit_at=local(repair.preferred_visit_at),
        deadlines=Deadlines(arrive_by=local(repair.arrive_by), arrive_rule=repair.arrive_rule),
        workflow_id=repair.workflow_id,
    )
