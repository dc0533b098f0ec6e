"""A step repeated at a steady pace until cancelled, a failing step reported and survived:
the loop of every long-running helper process (scanner passes, pool polls, noise trades)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def every(
    interval_s: float, step: Callable[[], Awaitable[object]], on_error: Callable[[Exception], None]
) -> None:
    """Run ``step`` every ``interval_s`` (measured from each start) until cancelled; an
    exception from it goes to ``on_error`` and the next step runs on time."""
    while True:
        started = time.monotonic()
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed step must not stop the loop
            on_error(exc)
        await asyncio.sleep(max(0.01, interval_s - (time.monotonic() - started)))
