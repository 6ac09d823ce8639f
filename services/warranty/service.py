"""Entry point of the warranty service (保修责任判定): a `nats.micro` service named
`repairflow-warranty` that owns the property registry and determines warranty liability."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, AsyncExitStack

from nats.micro.service import Service

from services.common.bus import Bus
from services.common.contracts import (
    WARRANTY_DETERMINE,
    WARRANTY_EXPIRIES,
    WARRANTY_GET_PROJECT,
    WARRANTY_LIST_PROJECTS,
    WARRANTY_LOCATE,
    WARRANTY_PUT_PROJECT,
    LocateReport,
)
from services.common.db import make_engine, make_sessionmaker
from services.common.logging import configure_logging
from services.common.micro import json_endpoint, micro_service, serve_until_signalled
from services.common.registry_contracts import (
    DetermineWarranty,
    GetProject,
    GetWarrantyExpiries,
    ListProjects,
    ProjectIn,
)
from services.common.settings import CommonSettings
from services.warranty.handlers import RegistryHandlers, WarrantyHandlers

VERSION = "0.1.0"


class WarrantySettings(CommonSettings):
    warranty_db_pool_size: int = 5


def running(settings: WarrantySettings) -> AbstractAsyncContextManager[Service]:
    """The service, serving for the duration of an `async with` block."""

    async def build(service: Service, bus: Bus, resources: AsyncExitStack) -> None:
        engine = make_engine(settings.database_url, pool_size=settings.warranty_db_pool_size)
        resources.push_async_callback(engine.dispose)
        sessions = make_sessionmaker(engine)
        registry, warranty = RegistryHandlers(sessions), WarrantyHandlers(sessions)
        for subject, command, handler in (
            (WARRANTY_DETERMINE, DetermineWarranty, warranty.determine),
            (WARRANTY_LOCATE, LocateReport, registry.locate),
            (WARRANTY_PUT_PROJECT, ProjectIn, registry.put_project),
            (WARRANTY_GET_PROJECT, GetProject, registry.get_project),
            (WARRANTY_LIST_PROJECTS, ListProjects, registry.list_projects),
            (WARRANTY_EXPIRIES, GetWarrantyExpiries, warranty.expiries),
        ):
            group, endpoint = subject.rsplit(".", 1)
            await service.add_group(name=bus.subject(group)).add_endpoint(
                name=endpoint, handler=json_endpoint(command, handler))

    return micro_service(
        bus_url=settings.nats_url, prefix=settings.nats_prefix, name="repairflow-warranty",
        version=VERSION, description="Property registry and warranty determination", build=build,
    )


def main() -> None:
    settings = WarrantySettings()
    configure_logging(service="warranty", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve_until_signalled(running(settings)))
