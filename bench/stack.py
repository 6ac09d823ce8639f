"""A stack for one bench run: `repairflow up`'s own functions (services/stack/up.py) on a
temporary state directory and free ports, with the demo loaded; every process it starts is
stopped, by PID, at the end. Or an existing stack (`make up`), found by its intake port."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from services.intake.keys import create_key
from services.stack import bootstrap, demo
from services.stack.servers import free_port
from services.stack.supervisor import Supervisor
from services.stack.up import (
    SERVICES,
    StackSettings,
    service_spec,
    start_servers,
    wait_until_serving,
)

# The demo key allows 600 requests a minute (a console's rate). A hotline vendor in a storm
# gets its own key with a storm's rate, as `repairflow apikey create --rate` makes one.
BENCH_KEY_RATE = 100_000


@dataclass
class Stack:
    base_url: str
    api_key: str
    nats_url: str
    temporal_address: str
    namespace: str
    task_queue: str
    nats_prefix: str
    database_url: str | None
    processes: dict[str, int] = field(default_factory=dict)  # name -> pid
    owned: bool = False  # started by the bench, stopped by it
    home: Path | None = None
    supervisor: Supervisor | None = None

    async def stop(self, *, keep_state: bool = False) -> None:
        """Stop what we started (services first, then servers, each by its PID)."""
        if self.supervisor is not None:
            await self.supervisor.stop()
            self.supervisor = None
        if self.owned and self.home is not None and not keep_state:
            shutil.rmtree(self.home, ignore_errors=True)


async def start_own(*, home: Path | None = None) -> Stack:
    """PostgreSQL, NATS, Temporal and every service, as `repairflow up` starts them, on free
    ports and a fresh state directory, with the demo data and a bench API key."""
    home = home or Path(tempfile.mkdtemp(prefix="repairflow-bench-"))
    settings = StackSettings(
        home=home, http_port=free_port(), temporal_port=free_port(),
        temporal_ui_port=free_port(), nats_port=free_port(), pg_port=free_port(),
    )
    supervisor = Supervisor()
    stack: Stack | None = None
    try:
        endpoints = await start_servers(settings, supervisor)
        await bootstrap.ensure_database(endpoints.database_url)
        await bootstrap.migrate(endpoints.database_url)
        await bootstrap.declare_streams(endpoints.nats_url, settings.nats_prefix)
        await bootstrap.prepare_temporal(endpoints.temporal_address, settings.temporal_namespace)
        await demo.load_demo(endpoints.database_url)
        await demo.demo_api_key(endpoints.database_url, settings.home)  # as `up` leaves it
        group = demo.read_demo().group.code
        issued = await create_key(endpoints.database_url, name=f"{group} storm bench",
                                  group=group, projects=None, rate_per_minute=BENCH_KEY_RATE)
        for name in SERVICES:
            supervisor.start(service_spec(name, endpoints, settings), tier=1)
        stack = Stack(
            base_url=f"http://127.0.0.1:{endpoints.http_port}", api_key=issued.token,
            nats_url=endpoints.nats_url, temporal_address=endpoints.temporal_address,
            namespace=settings.temporal_namespace, task_queue=settings.task_queue,
            nats_prefix=settings.nats_prefix, database_url=endpoints.database_url,
            owned=True, home=home, supervisor=supervisor)
        await wait_until_serving(endpoints, settings, timeout=90)
        stack.processes = {_label(c.spec.name): c.process.pid for c in supervisor.children}
        return stack
    except BaseException:
        if stack is None:
            stack = Stack("", "", "", "", "", "", "", None, owned=True, home=home,
                          supervisor=supervisor)
        await stack.stop()
        raise


def _label(name: str) -> str:
    return {"PostgreSQL": "postgres", "NATS": "nats", "Temporal": "temporal"}.get(name, name)


def attach(*, base_url: str, api_key: str, nats_url: str, temporal_address: str,
           namespace: str, task_queue: str, nats_prefix: str) -> Stack:
    """A running stack (e.g. `make up`): its processes are those of the launcher that runs
    the process listening on intake's port (or that process alone)."""
    stack = Stack(base_url=base_url, api_key=api_key, nats_url=nats_url,
                  temporal_address=temporal_address, namespace=namespace,
                  task_queue=task_queue, nats_prefix=nats_prefix, database_url=None)
    stack.processes = find_processes(base_url)
    return stack


def find_processes(base_url: str) -> dict[str, int]:
    """The process listening on intake's port and, when its parent launched the others too
    (`repairflow up`'s supervisor), its siblings: the services and the servers."""
    port = urlsplit(base_url).port or 80
    listening = [c.pid for c in psutil.net_connections("tcp")
                 if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid]
    if not listening:
        return {}
    intake = psutil.Process(listening[0])
    parent = intake.parent()
    found: dict[str, int] = {}
    for proc in (parent.children() if parent is not None else [intake]):
        try:
            name = _name_of(proc.cmdline())
        except psutil.Error:
            continue
        if name in KNOWN:
            found[name] = proc.pid
    return found or {"intake": intake.pid}


KNOWN = frozenset({"postgres", "nats", "temporal", *SERVICES})


def _name_of(cmdline: list[str]) -> str:
    line = " ".join(cmdline)
    if "serve" in cmdline:
        return cmdline[cmdline.index("serve") + 1]
    for needle, name in (("postgres", "postgres"), ("nats-server", "nats"),
                         ("temporal server", "temporal")):
        if needle in line:
            return name
    return Path(cmdline[0]).name if cmdline else "?"
