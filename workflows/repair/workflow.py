"""`RepairWorkflow`: one durable workflow per repair, id `repair-<id>`.

The walking skeleton of the lifecycle: the repair is reported, a durable timer guards its
arrival deadline (到场时限) and marks it overdue when nobody has arrived by then, and the
technician's arrival is an update that a validator refuses when it makes no sense.
Warranty decision, dispatch, diagnosis, the paid path, delegation and acceptance with rework
fill in the steps between (the lifecycle issue).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

# Passed through: the messages' datetime hints must be the real class, not the sandbox's.
with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.repair.activities import RepairActivities
    from workflows.repair.messages import Arrival, OverdueNotice, RepairInput, RepairState


@workflow.defn
class RepairWorkflow:
    def __init__(self) -> None:
        self._repair: RepairInput | None = None
        self._status = "reported"
        self._overdue = False
        self._arrival: Arrival | None = None

    @workflow.run
    async def run(self, repair: RepairInput) -> RepairState:
        self._repair = repair
        wait = max(repair.arrive_by - workflow.now(), timedelta(0))
        try:
            await workflow.wait_condition(lambda: self._arrival is not None, timeout=wait)
        except TimeoutError:
            self._overdue = True
            workflow.upsert_search_attributes([sa.OVERDUE.value_set(True)])
            await workflow.execute_activity_method(
                RepairActivities.announce_overdue,
                OverdueNotice(repair.repair_id, "arrive_by", repair.arrive_by, workflow.now()),
                start_to_close_timeout=timedelta(seconds=30),
            )
        await workflow.wait_condition(lambda: self._arrival is not None)
        # What follows arrival (diagnosis, repair, the owner's acceptance) comes with the
        # lifecycle issue. Until then an arrived repair stays open: it is not finished, and
        # the UI must not show it as completed.
        await workflow.wait_condition(lambda: self._status == "closed")
        return self.state()

    @workflow.query
    def state(self) -> RepairState:
        assert self._repair is not None
        return RepairState(
            repair_id=self._repair.repair_id,
            status=self._status,
            arrive_by=self._repair.arrive_by,
            overdue=self._overdue,
            arrived_at=self._arrival.arrived_at if self._arrival else None,
            technician_id=self._arrival.technician_id if self._arrival else None,
        )

    @workflow.update
    async def record_arrival(self, arrival: Arrival) -> RepairState:
        self._arrival = arrival
        self._status = "arrived"
        workflow.upsert_search_attributes([
            sa.REPAIR_STATUS.value_set("arrived"), sa.ASSIGNEE.value_set(arrival.technician_id)
        ])
        return self.state()

    @record_arrival.validator
    def _validate_arrival(self, arrival: Arrival) -> None:
        if self._arrival is not None:
            raise ValueError(
                f"already arrived at {self._arrival.arrived_at.isoformat()} "
                f"({self._arrival.technician_id})"
            )
        if not arrival.technician_id:
            raise ValueError("technician_id is required")
