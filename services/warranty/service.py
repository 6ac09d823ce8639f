"""Entry point of the warranty service (保修责任判定): a `nats.micro` service named
`repairflow-warranty`, answering registry questions today and warranty determination next."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, AsyncExitStack

from nats.micro.service import Service

from services.common.bus import Bus
from services.common.contracts import WARRANTY_LOCATE, LocateReport
from services.common.db import make_engine, make_sessionmaker
from services.common.logging import configure_logging
from services.common.micro import json_endpoint, micro_service, serve_until_signalled
from services.common.settings import CommonSettings
from services.warranty.handlers import RegistryHandlers

VERSION = "0.1.0"


class WarrantySettings(CommonSettings):
    warranty_db_pool_size: int = 5


def running(settings: WarrantySettings) -> AbstractAsyncContextManager[Service]:
    """The service, serving for the duration of an `async with` block."""

    async def build(service: Service, bus: Bus, resources: AsyncExitStack) -> None:
        engine = make_engine(settings.database_url, pool_size=settings.warranty_db_pool_size)
        resources.push_async_callback(engine.dispose)
        registry = RegistryHandlers(make_sessionmaker(engine))
        group, endpoint = WARRANTY_LOCATE.rsplit(".", 1)
        await service.add_group(name=bus.subject(group)).add_endpoint(
            name=endpoint, handler=json_endpoint(LocateReport, registry.locate)
        )

    return micro_service(
        bus_url=settings.nats_url, prefix=settings.nats_prefix, name="repairflow-warranty",
        version=VERSION, description="Property registry and warranty determination", build=build,
    )


def main() -> None:
    settings = WarrantySettings()
    configure_logging(service="warranty", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve_until_signalled(running(settings)))
