"""The worker's Prometheus endpoint and its traces file, on a worker process as `dev up` runs it.

One bridge transfer (Wormhole, devnet-a -> devnet-b): the nonce, attempt and stage metrics
move by what the transfer did, the SDK's own metrics count the workflow, and the transfer's
trace in the exported file holds its activities and its child lifecycles with theirs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crosslane.domain.bridge import BridgeRoute, BridgeState
from crosslane.telemetry.names import BRIDGE_STAGE_SECONDS, NONCE_ALLOCATIONS, TX_ATTEMPTS
from crosslane.telemetry.temporal import read_spans
from devnet.anvil import find_free_port
from tests.support.bridge import bridge_request
from tests.support.dex import deal
from tests.support.metrics import scrape, total
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

pytestmark = pytest.mark.timeout(150)

async def spans_of_trace(path: Path, workflow_id: str, timeout_s: float = 15.0) -> list[dict[str, Any]]:
    """The spans of the trace whose root runs ``workflow_id``, once the file holds its end
    (the exporter writes in batches)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        spans = list(read_spans(path))
        roots = [
            s
            for s in spans
            if s["name"] == "RunWorkflow:BridgeTransfer" and s["attributes"].get("temporalWorkflowID") == workflow_id
        ]
        if roots:
            trace = roots[0]["context"]["trace_id"]
            mine = [s for s in spans if s["context"]["trace_id"] == trace]
            if any(s["name"] == "CompleteWorkflow:BridgeTransfer" for s in mine):
                return mine
        if asyncio.get_running_loop().time() > deadline:
            seen = [(s["name"], s["context"]["trace_id"], s["attributes"].get("temporalWorkflowID")) for s in spans]
            raise AssertionError(f"no complete trace of {workflow_id} in {path}: {seen}")
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("inline_tx", ["1", "0"], ids=["inline-tx", "child-lifecycles"])
async def test_worker_metrics_and_a_bridge_transfer_trace(bridge_stack: Stack, tmp_path: Path, inline_tx: str) -> None:
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 1_000 * 10**6)
    queue = unique_queue("telemetry")
    port, traces = find_free_port(), tmp_path / "traces.jsonl"
    worker = worker_process(
        stack,
        queue,
        tmp_path / "worker.log",
        CROSSLANE_METRICS_PORT=str(port),
        CROSSLANE_TRACES_FILE=str(traces),
        CROSSLANE_BRIDGE_INLINE_TX=inline_tx,  # "0": every transaction in a child lifecycle, as before the patch
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        await worker.wait_polling()
        before = await scrape(url)
        client = await crosslane_client(stack, queue)
        request = bridge_request(signer.address, f"tel-{uuid.uuid4().hex[:8]}", route=BridgeRoute.WORMHOLE)
        result = await (await client.start_bridge(request)).result()
        assert result.state is BridgeState.COMPLETED, result.detail
        status = await client.bridge_status(request.request_id)
        spans = await spans_of_trace(traces, request.workflow_id)
        after = await scrape(url)
    finally:
        worker.stop()

    # The trace: the transfer's own activities. Each transaction's attempt 0 is sent by the
    # transfer itself (patch ``bridge-inline-tx``); one not mined at once goes on in a child
    # lifecycle, which re-sends the same bytes and is traced with its activities.
    names = Counter(s["name"] for s in spans)
    transactions, children = len(status.transactions), len(status.child_workflow_ids)
    assert transactions >= 2, status  # deposit on devnet-a, redeem on devnet-b (and an approve if needed)
    if inline_tx == "0":
        assert children == transactions, status
    assert names["RunWorkflow:TransactionLifecycle"] == children, names
    assert names["StartChildWorkflow:TransactionLifecycle"] == children, names
    assert names["RunActivity:bridge_plan"] == 1, names
    # One activity prepares, sends and looks for attempt 0 (traced like any other): once per
    # transaction in the transfer (inline), once in each child lifecycle.
    sent_inline = transactions if inline_tx == "1" else 0
    assert names["RunActivity:tx_send_settle"] == sent_inline + children, names
    # One tree: every span hangs off a span of this trace or off the run's (virtual) root.
    root = next(s["parent_id"] for s in spans if s["name"] == "RunWorkflow:BridgeTransfer")
    known = {root} | {s["context"]["span_id"] for s in spans}
    assert all(s["parent_id"] in known for s in spans), spans

    # The metrics moved by what the transfer did: one nonce per transaction (a child taking one
    # over finds it in the ledger), and every send of signed bytes counted.
    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved(NONCE_ALLOCATIONS) == transactions
    assert moved(NONCE_ALLOCATIONS, chain="devnet-b") == 1  # the redeem
    sends = names["RunActivity:tx_send_settle"] + names["RunActivity:tx_broadcast"]  # and any re-broadcast
    assert moved(TX_ATTEMPTS, kind="original") == sends
    stages = moved(BRIDGE_STAGE_SECONDS + "_count", route="wormhole")
    assert stages == len(result.stage_seconds) > 0
    completed = moved("temporal_workflow_completed", workflow_type="BridgeTransfer")
    assert completed == 1, sorted({n for n, _ in after if "workflow" in n})
