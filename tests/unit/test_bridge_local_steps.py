"""BridgeTransfer's shapes (issue 15): since the patch ``bridge-local-steps`` only the
heartbeating track is an activity task; the short steps are local-activity markers. Runs
recorded before the patch keep their regular activities (tests/replay replays both)."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import pytest

from crosslane.domain.bridge_steps import (
    INLINE_TX_PATCH,
    LOCAL_STEPS_ENV,
    LOCAL_STEPS_PATCH,
    BridgeActivity,
    local_steps_offered,
)
from crosslane.domain.tx_steps import TxActivity

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = ROOT / "tests" / "replay" / "histories"


def _shape(name: str) -> tuple[list[str], list[str]]:
    """(regular activities scheduled, marker names) of a saved history."""
    events = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
    activities = [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
    ]
    markers = [
        e["markerRecordedEventAttributes"]["markerName"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED"
    ]
    return activities, markers


def _patch_ids(name: str) -> list[str]:
    events = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
    return [
        json.loads(
            base64.b64decode(e["markerRecordedEventAttributes"]["details"]["patch-data"]["payloads"][0]["data"])
        )["id"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED"
        and e["markerRecordedEventAttributes"]["markerName"] == "core_patch"
    ]


@pytest.mark.parametrize(
    ("name", "local_steps"),
    [("bridge_wormhole_completed_local", 4), ("bridge_across_filled_local", 3)],
)
def test_a_patched_transfer_sends_only_the_track_through_the_server(name: str, local_steps: int) -> None:
    activities, markers = _shape(name)
    assert activities == [BridgeActivity.TRACK]
    assert markers.count("core_patch") == 1
    assert markers.count("core_local_activity") == local_steps
    assert _patch_ids(name) == [LOCAL_STEPS_PATCH]


def test_a_transfer_recorded_before_the_patch_keeps_its_regular_activities() -> None:
    activities, markers = _shape("bridge_wormhole_completed")
    assert activities == [
        BridgeActivity.PLAN,
        BridgeActivity.DEPOSIT_REF,
        BridgeActivity.TRACK,
        BridgeActivity.COMPLETION,
        BridgeActivity.VERIFY,
    ]
    assert markers == []


def test_local_steps_are_offered_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    local_steps_offered.cache_clear()
    monkeypatch.setenv(LOCAL_STEPS_ENV, "0")
    assert not local_steps_offered()
    local_steps_offered.cache_clear()
    monkeypatch.delenv(LOCAL_STEPS_ENV)
    assert local_steps_offered()
    local_steps_offered.cache_clear()


def test_the_bridge_workflow_does_not_import_the_lifecycle_module() -> None:
    """The sandbox imports a workflow's imports again for every run: the child lifecycle is
    started by its type name instead (same child, same history)."""
    tree = ast.parse((ROOT / "workflows" / "bridge_transfer.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "workflows.tx_lifecycle" not in imported


def _children(name: str) -> list[str]:
    events = json.loads((HISTORIES / f"{name}.json").read_text())["events"]
    return [
        e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowId"]
        for e in events
        if e["eventType"] == "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED"
    ]


@pytest.mark.parametrize(
    ("name", "local_steps"),
    [("bridge_wormhole_completed_inline", 6), ("bridge_across_filled_inline", 4)],
)
def test_an_inline_transfer_sends_its_transactions_itself(name: str, local_steps: int) -> None:
    """Since ``bridge-inline-tx`` (which implies the local steps: one marker) every transaction
    mined at its send is sent by the transfer's own ``tx_send_settle``: no child lifecycle. The
    approval's is a regular activity (the workflow task ends, so a cancel sent meanwhile is
    seen before the deposit), the others local (with plan, deposit id, completion, verify)."""
    activities, markers = _shape(name)
    assert activities[0] == TxActivity.SEND_SETTLE and set(activities[1:]) == {BridgeActivity.TRACK}
    assert markers.count("core_local_activity") == local_steps
    assert _patch_ids(name) == [INLINE_TX_PATCH]
    assert _children(name) == []


def test_an_inline_transfer_hands_a_held_approval_to_a_lifecycle() -> None:
    """The recorder held the approval (manual mining): a child lifecycle with the transaction's
    ledger id took it over and sent the cancel."""
    assert _patch_ids("bridge_cancelled_before_deposit_inline") == [INLINE_TX_PATCH]
    assert _children("bridge_cancelled_before_deposit_inline") == ["tx-bridge-replay-cancelled.approve"]
