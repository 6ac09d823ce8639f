"""`repairflow up`: the whole system on one machine, from wheels, in one command.

Starts PostgreSQL, NATS JetStream and the Temporal dev server (unless DATABASE_URL,
NATS_URL or TEMPORAL_ADDRESS point elsewhere), prepares them, starts every service as its
own supervised process, loads the demo data once and prints where everything is.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import nats
import structlog

from services.common.logging import configure_logging
from services.common.micro import wait_for_stop_signal
from services.common.settings import CommonSettings
from services.stack import bootstrap, demo
from services.stack.servers import (
    ServerSpec,
    ServerStartError,
    free_port,
    nats_spec,
    port_is_free,
    postgres_spec,
    temporal_spec,
    wait_for_port,
)
from services.stack.supervisor import Supervisor

log = structlog.get_logger("up")

SERVICES = ("warranty", "dispatch", "followup", "worker", "intake")
EXAMPLE_REPORT = {
    "project": "SH-LJ", "building": "1", "unit": "1-502", "channel": "hotline",
    "category": "LK-WET", "description": "卫生间地面渗水",
    "reporter": {"name": "王芳", "phone": "13900139002"},
}
MICRO_SERVICES = ("repairflow-warranty", "repairflow-dispatch", "repairflow-followup")

class StackSettings(CommonSettings):
    http_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    nats_port: int = 4222
    pg_port: int = 55432
    load_demo: bool = True

@dataclass
class Endpoints:
    database_url: str
    nats_url: str
    temporal_address: str
    temporal_ui: str | None
    http_port: int

def choose_port(settings: StackSettings, field: str, server: str) -> int:
    """The configured port; a taken default is swapped for a free one, a taken explicit
    choice is an error in one line."""
    port = getattr(settings, field)
    if port_is_free(port):
        return port
    env = f"REPAIRFLOW_{field.upper()}"
    if field in settings.model_fields_set:
        raise ServerStartError(f"{server}: port {port} on 127.0.0.1 is taken (set by {env}).")
    chosen = free_port()
    print(f"  {server}: port {port} is taken; using {chosen} instead (set {env} to choose).")
    return chosen

async def start_server(supervisor: Supervisor, spec: ServerSpec, port: int) -> None:
    # Spawned on this (the main) thread: the parent-death signal is tied to the thread
    # that forked, and a pool thread may end before we do.
    process = spec.spawn()
    try:
        await asyncio.to_thread(wait_for_port, process, spec, port)
    except ServerStartError:
        process.kill()
        raise
    supervisor.adopt(spec, process, tier=0)

async def start_servers(settings: StackSettings, supervisor: Supervisor) -> Endpoints:
    home, logs = settings.home, settings.home / "logs"
    fields = settings.model_fields_set
    if "database_url" in fields:
        database_url = settings.database_url
    else:
        port = choose_port(settings, "pg_port", "PostgreSQL")
        spec = postgres_spec(home / "postgres", port, logs / "postgres.log")
        await start_server(supervisor, spec, port)
        database_url = f"postgresql://postgres@127.0.0.1:{port}/repairflow"
    if "nats_url" in fields:
        nats_url = settings.nats_url
    else:
        port = choose_port(settings, "nats_port", "NATS")
        await start_server(supervisor, nats_spec(home / "nats", port, logs / "nats.log"), port)
        nats_url = f"nats://127.0.0.1:{port}"
    temporal_ui = None
    if "temporal_address" in fields:
        temporal_address = settings.temporal_address
    else:
        port = choose_port(settings, "temporal_port", "Temporal")
        ui_port = choose_port(settings, "temporal_ui_port", "Temporal UI")
        spec = temporal_spec(home / "temporal" / "temporal.db", port, ui_port,
                             logs / "temporal.log")
        await start_server(supervisor, spec, port)
        temporal_address = f"127.0.0.1:{port}"
        temporal_ui = f"http://127.0.0.1:{ui_port}"
    http_port = choose_port(settings, "http_port", "Intake HTTP")
    return Endpoints(database_url, nats_url, temporal_address, temporal_ui, http_port)

def service_spec(name: str, endpoints: Endpoints, settings: StackSettings) -> ServerSpec:
    env = {
        "DATABASE_URL": endpoints.database_url,
        "NATS_URL": endpoints.nats_url,
        "TEMPORAL_ADDRESS": endpoints.temporal_address,
        "REPAIRFLOW_HTTP_PORT": str(endpoints.http_port),
        "REPAIRFLOW_HOME": str(settings.home),
        "PYTHONUNBUFFERED": "1",
        # A local system: an integrator's test receiver on this machine may get webhooks.
        "REPAIRFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS": os.environ.get(
            "REPAIRFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"),
    }
    return ServerSpec(name, [sys.executable, "-m", "services", "serve", name],
                      settings.home / "logs" / f"{name}.log", env=env)

async def wait_until_serving(endpoints: Endpoints, settings: StackSettings, timeout: float) -> None:
    """Intake's health check passes and each NATS service answers its PING."""
    deadline = time.monotonic() + timeout
    nc = await nats.connect(endpoints.nats_url)
    try:
        for name in MICRO_SERVICES:
            while True:
                try:
                    await nc.request(f"$SRV.PING.{name}", b"", timeout=0.5)
                    break
                except Exception:  # noqa: BLE001 - not up yet
                    if time.monotonic() > deadline:
                        raise ServerStartError(f"{name} did not answer $SRV.PING in time "
                                               f"(log: {settings.home / 'logs'})") from None
                    await asyncio.sleep(0.2)
    finally:
        await nc.close()
    url = f"http://127.0.0.1:{endpoints.http_port}/healthz"
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(f"intake is not healthy at {url} "
                                       f"(log: {settings.home / 'logs' / 'intake.log'})")
            await asyncio.sleep(0.2)

