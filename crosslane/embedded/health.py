"""Each service of the embedded stack, up only if it answers (``crosslane dev status``).

A live pid is not enough: Temporal must answer a health check, the worker must be polling
its task queue, the fast path must answer over its socket.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from crosslane.arbitrage_stream import split_address
from crosslane.config import Settings
from crosslane.embedded.processes import pid_alive
from crosslane.embedded.stack import StackState, stack_path
from crosslane.fastpath.client import FastPathClient

PROBE_TIMEOUT_S = 3.0
# The scanner publishes once per pass (every 2 s in ``dev up``): a probe arriving just after a
# pass waits the interval plus the next pass, which on a loaded machine took over 3 s.
SCANNER_PROBE_S = 8.0
POLLER_FRESH = timedelta(seconds=90)  # a worker long-polls for up to a minute


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    up: bool
    where: str
    reason: str  # why it counts as up (what answered) or down (what failed)


async def _temporal(cfg: Settings, pid: int | None) -> tuple[ComponentStatus, Client | None]:
    where = f"{cfg.temporal_address}, UI http://127.0.0.1:{cfg.ui_port}" + (f" (pid {pid})" if pid else "")
    try:
        client = await asyncio.wait_for(
            Client.connect(cfg.temporal_address, namespace=cfg.temporal_namespace), PROBE_TIMEOUT_S
        )
        await client.service_client.check_health(timeout=timedelta(seconds=PROBE_TIMEOUT_S))
    except Exception as exc:  # noqa: BLE001 - any failure to answer is the reason it is down
        running = "" if pid is None or pid_alive(pid) else f"pid {pid} is not running; "
        refused = "Connection refused" in str(exc) or "ConnectionRefused" in str(exc)
        problem = "connection refused" if refused else str(exc)
        return ComponentStatus("temporal", False, where, f"{running}not answering: {problem}"), None
    return ComponentStatus("temporal", True, where, "answers its health check"), client


async def _worker(cfg: Settings, client: Client | None, pid: int | None) -> ComponentStatus:
    where = f"task queue {cfg.task_queue}" + (f" (pid {pid})" if pid else "")
    if pid is not None and not pid_alive(pid):
        return ComponentStatus("worker", False, where, f"pid {pid} is not running")
    if client is None:
        return ComponentStatus("worker", False, where, "Temporal is not answering")
    try:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=cfg.temporal_namespace,
                task_queue={"name": cfg.task_queue},
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=timedelta(seconds=PROBE_TIMEOUT_S),
        )
    except Exception as exc:  # noqa: BLE001
        return ComponentStatus("worker", False, where, f"cannot describe the task queue: {exc}")
    # Temporal remembers a poller for minutes after it stops: only recent polls count.
    recent = datetime.now(UTC) - POLLER_FRESH
    pollers = sum(1 for p in described.pollers if p.last_access_time.ToDatetime(UTC) >= recent)
    if not pollers:
        return ComponentStatus("worker", False, where, f"no worker polls task queue {cfg.task_queue}")
    return ComponentStatus("worker", True, where, f"{pollers} poller(s) on the task queue")


async def _fastpath(cfg: Settings, pid: int | None) -> ComponentStatus:
    socket = cfg.home / "fastpath.sock"
    where = str(socket) + (f" (pid {pid})" if pid else "")
    try:
        async with await asyncio.wait_for(FastPathClient.connect(socket), PROBE_TIMEOUT_S) as fastpath:
            venues = await asyncio.wait_for(fastpath.health(), PROBE_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001
        return ComponentStatus("fastpath", False, where, f"not answering: {exc}")
    return ComponentStatus("fastpath", True, where, f"answers health ({len(venues)} venue(s))")


async def _scanner(cfg: Settings, pid: int | None) -> ComponentStatus:
    """The arbitrage scanner answers on its stream: connect and wait for one published line."""
    host, port = split_address(cfg.arb_stream)
    where = cfg.arb_stream + (f" (pid {pid})" if pid else "")
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), PROBE_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001
        return ComponentStatus("scanner", False, where, f"not answering: {exc}")
    try:
        line = await asyncio.wait_for(reader.readline(), SCANNER_PROBE_S)
    except TimeoutError:
        line = b""
    finally:
        writer.close()
    seen = "publishing opportunities" if line else f"connected; nothing published in {SCANNER_PROBE_S:g} s"
    return ComponentStatus("scanner", True, where, seen)


async def _metrics(service: str, url: str) -> ComponentStatus:
    """A Prometheus endpoint answers with samples."""
    name = f"{service}-metrics"
    try:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            text = await response.text()
    except Exception as exc:  # noqa: BLE001
        return ComponentStatus(name, False, url, f"not answering: {exc!r}")
    samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    if response.status != 200 or not samples:
        return ComponentStatus(name, False, url, f"HTTP {response.status}, {samples} sample(s)")
    return ComponentStatus(name, True, url, f"answers /metrics ({samples} samples)")


def _traces(path: str) -> ComponentStatus:
    if not path:
        return ComponentStatus("traces", False, "-", "the stack was started without tracing")
    file = Path(path)
    spans = sum(1 for _ in file.open()) if file.exists() else 0
    return ComponentStatus("traces", True, path, f"{spans} span(s) written" if spans else "no span yet")


async def services_status(cfg: Settings) -> list[ComponentStatus]:
    """Temporal, the worker, the fast path and the scanner, each probed (never raises for a
    stack that is down)."""
    state = StackState.load(stack_path(cfg))
    temporal, client = await _temporal(cfg, state.temporal_pid if state else None)
    worker, fastpath, scanner = await asyncio.gather(
        _worker(cfg, client, state.worker_pid if state else None),
        _fastpath(cfg, state.fastpath_pid if state and state.fastpath_pid else None),
        _scanner(cfg, state.scanner_pid if state and state.scanner_pid else None),
    )
    endpoints = state.metrics if state else {}
    metrics = await asyncio.gather(*(_metrics(service, url) for service, url in endpoints.items()))
    traces = [_traces(state.traces_file)] if state else []
    return [temporal, worker, fastpath, scanner, *metrics, *traces]
