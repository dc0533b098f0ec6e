"""The orchestrator worker: hosts Crosslane's workflows and activities on one task queue.

Stateless apart from its signer keys: run as many as the load needs; the ledger and
Temporal hold all state.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.registry import build_activities
from activities.runtime import ChainRuntime
from crosslane.client import connect_temporal
from crosslane.config import Settings, settings
from crosslane.registry import RegistryError
from crosslane.telemetry.temporal import temporal_runtime, tracing_interceptor
from workers.sandbox import CompiledSandboxRunner
from workflows import registry as workflow_registry
from workflows.input_guard import WorkflowInputGuard
from workflows.registry import WORKFLOWS

log = logging.getLogger(__name__)

# Loaded once outside the sandbox: models are immutable data, and re-importing pydantic
# and eth-utils for every workflow run would cost more than the run itself.
# opentelemetry: the tracing interceptor's workflow side uses it, as Temporal's docs ask.
PASSTHROUGH = (
    "pydantic",
    "pydantic_core",
    "eth_utils",
    "eth_typing",
    "eth_hash",
    "Crypto",
    "crosslane",
    "opentelemetry",
)

# The workflows' stateless helpers (constants, functions, a class whose instances live in one
# run), loaded once too: in the sandbox each was imported again for every run of every
# workflow that uses it (bench/README.md, tx_lifecycle, "The sandbox's cost per run"). Only
# modules without mutable module-level state a run could change (tests/unit/test_sandbox_passthrough.py);
# the workflow modules themselves, and ``child_tx`` (it imports one), stay in the sandbox.
WORKFLOW_HELPERS = (
    "workflows.search_attributes",
    "workflows.failures",
    "workflows.retry",
    "workflows.run_state",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH, *WORKFLOW_HELPERS)
    return CompiledSandboxRunner(restrictions=restrictions)


# Local activities (the lifecycle's short steps) beyond this wait in the SDK's queue, where
# their start-to-close timeout does not run yet. With the SDK's 100, hundreds of lifecycles in
# flight had their local steps queue behind the ledger's threads inside that timeout, time
# out and run again (bench/README.md, tx_lifecycle).
MAX_LOCAL_ACTIVITIES = 16

# Workflow task pollers, and the share of them on the queue's normal (non-sticky) side. Every
# new run's first workflow task arrives there, and a lifecycle that settles in its send has no
# other: with the SDK's 5 pollers and 0.2, one poll at a time served hundreds of new runs
# while four waited on sticky queues with nothing to hand out (bench/README.md, tx_lifecycle,
# issue 15). An idle poll is a held gRPC call, not CPU.
WORKFLOW_TASK_POLLERS = 10
NONSTICKY_POLL_RATIO = 0.5


def cache_workflow_bytecode(home: Path) -> bool:
    """Keep the workflows' bytecode under ``home`` when Python may not write it next to the
    sources (``PYTHONDONTWRITEBYTECODE``) and none was installed (a source checkout; an
    installed wheel has it). The sandbox imports a workflow's module again for every run:
    without bytecode that is a compile of the source per run, ~10 % of this worker's CPU per
    ``TransactionLifecycle`` at 200 in flight (bench/README.md). True if it set the cache up."""
    installed = importlib.util.cache_from_source(workflow_registry.__file__)
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None or Path(installed).exists():
        return False
    sys.pycache_prefix = str(home / "pycache")
    sys.dont_write_bytecode = False
    return True


def build_worker(
    client: Client,
    runtime: ChainRuntime,
    task_queue: str,
    *,
    max_concurrent_activities: int = 200,
    max_concurrent_local_activities: int = MAX_LOCAL_ACTIVITIES,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(runtime),
        workflow_runner=workflow_runner(),
        interceptors=[WorkflowInputGuard()],
        max_concurrent_activities=max_concurrent_activities,
        max_concurrent_local_activities=max_concurrent_local_activities,
        graceful_shutdown_timeout=timedelta(seconds=5),
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(WORKFLOW_TASK_POLLERS),
        nonsticky_to_sticky_poll_ratio=NONSTICKY_POLL_RATIO,
    )


async def run_worker(cfg: Settings | None = None, *, ready: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM."""
    cfg = cfg or settings()
    runtime = ChainRuntime.from_settings(cfg)  # first: without a registry there is nothing to serve
    if cache_workflow_bytecode(cfg.home):
        log.info("workflow bytecode cached under %s (PYTHONDONTWRITEBYTECODE is set)", sys.pycache_prefix)
    tracing = tracing_interceptor(cfg)
    client = await connect_temporal(cfg, runtime=temporal_runtime(cfg), interceptors=[tracing] if tracing else [])
    worker = build_worker(client, runtime, cfg.task_queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker on %s queue %s; chains %s; signers %s; metrics %s; traces %s",
        cfg.temporal_address,
        cfg.task_queue,
        sorted(runtime.chains.chains),
        runtime.signers.addresses,
        f"http://{cfg.metrics_host}:{cfg.metrics_port}/metrics" if cfg.metrics_port else "off",
        cfg.traces_file or "off",
    )
    async with worker:
        if ready is not None:
            ready.set()
        await stop.wait()
    await runtime.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(run_worker())
    except RegistryError as exc:  # no chains to work on: say why in one line, no traceback
        log.error("the worker cannot start: %s", exc)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
