"""Activities of the repair workflow: each touches the world once and is safe to run twice."""

from __future__ import annotations

from temporalio import activity

from services.common.bus import Bus
from services.common.contracts import REPAIR_OVERDUE, RepairOverdue
from workflows.repair.messages import OverdueNotice


class RepairActivities:
    """Holds the clients the activities need (given once, at worker start)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    @activity.defn
    async def announce_overdue(self, notice: OverdueNotice) -> None:
        """Publish `repairs.overdue.v1`; the message id makes a retry a no-op."""
        await self.bus.publish_event(
            REPAIR_OVERDUE,
            RepairOverdue(
                repair_id=notice.repair_id, deadline=notice.deadline,
                due_at=notice.due_at, noticed_at=notice.noticed_at,
            ),
            msg_id=f"{notice.repair_id}:overdue:{notice.deadline}",
        )
