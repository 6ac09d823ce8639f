"""The RepairFlow processes, run in this test process against the session's real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from services.common.bus import Bus
from services.dispatch.service import DispatchSettings
from services.dispatch.service import running as dispatch_running
from services.followup.service import FollowupSettings
from services.followup.service import running as followup_running
from services.intake.app import IntakeSettings, create_app
from services.intake.keys import create_key
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from workflows.worker import WorkerSettings, build_worker


@dataclass
class Stack:
    api: httpx.AsyncClient  # with an operator's key: every group
    app: FastAPI
    bus: Bus
    temporal: Client
    database_url: str
    task_queue: str

    async def key(self, group: str | None, projects: list[str] | None = None,
                  rate_per_minute: int = 600) -> dict[str, str]:
        """Headers carrying a new key of this scope (they override the operator's)."""
        issued = await create_key(self.database_url, name="test", group=group,
                                  projects=projects, rate_per_minute=rate_per_minute)
        return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
async def stack(
    settings: dict, demo_database: str, bus: Bus, temporal_client: Client
) -> AsyncIterator[Stack]:
    """Warranty, dispatch, follow-up, the worker and the intake app, all on this test's
    slice."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(warranty_running(WarrantySettings(**settings)))
        await stack.enter_async_context(dispatch_running(DispatchSettings(**settings)))
        await stack.enter_async_context(
            followup_running(FollowupSettings(**settings), temporal=temporal_client))
        await stack.enter_async_context(
            build_worker(temporal_client, bus, WorkerSettings(**settings))
        )
        app = create_app(IntakeSettings(**settings, outbox_interval=0.2))
        await stack.enter_async_context(app.router.lifespan_context(app))
        operator = await create_key(demo_database, name="operator", group=None, projects=None,
                                    rate_per_minute=100_000)
        api = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake",
            headers={"Authorization": f"Bearer {operator.token}"},
        ))
        yield Stack(api, app, bus, temporal_client, demo_database, settings["task_queue"])
