"""The bare workflow of bench.temporal_floor, in its own module so the workflow sandbox can
import it (it cannot re-import ``__main__``)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

STEP = timedelta(seconds=30)


@activity.defn(name="noop")
async def noop(i: int) -> int:
    return i + 1


@workflow.defn(name="ThreeSteps")
class ThreeSteps:
    @workflow.run
    async def run(self, local: bool) -> int:
        value = 0
        for _ in range(3):
            if local:
                value = await workflow.execute_local_activity(noop, value, start_to_close_timeout=STEP)
            else:
                value = await workflow.execute_activity(noop, value, start_to_close_timeout=STEP)
        return value
