"""Every saved history replays against today's workflow code: a non-deterministic change
(reordered activities, a new timer, a renamed signal) fails here before it breaks open runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from crosslane.converter import data_converter
from tests.replay.manifest import HISTORIES as HISTORY_DIR
from tests.replay.manifest import MANIFEST, digest, read_manifest
from workers.orchestrator import workflow_runner
from workflows.input_guard import WorkflowInputGuard
from workflows.registry import WORKFLOWS

HISTORIES = sorted(HISTORY_DIR.glob("*.json"))


def test_histories_are_saved() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"tx_confirmed", "tx_stuck_replaced", "tx_cancelled_by_signal", "recovery_clean"} <= names
    assert any(name.startswith("cex_order_") for name in names)
    assert {"sol_confirmed", "sol_spl_confirmed", "sol_resigned_after_expiry", "sol_cancelled"} <= names


def test_no_saved_history_was_changed_or_removed() -> None:
    """Old histories replaying against new code is the point: they are only ever added."""
    listed = read_manifest()
    on_disk = {p.name: digest(p) for p in HISTORIES}
    assert not (removed := sorted(set(listed) - set(on_disk))), f"saved histories removed: {removed}"
    changed = sorted(name for name, sha in on_disk.items() if name in listed and listed[name] != sha)
    assert not changed, f"saved histories edited or overwritten (record new ones under new names): {changed}"
    unlisted = sorted(set(on_disk) - set(listed))
    assert not unlisted, f"histories not in {MANIFEST.name} (save them with save_histories): {unlisted}"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter,
        workflow_runner=workflow_runner(),
        interceptors=[WorkflowInputGuard()],
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer.replay_workflow(history)
