"""A committed report owes a workflow and an event; the relay pays both, exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from services.common.bus import Bus
from services.common.contracts import ReportLocated
from services.common.db import make_engine, make_sessionmaker
from services.common.settings import to_asyncpg_dsn
from services.intake.models import Repair
from services.intake.outbox import OutboxRelay
from services.intake.schemas import ReportRepair
from services.intake.service import record_report
from workflows.worker import WorkerSettings, build_worker

LOCATED = ReportLocated(
    project="SH-LJ", project_name="上海绿景花园", time_zone="Asia/Shanghai", building="1",
    unit="1-101", common_area=None, category="PIPE-BURST", trade="plumbing",
    always_emergency=True,
)
COMMAND = ReportRepair.model_validate({
    "project": "SH-LJ", "building": "1", "unit": "1-101", "channel": "wechat",
    "category": "PIPE-BURST", "description": "厨房水管爆裂",
    "reporter": {"name": "张伟", "phone": "13800138001"},
})


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker]:
    engine = make_engine(database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def committed(sessions: async_sessionmaker) -> Repair:
    """A report whose request committed and then died: nothing was delivered."""
    async with sessions.begin() as session:
        return await record_report(session=session, command=COMMAND, located=LOCATED,
                                   received_at=datetime.now(UTC))


async def test_a_report_committed_before_a_crash_is_started_and_published_by_the_relay(
    committed: Repair, sessions: async_sessionmaker, database_url: str, bus: Bus,
    temporal_client: Client, settings: dict,
):
    relay = OutboxRelay(sessions=sessions, bus=bus, temporal=temporal_client,
                        task_queue=settings["task_queue"])
    # A young entry is left to the request that wrote it...
    assert await relay.deliver(grace=60) == 0
    # ...and delivered by the relay of a restarted process.
    assert await relay.deliver() == 2
    assert await relay.deliver() == 0  # nothing owed any more

    description = await temporal_client.get_workflow_handle(committed.workflow_id).describe()
    assert description.id == f"repair-{committed.id}"

    # Delivering again (a relay that died before marking) changes nothing downstream.
    conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
    await conn.execute("UPDATE intake.outbox SET delivered_at = NULL")
    await conn.close()
    async with build_worker(temporal_client, bus, WorkerSettings(**settings)):
        assert await relay.deliver() == 2
    # JetStream recognised the message id (the workflow's own steps go to other subjects).
    reported = bus.subject("repairs.reported.v1")
    info = await bus.js.stream_info(bus.stream("REPAIRS"), subjects_filter=reported)
    assert info.state.subjects == {reported: 1}
    runs = [w async for w in temporal_client.list_workflows(
        f"WorkflowId = '{committed.workflow_id}'")]
    assert len(runs) <= 1  # visibility may lag; there is never a second run


async def test_a_failed_delivery_is_recorded_and_retried_later_in_order(
    committed: Repair, sessions: async_sessionmaker, database_url: str, bus: Bus,
    temporal_client: Client, settings: dict,
):
    """NATS gone: the event cannot go out, so the workflow is not started either (its own
    events would reach the stream before `reported`); both go once NATS is back."""
    await bus.nc.close()
    relay = OutboxRelay(sessions=sessions, bus=bus, temporal=temporal_client,
                        task_queue=settings["task_queue"])
    assert await relay.deliver() == 0
    conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            "SELECT kind, attempts, last_error, next_attempt_at > now() AS later "
            "FROM intake.outbox WHERE delivered_at IS NULL ORDER BY id")
    finally:
        await conn.close()
    assert [r["kind"] for r in rows] == ["publish_reported", "start_workflow"]
    assert rows[0]["attempts"] == 1 and rows[0]["last_error"] and rows[0]["later"]
    with pytest.raises(RPCError):
        await temporal_client.get_workflow_handle(committed.workflow_id).describe()
    fresh = await Bus.connect(settings["nats_url"], prefix=settings["nats_prefix"])
    try:
        retry = OutboxRelay(sessions=sessions, bus=fresh, temporal=temporal_client,
                            task_queue=settings["task_queue"])
        assert await retry.deliver() == 0  # backing off, and the workflow waits behind it
        conn = await asyncpg.connect(to_asyncpg_dsn(database_url))
        await conn.execute("UPDATE intake.outbox SET next_attempt_at = now()")
        await conn.close()
        assert await retry.deliver() == 2
        message = await fresh.js.get_last_msg(
            fresh.stream("REPAIRS"), fresh.subject("repairs.reported.v1")
        )
        assert committed.id.encode() in message.data
        await temporal_client.get_workflow_handle(committed.workflow_id).describe()
    finally:
        await fresh.close()
