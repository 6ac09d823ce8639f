"""An accepted report survives the death of intake between its commit and its workflow."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from services.common.bus import Bus
from services.common.settings import to_asyncpg_dsn
from services.intake.keys import create_key
from services.stack.servers import free_port
from services.warranty.service import WarrantySettings
from services.warranty.service import running as warranty_running
from tests.e2e.processes import repairflow

pytestmark = pytest.mark.e2e

REPORT = {
    "project": "SH-LJ", "building": "2", "unit": "2-301", "channel": "hotline",
    "category": "PIPE-BURST", "description": "主卧吊顶漏水，疑似水管爆裂",
    "reporter": {"name": "刘洋", "phone": "13600136004"},
}


async def wait_until_healthy(api: str, timeout: float = 30) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{api}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("intake never became healthy")


async def test_a_report_committed_just_before_intake_dies_gets_its_workflow_after_restart(
    settings: dict, demo_database: str, bus: Bus, temporal_client: Client
):
    port = free_port()
    env = {
        "DATABASE_URL": settings["database_url"], "NATS_URL": settings["nats_url"],
        "TEMPORAL_ADDRESS": settings["temporal_address"],
        "REPAIRFLOW_NATS_PREFIX": settings["nats_prefix"],
        "REPAIRFLOW_TASK_QUEUE": settings["task_queue"], "REPAIRFLOW_HTTP_PORT": str(port),
    }
    api = f"http://127.0.0.1:{port}"
    key = await create_key(demo_database, name="hotline", group="HX", projects=None)
    headers = {"Authorization": f"Bearer {key.token}"}
    async with warranty_running(WarrantySettings(**settings)):
        doomed = repairflow("serve", "intake",
                            env={**env, "REPAIRFLOW_FAILPOINTS": "intake.after_commit"})
        try:
            await wait_until_healthy(api)
            async with httpx.AsyncClient(timeout=10, headers=headers) as client:
                with pytest.raises(httpx.HTTPError):  # the process died mid-request
                    await client.post(f"{api}/v1/repairs", json=REPORT)
            assert await asyncio.to_thread(doomed.process.wait, 10) == 137
        finally:
            doomed.stop()

        conn = await asyncpg.connect(to_asyncpg_dsn(demo_database))
        try:
            repair_id = await conn.fetchval("SELECT id FROM intake.repairs")
            owed = await conn.fetchval(
                "SELECT count(*) FROM intake.outbox WHERE delivered_at IS NULL")
        finally:
            await conn.close()
        assert repair_id and owed == 2
        handle = temporal_client.get_workflow_handle(f"repair-{repair_id}")
        with pytest.raises(RPCError):
            await handle.describe()  # not started: the process died first

        restarted = repairflow("serve", "intake", env=env)
        try:
            await wait_until_healthy(api)
            deadline = time.monotonic() + 30
            while True:
                try:
                    description = await handle.describe()
                    break
                except RPCError:
                    assert time.monotonic() < deadline, "the relay never started the workflow"
                    await asyncio.sleep(0.3)
            assert description.task_queue == settings["task_queue"]
            event = await bus.js.get_last_msg(bus.stream("REPAIRS"),
                                              bus.subject("repairs.reported.v1"))
            assert event.headers["Nats-Msg-Id"] == f"{repair_id}:reported"
            async with httpx.AsyncClient(timeout=10, headers=headers) as client:
                fetched = await client.get(f"{api}/v1/repairs/{repair_id}")
            assert fetched.status_code == 200
            assert fetched.json()["priority"] == "emergency"
        finally:
            restarted.stop()
