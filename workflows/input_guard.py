"""Every workflow's input checked before its run starts: a run started with no input, too
many, or one that is not its request model (``temporal workflow start`` without
``--input``, with two, ...) fails at once with ``InvalidRequest`` instead of staying
Running while its workflow task fails again and again on a TypeError.

One interceptor for every workflow type, registered on the worker (and the replayer).
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)


def run_input_problem(run_fn: Any, args: typing.Sequence[Any]) -> str | None:
    """What is wrong with ``args`` for ``run_fn`` (an unbound ``@workflow.run`` method), or None."""
    params = list(inspect.signature(run_fn).parameters.values())[1:]  # after self
    hints = typing.get_type_hints(run_fn)
    required = [p for p in params if p.default is inspect.Parameter.empty]
    expected = " and ".join(_describe(hints.get(p.name)) for p in params) or "no input"
    if len(args) < len(required) or len(args) > len(params):
        got = "no input" if not args else f"{len(args)} inputs"
        return f"takes {len(params)} input(s) ({expected}); the run was started with {got}"
    for param, arg in zip(params, args, strict=False):
        hint = hints.get(param.name)
        if isinstance(hint, type) and not isinstance(arg, hint):
            return f"input {param.name!r} must be {_describe(hint)}, got {type(arg).__name__}"
    return None


def _describe(hint: Any) -> str:
    return f"a JSON {hint.__name__} object" if isinstance(hint, type) else str(hint)


class _RunInputGuard(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        problem = run_input_problem(input.run_fn, input.args)
        if problem is not None:
            raise ApplicationError(
                f"{workflow.info().workflow_type} {problem}", type="InvalidRequest", non_retryable=True
            )
        return await super().execute_workflow(input)


class WorkflowInputGuard(Interceptor):
    """Worker interceptor: refuses a run whose input does not match its ``run`` signature."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _RunInputGuard
