"""The delegation's one activity: publishing its steps (safe to run twice: message ids)."""

from __future__ import annotations

from dataclasses import asdict

from temporalio import activity

from services.common.bus import Bus
from workflows.delegation.messages import (
    REPAIR_DELEGATION,
    DelegationProgress,
    RepairDelegationStep,
)


def message_id(repair_id: str, sequence: int, round: int = 0) -> str:
    return f"{repair_id}:delegation:" + (f"{round}:" if round else "") + str(sequence)


class DelegationActivities:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    @activity.defn
    async def publish_delegation_step(self, progress: DelegationProgress) -> None:
        """`repairs.delegation.v1`; the message id (repair, sequence) makes a retry a no-op."""
        await self.bus.publish_event(
            REPAIR_DELEGATION, RepairDelegationStep(**asdict(progress)),
            msg_id=message_id(progress.repair_id, progress.sequence, progress.round))
