"""The SDK's workflow sandbox with its own entry code compiled once per process.

The sandbox enters a run through ``exec`` of a short source string: once to import the
workflow and once to build it in a fresh sandbox, then once per activation and once per
payload sequence converted (the serialization and storage contexts): ~19 per settled
``TransactionLifecycle``, each compiling the same few strings again. Here the code objects
are compiled once and reused; what runs, and in which sandbox, is unchanged (bench/README.md,
tx_lifecycle, "The sandbox's cost per run").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import CodeType
from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance


@functools.lru_cache(maxsize=256)  # a few strings per workflow type
def compiled(code: str) -> CodeType:
    return compile(code, "<string>", "exec")


class _CompiledOnceInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        super()._run_code(compiled(code), **extra_globals)  # type: ignore[arg-type]  # exec takes code objects


@dataclass(frozen=True)
class CompiledSandboxRunner(SandboxedWorkflowRunner):
    """``SandboxedWorkflowRunner`` whose instances reuse the compiled entry code."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CompiledOnceInstance(det, self.runner_class, self.restrictions)
