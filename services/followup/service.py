"""Entry point of the follow-up service (回访): a `nats.micro` service named
`repairflow-followup`. It registers for discovery ($SRV.PING/INFO/STATS) now; return visits,
repeat-defect statistics and planned revisits arrive with their issue."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from nats.micro.service import Service

from services.common.bus import Bus
from services.common.logging import configure_logging
from services.common.micro import run_micro_service
from services.common.settings import CommonSettings

VERSION = "0.1.0"


class FollowupSettings(CommonSettings):
    pass


async def serve(settings: FollowupSettings) -> None:
    async def build(service: Service, bus: Bus, resources: AsyncExitStack) -> None:
        return None  # no endpoints yet: see the module docstring

    await run_micro_service(
        bus_url=settings.nats_url, prefix=settings.nats_prefix, name="repairflow-followup",
        version=VERSION, description="Return visits, repeated-defect control, planned revisits",
        build=build,
    )


def main() -> None:
    settings = FollowupSettings()
    configure_logging(service="followup", level=settings.log_level, json=settings.log_json)
    asyncio.run(serve(settings))
