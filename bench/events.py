"""The repairs' events as the bench hears them on NATS: each repair's steps
(`repairs.status_changed.v1`: when it was first offered, to whom) and its breaches
(`repairs.overdue.v1`: when a deadline was due and when the workflow noticed it)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nats

from services.common.contracts import REPAIR_OVERDUE, REPAIR_PROGRESSED


@dataclass
class Overdue:
    repair_id: str
    deadline: str
    due_at: datetime
    noticed_at: datetime
    heard_at: float  # time.time() when the bench received it


@dataclass
class Events:
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    first_offer: dict[str, tuple[datetime, float, str]] = field(default_factory=dict)
    overdue: dict[tuple[str, str], Overdue] = field(default_factory=dict)
    _waiters: dict[str, list[tuple[frozenset[str], asyncio.Future]]] = field(
        default_factory=lambda: defaultdict(list))
    _nc: Any = None

    async def listen(self, url: str, prefix: str = "") -> None:
        def subject(name: str) -> str:
            return f"{prefix}.{name}" if prefix else name

        # A big pending limit: a storm's events must not be dropped as a slow consumer's.
        self._nc = await nats.connect(url, name="repairflow-bench")
        await self._nc.subscribe(subject(REPAIR_PROGRESSED), cb=self._on_step,
                                 pending_msgs_limit=10_000_000, pending_bytes_limit=2**31)
        await self._nc.subscribe(subject(REPAIR_OVERDUE), cb=self._on_overdue,
                                 pending_msgs_limit=1_000_000, pending_bytes_limit=2**30)
        await self._nc.flush()

    async def lag(self, prefix: str = "") -> dict[str, int]:
        """Events each durable consumer of the REPAIRS stream has yet to take (the read
        model, the webhooks, follow-up...): how far behind the storm they are."""
        stream = f"{prefix.upper().replace('-', '_')}_REPAIRS" if prefix else "REPAIRS"
        try:
            infos = await self._nc.jetstream().consumers_info(stream)
        except Exception:  # noqa: BLE001 - a figure, not a failure
            return {}
        return {i.name: i.num_pending + i.num_ack_pending for i in infos if i.name}

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()

    async def _on_step(self, msg) -> None:
        heard = time.time()
        event = json.loads(msg.data)
        repair = event["repair_id"]
        self.steps[repair].append(event)
        if event["kind"] == "offered" and repair not in self.first_offer:
            at = datetime.fromisoformat(event["at"])
            self.first_offer[repair] = (at, heard, event.get("technician_id") or "")
        waiters = self._waiters.get(repair)
        if waiters:
            for kinds, future in list(waiters):
                if event["kind"] in kinds and not future.done():
                    future.set_result(event)
                    waiters.remove((kinds, future))

    async def _on_overdue(self, msg) -> None:
        event = json.loads(msg.data)
        self.overdue[(event["repair_id"], event["deadline"])] = Overdue(
            event["repair_id"], event["deadline"], datetime.fromisoformat(event["due_at"]),
            datetime.fromisoformat(event["noticed_at"]), time.time())

    async def wait_for(self, repair_id: str, kinds: set[str], timeout: float) -> dict | None:
        """The repair's first event of one of these kinds (already heard, or to come)."""
        wanted = frozenset(kinds)
        for event in self.steps.get(repair_id, ()):
            if event["kind"] in wanted:
                return event
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiters[repair_id].append((wanted, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None

    def kinds_of(self, repair_id: str) -> list[str]:
        return [e["kind"] for e in self.steps.get(repair_id, ())]