def summary(endpoints: Endpoints, settings: StackSettings, demo_loaded: bool, took: float,
            api_key: str | None) -> str:
    api = f"http://127.0.0.1:{endpoints.http_port}"
    ui = endpoints.temporal_ui
    lines = [
        "",
        f"RepairFlow is up in {took:.1f}s. State: {settings.home}",
        f"  Intake API     {api}   (docs {api}/docs, health {api}/healthz)",
        f"  Temporal UI    {ui}/namespaces/{settings.temporal_namespace}/workflows"
        if ui else f"  Temporal UI    (external Temporal at {endpoints.temporal_address})",
        f"  Temporal       {endpoints.temporal_address}  namespace {settings.temporal_namespace}, "
        f"task queue {settings.task_queue}",
        f"  NATS           {endpoints.nats_url}",
        f"  PostgreSQL     {endpoints.database_url}",
        f"  Logs           {settings.home / 'logs'}/<process>.log",
        f"  Demo data      {'loaded now' if demo_loaded else 'already there'}: "
        "projects SH-LJ (Shanghai) and BJ-YH (Beijing)",
        *([f"  Demo API key   {api_key}  (group HX; in {settings.home / 'demo-api-key'})"]
          if api_key else []),
        "",
        "Report a repair:",
        f"  curl -s -X POST {api}/v1/repairs -H 'content-type: application/json' \\",
        f"    -H 'Authorization: Bearer {api_key or '<repairflow apikey create>'}' \\",
        f"    -d '{json.dumps(EXAMPLE_REPORT, ensure_ascii=False)}'",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)

async def start(settings: StackSettings, supervisor: Supervisor) -> None:
    started = time.monotonic()
    print(f"Starting RepairFlow (state in {settings.home}) ...", flush=True)
    endpoints = await start_servers(settings, supervisor)
    await bootstrap.ensure_database(endpoints.database_url)
    await bootstrap.migrate(endpoints.database_url)
    await bootstrap.declare_streams(endpoints.nats_url, settings.nats_prefix)
    await bootstrap.prepare_temporal(endpoints.temporal_address, settings.temporal_namespace)
    demo_loaded = settings.load_demo and await demo.load_demo(endpoints.database_url)
    api_key = (await demo.demo_api_key(endpoints.database_url, settings.home)
               if settings.load_demo else None)
    for name in SERVICES:
        supervisor.start(service_spec(name, endpoints, settings), tier=1)
    await wait_until_serving(endpoints, settings, timeout=60)
    print(summary(endpoints, settings, demo_loaded, time.monotonic() - started, api_key),
          flush=True)


def lock_home(home: Path) -> IO[str]:
    """One launcher per state directory: two Temporal servers on one SQLite file, or two
    PostgreSQL on one data directory, would corrupt them."""
    home.mkdir(parents=True, exist_ok=True)
    lock = open(home / "up.lock", "a+")  # noqa: SIM115 - held for the launcher's lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        owner = lock.read().strip() or "?"
        raise ServerStartError(
            f"RepairFlow is already running from {home} (launcher pid {owner}); "
            "stop it first or set REPAIRFLOW_HOME to another directory."
        ) from None
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    return lock


async def run(settings: StackSettings) -> int:
    """Start, then serve until Ctrl-C or SIGTERM; a signal during start-up stops it too."""
    try:
        lock = lock_home(settings.home)
    except ServerStartError as exc:
        print(f"repairflow up: {exc}", file=sys.stderr, flush=True)
        return 1
    supervisor = Supervisor()
    stop = asyncio.create_task(wait_for_stop_signal())
    starting = asyncio.create_task(start(settings, supervisor))
    try:
        await asyncio.wait({stop, starting}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # raises a start-up failure
            await stop
        return 0
    except ServerStartError as exc:
        print(f"repairflow up: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("Stopping RepairFlow ...", flush=True)
        for task in (stop, starting):
            task.cancel()
        await asyncio.gather(stop, starting, return_exceptions=True)
        await supervisor.stop()
        lock.close()
        print("RepairFlow stopped.", flush=True)


def main() -> int:
    settings = StackSettings()
    configure_logging(service="up", level=settings.log_level, json=False)
    for chatty in ("alembic", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return asyncio.run(run(settings))

