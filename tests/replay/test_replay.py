"""Every saved history replays against today's workflow code: a non-deterministic change
(reordered activities, a new timer, a renamed signal) fails here before it breaks open runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from crosslane.converter import data_converter
from workers.orchestrator import workflow_runner
from workflows.registry import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_saved() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"tx_confirmed", "tx_stuck_replaced", "tx_cancelled_by_signal", "recovery_clean"} <= names
    assert {"sol_confirmed", "sol_spl_confirmed", "sol_resigned_after_expiry", "sol_cancelled"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=workflow_runner())
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer.replay_workflow(history)
