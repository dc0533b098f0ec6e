"""No signer key reaches a BridgeTransfer's history (with the transactions it sends itself, or
its children's) or the worker log."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.api.history.v1 import History

from crosslane.domain.bridge import BridgeState
from tests.e2e.test_no_secrets import secret_forms
from tests.support.bridge import bridge_request
from tests.support.dex import deal
from tests.support.stack import Stack, crosslane_client, temporal_client, unique_queue, worker_process


async def test_no_key_in_any_bridge_history_or_log(bridge_stack: Stack, tmp_path: Path) -> None:
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 100 * 10**6)
    queue = unique_queue("bridgesecrets")
    worker = worker_process(stack, queue, tmp_path / "worker.log")
    try:
        await worker.wait_polling()
        client = await crosslane_client(stack, queue)
        request = bridge_request(
            signer.address, f"secrets-{uuid.uuid4().hex[:8]}", amount=100 * 10**6, route="wormhole"
        )
        result = await (await client.start_bridge(request)).result()
        assert result.state is BridgeState.COMPLETED
    finally:
        worker.stop()

    forbidden = [f for key in stack.signer_keys.values() for f in secret_forms(key)]
    temporal = await temporal_client(stack)
    checked: set[str] = set()
    async for execution in temporal.list_workflows():
        history = await temporal.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        raw = History(events=history.events).SerializeToString()
        assert not [f for f in forbidden if f in raw], f"a secret is in the history of {execution.id}"
        checked.add(execution.id)
    # The transfer's history (with its inline transactions' sends since bridge-inline-tx) and
    # every child lifecycle it started.
    events = (await temporal.get_workflow_handle(request.workflow_id).fetch_history()).events
    children = {
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    }
    assert children <= {f"tx-{request.workflow_id}.{step}" for step in ("approve", "deposit", "redeem")}
    assert {request.workflow_id, *children} <= checked, "this test's own runs must have been checked"
    log = (tmp_path / "worker.log").read_bytes()
    assert not [f for f in forbidden if f in log], "a secret is in the worker log"
