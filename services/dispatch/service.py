"""Entry point of the dispatch service (派工): a `nats.micro` service named
`repairflow-dispatch`: teams, technicians, rosters and who goes to a repair."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, AsyncExitStack

from nats.micro.service import Service

from services.common.bus import Bus
from services.common.db import make_engine, make_sessionmaker
from services.common.dispatch_contracts import (
    DISPATCH_SUBJECTS,
    AssignRepair,
    CloseRepair,
    FindTechnicians,
    GetRoster,
    ListTeams,
    NextCandidate,
    PutHours,
    PutRoster,
    PutTeam,
    PutTechnician,
    RemoveTeam,
    RemoveTechnician,
    RespondToOffer,
    TechnicianOrders,
    WhoLeads,
)
from services.common.logging import configure_logging
from services.common.micro import json_endpoint, micro_service, serve_until_signalled
from services.common.settings import CommonSettings
from services.dispatch.handlers import DispatchHandlers

VERSION = "0.1.0"


class DispatchSettings(CommonSettings):
    dispatch_db_pool_size: int = 5


def running(settings: DispatchSettings) -> AbstractAsyncContextManager[Service]:
    """The service, serving for the duration of an `async with` block."""

    async def build(service: Service, bus: Bus, resources: AsyncExitStack) -> None:
        engine = make_engine(settings.database_url, pool_size=settings.dispatch_db_pool_size)
        resources.push_async_callback(engine.dispose)
        handlers = DispatchHandlers(make_sessionmaker(engine), bus)
        for name, command in (
            ("assign", AssignRepair), ("next", NextCandidate), ("respond", RespondToOffer),
            ("duty_leader", WhoLeads), ("orders", TechnicianOrders), ("put_team", PutTeam),
            ("list_teams", ListTeams), ("put_technician", PutTechnician),
            ("find_technicians", FindTechnicians), ("put_roster", PutRoster),
            ("get_roster", GetRoster), ("put_hours", PutHours),
            ("remove_technician", RemoveTechnician), ("remove_team", RemoveTeam),
            ("close_repair", CloseRepair),
        ):
            group, endpoint = DISPATCH_SUBJECTS[name].rsplit(".", 1)
            await service.add_group(name=bus.subject(group)).add_endpoint(
                name=endpoint, handler=json_endpoint(command, getattr(handlers, name)))

    return micro_service(
        bus_url=settings.nats_url, prefix=settings.nats_prefix, name="repairflow-dispatch",
        version=VERSION, description="Trades, technicians, rosters and assignment", build=build,
    )


def main() -> None:
    settings = DispatchSettings()
    configure_logging(service="dispatch", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve_until_signalled(running(settings)))
