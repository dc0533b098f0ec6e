"""Starting a run by its business key from the command line: started, joined while it runs,
or found closed (the id ran already; it is never repeated, its result is what is shown); and
following it with a live line of its state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rich.console import Console
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

R = TypeVar("R")


@dataclass(frozen=True)
class Launch:
    """How ``start`` went: ``closed`` is the status of a run that had already ended."""

    workflow_id: str
    joined: bool = False
    closed: WorkflowExecutionStatus | None = None


async def run_status(handle: WorkflowHandle[Any, Any]) -> WorkflowExecutionStatus | None:
    """The run's status; None if there is no such workflow."""
    try:
        return (await handle.describe()).status
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise


async def launch(
    start: Callable[[], Awaitable[object]], handle: WorkflowHandle[Any, Any], *, known_id: bool
) -> Launch:
    """Start the run ``handle`` names; ``known_id``: the caller chose the id, so it may exist."""
    running = known_id and await run_status(handle) is WorkflowExecutionStatus.RUNNING
    try:
        await start()
    except WorkflowAlreadyStartedError:
        return Launch(handle.id, closed=await run_status(handle) or WorkflowExecutionStatus.COMPLETED)
    return Launch(handle.id, joined=running)


def announce(out: Console, request_id: str, started: Launch, ui_url: str, what: str = "") -> None:
    """One line: started (then ``what`` it does), joined (running), or ran already (its result follows)."""
    if started.closed is not None:
        out.print(
            f"request {request_id} ran already (workflow {started.workflow_id}, status {started.closed.name}); "
            f"not repeated: its result:",
            soft_wrap=True,
            highlight=False,
        )
    elif started.joined:
        out.print(
            f"request {request_id} is running already (workflow [bold]{started.workflow_id}[/]); its own arguments "
            f"stand, following it: {ui_url}",
            soft_wrap=True,
        )
    else:
        out.print(f"workflow [bold]{started.workflow_id}[/] started: {ui_url}", soft_wrap=True)
        if what:
            out.print(f"  {what}", soft_wrap=True, highlight=False)


async def start_and_follow(
    out: Console,
    request_id: str,
    handle: WorkflowHandle[Any, R],
    start: Callable[[], Awaitable[object]],
    follow: Callable[[], Awaitable[R]],
    *,
    known_id: bool,
    wait: bool,
    ui_url: str,
    what: str = "",
) -> R | None:
    """Start (or join) the run of ``request_id`` and say which; its result: a closed run's at
    once, a new or running one's by ``follow`` (None without ``wait``). A failed run raises
    ``WorkflowFailureError``."""
    started = await launch(start, handle, known_id=known_id)
    announce(out, request_id, started, ui_url, what)
    if started.closed is not None:
        return await handle.result()
    return await follow() if wait else None


async def follow_run(out: Console, result: Awaitable[R], describe: Callable[[], Awaitable[str]]) -> R:
    """Await ``result``, showing ``describe()`` (a status query, rendered) every half second."""
    task = asyncio.ensure_future(result)
    with out.status("starting…") as spinner:
        while not task.done():
            with contextlib.suppress(Exception):  # the query races the run's start; keep the spinner
                spinner.update(await describe())
            await asyncio.wait({task}, timeout=0.5)
    return task.result()
