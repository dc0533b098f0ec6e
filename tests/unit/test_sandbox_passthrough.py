"""The workflows' helper modules the worker passes through the sandbox are loaded once per
process and shared by every run: they must hold no state a run could change, and must not
bring a workflow module out of the sandbox with them."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import importlib
import inspect
from datetime import timedelta
from enum import Enum
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any, TypeVar

import pytest
from temporalio.client import WorkflowHistory
from temporalio.common import RetryPolicy
from temporalio.worker import Replayer

from crosslane.converter import data_converter
from tests.replay.manifest import HISTORIES
from workers.orchestrator import WORKFLOW_HELPERS, workflow_runner
from workers.sandbox import CompiledSandboxRunner, compiled
from workflows.input_guard import WorkflowInputGuard
from workflows.registry import WORKFLOWS

WORKFLOWS_DIR = Path(importlib.import_module("workflows").__file__ or "").parent


def _immutable(value: Any) -> bool:
    if isinstance(value, str | int | float | bool | bytes | type(None) | frozenset | Enum | type | timedelta):
        return True
    if isinstance(value, tuple):
        return all(_immutable(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        frozen = type(value).__dataclass_params__.frozen  # type: ignore[attr-defined]
        return frozen and all(_immutable(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def _shared_values(module: ModuleType) -> dict[str, Any]:
    """Module-level values other than imports, functions, classes and type variables."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("__")
        and not isinstance(value, ModuleType | FunctionType | type | TypeVar)
        and type(value).__module__ != "__future__"  # `from __future__ import annotations`
    }


@pytest.mark.parametrize("name", WORKFLOW_HELPERS)
def test_helper_values_are_immutable(name: str) -> None:
    """Constants only: a frozen value, or a retry policy no workflow module assigns to (below)."""
    module = importlib.import_module(name)
    mutable = {
        k: v
        for k, v in _shared_values(module).items()
        if not _immutable(v) and not (isinstance(v, RetryPolicy) and _immutable(tuple(vars(v).values())))
    }
    assert not mutable, f"{name} holds mutable module-level state a run could change: {sorted(mutable)}"


@pytest.mark.parametrize("name", WORKFLOW_HELPERS)
def test_helper_is_no_workflow_and_imports_none(name: str) -> None:
    module = importlib.import_module(name)
    assert not [
        c for _, c in inspect.getmembers(module, inspect.isclass) if hasattr(c, "__temporal_workflow_definition")
    ]
    tree = ast.parse(inspect.getsource(module))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {
        f"workflows.{a.name}"
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "workflows"
        for a in n.names
    }
    from_workflows = {m for m in imported if m.startswith("workflows.")}
    assert from_workflows <= set(WORKFLOW_HELPERS), f"{name} imports {sorted(from_workflows - set(WORKFLOW_HELPERS))}"


def _helper_names(tree: ast.Module) -> set[str]:
    """Names a workflow module binds from the helpers (``sa``, ``ACTIVITY_RETRY``, ...)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in WORKFLOW_HELPERS:
            names |= {a.asname or a.name for a in node.names}
        if isinstance(node, ast.ImportFrom) and node.module == "workflows":
            names |= {a.asname or a.name for a in node.names if f"workflows.{a.name}" in WORKFLOW_HELPERS}
    return names


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node


def _stores_into(tree: ast.Module, names: set[str]) -> list[str]:
    hits = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for t in targets:
            root = _root(t)
            if t is not root and isinstance(root, ast.Name) and root.id in names:
                hits.append(f"line {t.lineno}: {ast.unparse(t)}")
    return hits


@pytest.mark.parametrize("path", sorted(WORKFLOWS_DIR.glob("*.py")), ids=lambda p: p.stem)
def test_no_workflow_assigns_into_a_helper(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert not _stores_into(tree, _helper_names(tree) | set(WORKFLOW_HELPERS))


def test_the_store_check_finds_an_assignment() -> None:
    tree = ast.parse("from workflows.retry import ACTIVITY_RETRY\nACTIVITY_RETRY.maximum_attempts = 3\n")
    assert _stores_into(tree, _helper_names(tree)) == ["line 2: ACTIVITY_RETRY.maximum_attempts"]


def test_worker_runner_compiles_the_sandbox_entry_code_once() -> None:
    runner = workflow_runner()
    assert isinstance(runner, CompiledSandboxRunner)
    history = WorkflowHistory.from_json("tx", (HISTORIES / "tx_confirmed_settled.json").read_text())

    async def replay() -> None:
        replayer = Replayer(
            workflows=WORKFLOWS,
            data_converter=data_converter,
            workflow_runner=runner,
            interceptors=[WorkflowInputGuard()],
        )
        await replayer.replay_workflow(history)

    asyncio.run(replay())
    misses = compiled.cache_info().misses
    hits = compiled.cache_info().hits
    asyncio.run(replay())
    assert compiled.cache_info().misses == misses  # the second run compiled nothing
    assert compiled.cache_info().hits > hits
