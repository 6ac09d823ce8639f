"""The project's Temporal Schedule `revisit-plan-<project>`: every 1 December at 06:00 in
the project's zone it starts `RevisitPlanWorkflow`, which plans the next year.

1 December leaves a month to arrange the year's first revisits before it begins; 06:00
keeps the run off midnight and before the office opens. A missed run (the cluster down)
is caught up within 30 days; overlapping runs are skipped. Creating the schedule again
updates it in place (task queue, zone), keeping whether it is paused.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.revisit_plan.messages import RevisitPlanInput, schedule_id
from workflows.revisit_plan.workflow import RevisitPlanWorkflow

RUNS_ON = ScheduleCalendarSpec(month=[ScheduleRange(12)], day_of_month=[ScheduleRange(1)],
                               hour=[ScheduleRange(6)],
                               comment="1 December: plan the next year's revisits")
CATCHUP = timedelta(days=30)


def revisit_schedule(*, project: str, time_zone: str, task_queue: str) -> Schedule:
    """The schedule of one project's yearly plan."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RevisitPlanWorkflow.run, RevisitPlanInput(project=project),
            id=schedule_id(project),  # each run's id gets the run's time appended
            task_queue=task_queue, execution_timeout=timedelta(days=2)),
        spec=ScheduleSpec(calendars=[RUNS_ON], time_zone_name=time_zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP),
        state=ScheduleState(note=f"{project}: annual quality-revisit plan (年度质量回访计划)"),
    )


async def ensure_revisit_schedule(client: Client, *, project: str, time_zone: str,
                                  task_queue: str) -> str:
    """Create the project's schedule, or update it to these settings; its id."""
    wanted = revisit_schedule(project=project, time_zone=time_zone, task_queue=task_queue)
    try:
        await client.create_schedule(schedule_id(project), wanted)
    except ScheduleAlreadyRunningError:

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            wanted.state = current.description.schedule.state  # paused stays paused
            return ScheduleUpdate(schedule=wanted)

        await client.get_schedule_handle(schedule_id(project)).update(keep_state)
    return schedule_id(project)
