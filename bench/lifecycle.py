"""One repair driven through the API as the people would: the offered technician accepts,
arrives, (for a repair the owner pays) diagnoses with a quote the owner accepts, completes,
and the owner signs off, or first rejects the work once (返工) and signs off after the
second visit. The offer is heard on NATS, as a technician's app is pushed it.

Each next step follows from the repair's status, as an app's screen does: an action that
timed out (503) may still have been done, so after any refusal the repair's progress is
read again and the next step is the one its status calls for."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench.callcenter import CallCenter
from bench.events import Events

MAX_STEPS = 30


@dataclass
class Lifecycle:
    repair_id: str
    rework: bool
    outcome: str = "pending"  # closed, not_offered, handed_over, stuck: <status>
    offered_at: float | None = None
    closed_at: float | None = None
    actions: int = 0
    refused: int = 0  # 409s and 503s answered to the actions
    detail: str = ""
    action_ms: dict[str, list[float]] = field(default_factory=dict)


async def drive(center: CallCenter, events: Events, repair_id: str, *, rework: bool,
                offer_timeout: float = 120.0) -> Lifecycle:
    life = Lifecycle(repair_id, rework)
    first = await events.wait_for(repair_id, {"offered", "delegated"}, offer_timeout)
    if first is None:
        life.outcome = "not_offered"
        return life
    if first["kind"] == "delegated":  # handed to its liable party at the report
        life.outcome = "handed_over"
        return life
    life.offered_at = time.time()
    state = {"status": "offered", "offered_to": first["technician_id"], "technician_id": None,
             "warranty_outcome": first.get("warranty_outcome"), "quote_state": None,
             "reworks": 0}
    for _ in range(MAX_STEPS):
        status = state["status"]
        if status == "closed":
            life.closed_at = time.time()
            life.outcome = "closed"
            return life
        action, body = next_step(state, rework=rework)
        if action is None:
            life.outcome = f"stuck: {status}"
            return life
        began = time.perf_counter()
        code, answer = await center.act(repair_id, action, body)
        life.actions += 1
        life.action_ms.setdefault(action, []).append(
            round((time.perf_counter() - began) * 1000, 1))
        if code == 200:
            state = answer
            continue
        life.refused += 1
        life.detail = f"{action}: {code} {answer.get('code')}: {answer.get('detail')}"
        state = await progress(center, repair_id) or state
    life.outcome = f"stuck: {state['status']}"
    return life


def next_step(state: dict, *, rework: bool) -> tuple[str | None, dict | None]:
    """The action the repair's status calls for (None: nothing a person can do now)."""
    status = state["status"]
    technician = state.get("technician_id") or state.get("offered_to")
    me = {"technician_id": technician}
    paid = state.get("warranty_outcome") == "chargeable"
    if status == "offered":
        return "accept", {"technician_id": state.get("offered_to")}
    if status == "accepted":
        return "arrive", me
    if status == "arrived" and paid and state.get("quote_state") not in ("accepted", "waived"):
        return "diagnose", {**me, "cause": "owner_misuse", "plan": "业主使用不当，更换损坏部件",
                            "quote": {"lines": [{"code": "DC-01", "quantity": 1}],
                                      "by": technician}}
    if status == "quoted":
        return "quote-decision", {"decision": "accept", "by": "业主"}
    if status in ("arrived", "diagnosed"):
        return "complete", {**me, "work_done": "台风后抢修完成"}
    if status == "completed":
        if rework and not state.get("reworks"):
            return "acceptance", {"accepted": False, "signed_by": "业主",
                                  "reason": "仍有渗水，要求返工"}
        return "acceptance", {"accepted": True, "signed_by": "业主"}
    return None, None


async def progress(center: CallCenter, repair_id: str) -> dict | None:
    """The repair's live state, waiting out a moment of overload."""
    for attempt in range(1, 6):
        code, state = await center.act(repair_id, "progress", method="GET")
        if code == 200:
            return state
        await asyncio.sleep(attempt)
    return None
