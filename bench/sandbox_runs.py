"""The workflow sandbox's CPU per run: replay one saved history N times through the
SDK's ``Replayer`` with the worker's runner, and print the process's CPU per run.

    .venv/bin/python -m bench.sandbox_runs [--runs 300] [--history tx_confirmed_settled] [--rounds 6]

A replay goes through what a new run on the worker goes through in the sandbox (a fresh
sandbox, the workflow's module imported in it, the activations run in it), without the
server or the activities: the per-run cost of the sandbox, apart from the rest. Rounds
alternate the worker's runner with the baselines in ``runners``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from statistics import median

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from crosslane.converter import data_converter
from tests.replay.manifest import HISTORIES
from workers.orchestrator import PASSTHROUGH, WORKFLOW_HELPERS, cache_workflow_bytecode, workflow_runner
from workflows.input_guard import WorkflowInputGuard
from workflows.registry import WORKFLOWS


def runners() -> dict[str, SandboxedWorkflowRunner]:
    """The baseline (the SDK's runner, the workflows' helpers imported in the sandbox), the
    SDK's runner with the helpers passed through, and the worker's runner (also compiling
    the sandbox's entry code once)."""
    before = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    helpers = before.with_passthrough_modules(*WORKFLOW_HELPERS)
    return {
        "baseline": SandboxedWorkflowRunner(restrictions=before),
        "helpers passed through": SandboxedWorkflowRunner(restrictions=helpers),
        "worker's": workflow_runner(),
    }


async def cpu_ms_per_run(history: WorkflowHistory, runs: int, runner: SandboxedWorkflowRunner) -> float:
    """CPU ms of this process per replayed run (one replay worker for all ``runs``)."""
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter,
        workflow_runner=runner,
        interceptors=[WorkflowInputGuard()],
    )

    async def copies() -> AsyncIterator[WorkflowHistory]:
        for i in range(runs):
            yield WorkflowHistory(f"{history.workflow_id}-{i}", history.events)

    start = time.process_time()
    results = await replayer.replay_workflows(copies(), raise_on_replay_failure=True)
    elapsed = time.process_time() - start
    assert not results.replay_failures
    return elapsed * 1000 / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--history", default="tx_confirmed_settled")
    args = parser.parse_args()
    cache_workflow_bytecode(Path(tempfile.mkdtemp(prefix="sandbox-runs-")))  # as the worker does
    path = HISTORIES / f"{args.history}.json"
    history = WorkflowHistory.from_json(args.history, path.read_text())
    figures: dict[str, list[float]] = {}
    for runner in runners().values():
        asyncio.run(cpu_ms_per_run(history, 20, runner))  # warm-up: bytecode written, first imports done
    for i in range(args.rounds):
        order = list(runners().items())
        for name, runner in order if i % 2 == 0 else reversed(order):
            ms = asyncio.run(cpu_ms_per_run(history, args.runs, runner))
            figures.setdefault(name, []).append(ms)
            print(f"round {i + 1}, {name} runner: {args.runs} replays of {args.history}: {ms:.2f} ms CPU per run")
    for name, values in figures.items():
        print(f"{name} runner: median {median(values):.2f} ms CPU per run")


if __name__ == "__main__":
    main()
