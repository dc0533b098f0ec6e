"""Temporal Schedules of ``YieldCompound``: create, list, pause, unpause, trigger,
backfill, delete. Plain Temporal schedules: ``temporal schedule list|describe|toggle|
trigger|backfill|delete`` work on them too, and the UI shows each with its memo (what it
compounds) and its note (why it is paused).

Every schedule overlaps with policy SKIP (a run still going when the next is due makes
that one skip, counted in the schedule's info), catches up missed runs within a window
(after a server outage), and jitters each run's start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from crosslane.domain.yield_compound import COMPOUND_WORKFLOW, CompoundSchedule

MEMO_KEY = "compounds"
_STARTED = ScheduleActionExecutionStartWorkflow
SCHEDULE_PREFIX = "compound-"


def describe_target(spec: CompoundSchedule) -> str:
    request = spec.request
    return (
        f"{request.position.key} of {request.owner} on {request.chain} every {spec.every_seconds} s"
        f" (skip when gas > {request.gas_fraction} of rewards)"
    )


def schedule_of(spec: CompoundSchedule, task_queue: str) -> Schedule:
    """The Temporal Schedule for ``spec``: its runs' workflow ids are the request's workflow
    id plus the fire time, which Temporal appends."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            COMPOUND_WORKFLOW,
            spec.request,
            id=spec.request.workflow_id,
            task_queue=task_queue,
            static_summary=f"compound {spec.request.position.key}",
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=spec.every_seconds))],
            jitter=timedelta(seconds=spec.jitter_seconds) if spec.jitter_seconds else None,
        ),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=timedelta(seconds=spec.catchup_window_seconds),
        ),
        state=ScheduleState(note=f"compounds {describe_target(spec)}"),
    )


@dataclass(frozen=True)
class ScheduleSummary:
    schedule_id: str
    compounds: str
    paused: bool
    note: str
    actions: int
    skipped_overlap: int
    next_runs: list[datetime]
    recent_runs: list[str]


class CompoundSchedules:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    async def create(self, spec: CompoundSchedule) -> str:
        await self.client.create_schedule(
            spec.schedule_id, schedule_of(spec, self.task_queue), memo={MEMO_KEY: describe_target(spec)}
        )
        return spec.schedule_id

    async def describe(self, schedule_id: str) -> ScheduleSummary:
        return await _summary(schedule_id, await self.client.get_schedule_handle(schedule_id).describe())

    async def list(self) -> list[ScheduleSummary]:
        """Every schedule whose action is YieldCompound."""
        found = []
        async for entry in await self.client.list_schedules():
            description = await self.client.get_schedule_handle(entry.id).describe()
            action = description.schedule.action
            if isinstance(action, ScheduleActionStartWorkflow) and action.workflow == COMPOUND_WORKFLOW:
                found.append(await _summary(entry.id, description))
        return sorted(found, key=lambda s: s.schedule_id)

    async def pause(self, schedule_id: str, note: str) -> None:
        await self.client.get_schedule_handle(schedule_id).pause(note=note)

    async def unpause(self, schedule_id: str, note: str) -> None:
        await self.client.get_schedule_handle(schedule_id).unpause(note=note)

    async def trigger(self, schedule_id: str) -> None:
        """One run now, skipped like any other if one is still running."""
        await self.client.get_schedule_handle(schedule_id).trigger(overlap=ScheduleOverlapPolicy.SKIP)

    async def backfill(self, schedule_id: str, start: datetime, end: datetime) -> None:
        """The runs the interval would have fired in [start, end), overlapping ones skipped."""
        await self.client.get_schedule_handle(schedule_id).backfill(
            ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.SKIP)
        )

    async def delete(self, schedule_id: str) -> None:
        await self.client.get_schedule_handle(schedule_id).delete()


async def _summary(schedule_id: str, description: ScheduleDescription) -> ScheduleSummary:
    memo = await description.memo_value(MEMO_KEY, "")
    info, state = description.info, description.schedule.state
    return ScheduleSummary(
        schedule_id=schedule_id,
        compounds=str(memo),
        paused=state.paused,
        note=state.note or "",
        actions=info.num_actions,
        skipped_overlap=info.num_actions_skipped_overlap,
        next_runs=list(info.next_action_times[:3]),
        recent_runs=[
            a.action.workflow_id
            for a in info.recent_actions
            if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
        ],
    )
