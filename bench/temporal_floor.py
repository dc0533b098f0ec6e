"""The dev server's floor: bare workflows of three no-op steps, per server setting and lever.

    .venv/bin/python -m bench.temporal_floor [--count 200] [--rounds 3]

``count`` workflows started at once, each running three no-op activities in sequence, on an
in-process worker; no chain, no ledger: what Temporal itself costs per operation. Every
round runs every variant against two dev servers started here (SQLite defaults, and WAL
with ``synchronous=normal`` as ``crosslane dev up`` runs it):

- ``activities``: three regular activities (each a server round trip: schedule, start, complete)
- ``local``: three local activities (run inside the workflow task, recorded as markers)
- ``tuned``: regular activities, worker with more pollers and slots, a larger sticky cache
- ``eager``: regular activities, eager workflow start (the first task comes back with the start)

Prints per variant and server: workflows/s, p50 and p99 latency; medians over rounds, and
each variant's ratio to ``activities`` on the default server (the baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.floor_workflow import ThreeSteps, noop
from bench.stats import Run
from crosslane.embedded.processes import stop_pid
from crosslane.embedded.temporal_server import DEFAULT_PRAGMAS, WAL_PRAGMAS
from devnet.sandbox import temporal_on_free_ports
from workers.orchestrator import workflow_runner

VARIANTS: dict[str, dict[str, Any]] = {
    "activities": {},
    "local": {"local": True},
    "tuned": {
        "worker": {
            "max_concurrent_workflow_task_polls": 8,
            "max_concurrent_activity_task_polls": 8,
            "max_concurrent_workflow_tasks": 400,
            "max_concurrent_activities": 400,
            "max_cached_workflows": 2000,
        }
    },
    "eager": {"eager": True},
}


async def one_batch(client: Client, count: int, variant: dict[str, Any]) -> Run:
    queue = f"floor-{secrets.token_hex(3)}"
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[ThreeSteps],
        activities=[noop],
        workflow_runner=workflow_runner(),  # the orchestrator's sandbox, as in production
        **variant.get("worker", {}),
    )
    async with worker:

        async def one(i: int) -> float:
            started = time.perf_counter()
            await client.execute_workflow(
                ThreeSteps.run,
                bool(variant.get("local")),
                id=f"{queue}-{i}",
                task_queue=queue,
                request_eager_start=bool(variant.get("eager")),
            )
            return time.perf_counter() - started

        started = time.perf_counter()
        latencies = await asyncio.gather(*(one(i) for i in range(count)))
        return Run("", count, time.perf_counter() - started, list(latencies))


async def main(count: int, rounds: int) -> None:
    servers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, pragmas in (("default", DEFAULT_PRAGMAS), ("wal", WAL_PRAGMAS)):
                proc, port = await temporal_on_free_ports(Path(tmp), name=name, sqlite_pragmas=pragmas)
                servers[name] = (proc, await Client.connect(f"127.0.0.1:{port}"))
            runs: dict[tuple[str, str], list[Run]] = {}
            for r in range(rounds):
                print(f"round {r + 1}/{rounds}")
                for variant, options in VARIANTS.items():
                    for name, (_, client) in servers.items():
                        run = await one_batch(client, count, options)
                        runs.setdefault((variant, name), []).append(run)
                        print(f"  {variant:<10} {name:<7} {row(run)}")
            print(f"median of {rounds} rounds, {count} workflows of 3 no-op steps each:")
            base = med(runs[("activities", "default")], lambda x: x.per_second)
            for (variant, name), rs in runs.items():
                tps = med(rs, lambda x: x.per_second)
                print(
                    f"  {variant:<10} {name:<7} {tps:7.1f} wf/s  p50 {med(rs, lambda x: x.p50_ms):8.1f} ms  "
                    f"p99 {med(rs, lambda x: x.p99_ms):8.1f} ms  ratio {tps / base:.2f}x"
                )
        finally:
            for proc, _ in servers.values():
                stop_pid(proc.pid)


def med(runs: list[Run], figure: Callable[[Run], float]) -> float:
    return statistics.median(figure(r) for r in runs)


def row(run: Run) -> str:
    return f"{run.per_second:7.1f} wf/s  p50 {run.p50_ms:8.1f} ms  p99 {run.p99_ms:8.1f} ms"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds))
