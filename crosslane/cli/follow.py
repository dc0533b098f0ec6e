"""Following a run from the CLI: await its result with a live line of its state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console

R = TypeVar("R")


async def follow_run(out: Console, result: Awaitable[R], describe: Callable[[], Awaitable[str]]) -> R:
    """Await ``result``, showing ``describe()`` (a status query, rendered) every half second."""
    task = asyncio.ensure_future(result)
    with out.status("starting…") as spinner:
        while not task.done():
            with contextlib.suppress(Exception):  # the query races the run's start; keep the spinner
                spinner.update(await describe())
            await asyncio.wait({task}, timeout=0.5)
    return task.result()
