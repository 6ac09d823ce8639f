"""Entry point of the follow-up service (回访): a `nats.micro` service named
`repairflow-followup`. It registers for discovery ($SRV.PING/INFO/STATS) now; return visits,
repeat-defect statistics and planned revisits arrive with their issue."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, AsyncExitStack

from nats.micro.service import Service

from services.common.bus import Bus
from services.common.logging import configure_logging
from services.common.micro import micro_service, serve_until_signalled
from services.common.settings import CommonSettings

VERSION = "0.1.0"


class FollowupSettings(CommonSettings):
    pass


def running(settings: FollowupSettings) -> AbstractAsyncContextManager[Service]:
    """The service, serving for the duration of an `async with` block."""

    async def build(service: Service, bus: Bus, resources: AsyncExitStack) -> None:
        return None  # no endpoints yet: see the module docstring

    return micro_service(
        bus_url=settings.nats_url, prefix=settings.nats_prefix, name="repairflow-followup",
        version=VERSION, description="Return visits, repeated-defect control, planned revisits",
        build=build,
    )


def main() -> None:
    settings = FollowupSettings()
    configure_logging(service="followup", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve_until_signalled(running(settings)))
