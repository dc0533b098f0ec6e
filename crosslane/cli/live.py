"""Follow workflow runs in the terminal: each run's status query shown live until all are done."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from rich.console import Console
from rich.live import Live
from rich.table import Table
from temporalio.client import WorkflowHandle

R = TypeVar("R")
S = TypeVar("S")


async def follow_runs(
    out: Console,
    handles: Sequence[WorkflowHandle[object, R]],
    ids: list[str],
    fetch: Callable[[str], Awaitable[S]],
    table: Callable[[dict[str, S | None]], Table],
) -> list[R]:
    """Await the runs, showing each one's status query live (``table`` of id -> status)."""
    results = asyncio.ensure_future(asyncio.gather(*(h.result() for h in handles)))
    rows: dict[str, S | None] = dict.fromkeys(ids)
    with Live(table(rows), console=out, refresh_per_second=8) as live:
        while not results.done():
            for rid in ids:
                with contextlib.suppress(Exception):  # not started yet: the query races the first task
                    rows[rid] = await fetch(rid)
            live.update(table(rows))
            await asyncio.wait({results}, timeout=0.25)
        for rid in ids:
            rows[rid] = await fetch(rid)
        live.update(table(rows))
    return list(results.result())
