"""Keeps the local stack's processes alive: a child that dies is restarted with backoff,
the restart is logged, and stopping stops every child, in order, within seconds."""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass, field

import structlog

from services.stack.servers import ServerSpec, stop_process

log = structlog.get_logger("supervisor")

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # a child that ran this long starts its backoff afresh
POLL_INTERVAL = 0.25


@dataclass
class Child:
    spec: ServerSpec
    process: subprocess.Popen
    tier: int  # servers 0, services 1: higher tiers stop first
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)


class Supervisor:
    def __init__(self) -> None:
        self.children: list[Child] = []
        self._watchers: list[asyncio.Task] = []
        self._stopping = False

    def adopt(self, spec: ServerSpec, process: subprocess.Popen, *, tier: int) -> Child:
        """Watch a child that is already running (servers are started and waited for first)."""
        child = Child(spec, process, tier)
        self.children.append(child)
        self._watchers.append(asyncio.create_task(self._watch(child)))
        return child

    def start(self, spec: ServerSpec, *, tier: int) -> Child:
        return self.adopt(spec, spec.spawn(), tier=tier)

    async def _watch(self, child: Child) -> None:
        backoff = BACKOFF_FIRST
        while True:
            # Polled rather than waited for in a thread: one blocked thread per child would
            # exhaust the default executor that stopping needs.
            while (code := child.process.poll()) is None:
                await asyncio.sleep(POLL_INTERVAL)
            if self._stopping:
                return
            if time.monotonic() - child.started_at > HEALTHY_AFTER:
                backoff = BACKOFF_FIRST
            log.warning("process exited; restarting", process=child.spec.name, exit_code=code,
                        restart_in_s=backoff, restarts=child.restarts + 1,
                        log=str(child.spec.log_path))
            await asyncio.sleep(backoff)
            if self._stopping:
                return
            backoff = min(backoff * 2, BACKOFF_MAX)
            child.process = child.spec.spawn()
            child.restarts += 1
            child.started_at = time.monotonic()
            log.info("process restarted", process=child.spec.name, pid=child.process.pid)

    async def stop(self) -> None:
        """Stop the services together, then the servers together, so that services drain
        their work while the servers are still there."""
        self._stopping = True
        for watcher in self._watchers:
            watcher.cancel()
        for tier in sorted({c.tier for c in self.children}, reverse=True):
            group = [c for c in self.children if c.tier == tier]
            await asyncio.gather(*(
                asyncio.to_thread(stop_process, c.process, c.spec.stop_signal) for c in group
            ))
            for child in group:
                log.info("process stopped", process=child.spec.name,
                         exit_code=child.process.returncode)
