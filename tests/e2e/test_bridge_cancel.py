"""``cancel`` is honoured only before the deposit: a pending approval is replaced by a
0-value self-send and nothing is deposited; after the deposit the transfer goes on."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from crosslane.domain.bridge import BridgeState
from devnet.mining import manual_mining, mine_until
from tests.e2e.test_dex_swap_slippage import wait_pending
from tests.support.bridge import across_output_amount, bridge_request, holding, relayer
from tests.support.dex import deal, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(120)


async def test_cancel_before_the_deposit_sends_nothing(bridge_stack: Stack) -> None:
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 500 * 10**6)
    w3, url = w3_for(stack, "devnet-a"), stack.anvil_urls["devnet-a"]
    request = bridge_request(signer.address, f"cancel-{uuid.uuid4().hex[:8]}", amount=500 * 10**6, route="across")
    queue = unique_queue("bridgecancel")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(url):
            handle = await client.start_bridge(request)
            await wait_pending(w3, signer.address, 1)  # the approval, held in the pool
            # Not mined at its send: a lifecycle takes it over (at once before bridge-inline-tx).
            while "approve" not in (held := await client.bridge_status(request.request_id)).child_workflow_ids:
                await asyncio.sleep(0.1)
            assert held.state is BridgeState.APPROVING
            await handle.signal("cancel")
            task = asyncio.ensure_future(handle.result())
            await asyncio.wait_for(mine_until(task.done, url, 0.3), 60)
        with pytest.raises(WorkflowFailureError) as failure:
            await task
        status = await client.bridge_status(request.request_id)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "BridgeCancelled", cause
    assert "nothing was deposited" in cause.message
    assert status.state is BridgeState.FAILED and status.deposit_tx is None
    assert "deposit" not in status.transactions and "deposit" not in status.child_workflow_ids
    # The held approval went on in a lifecycle, which sent the cancel for its nonce.
    assert set(status.transactions) == set(status.child_workflow_ids) == {"approve"}
    assert w3.eth.get_transaction_count(signer.address) == 1  # the nonce went to the cancel
    assert holding(stack, "devnet-a", "USDC", signer.address) == 500 * 10**6
    row = stack.ledger().get_bridge_transfer(request.workflow_id)
    assert row is not None and row.state == "failed" and "cancelled before the deposit" in (row.detail or "")
    assert row.deposit_tx is None


async def test_cancel_after_the_deposit_is_refused_and_the_transfer_completes(bridge_stack: Stack) -> None:
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 300 * 10**6)
    request = bridge_request(signer.address, f"late-{uuid.uuid4().hex[:8]}", amount=300 * 10**6, route="across")
    queue = unique_queue("bridgecancel")
    try:
        relayer(stack, stopped=True)  # holds the run in pending_fill
        async with running_worker(stack, queue):
            client = await crosslane_client(stack, queue)
            handle = await client.start_bridge(request)
            deadline = time.monotonic() + 30
            while (await client.bridge_status(request.request_id)).state is not BridgeState.PENDING_FILL:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            await handle.signal("cancel")
            while not (status := await client.bridge_status(request.request_id)).cancel_refused:
                assert time.monotonic() < deadline + 10
                await asyncio.sleep(0.1)
            assert status.state is BridgeState.PENDING_FILL
            relayer(stack, stopped=False)
            result = await asyncio.wait_for(handle.result(), 60)
    finally:
        relayer(stack, stopped=False)
    assert result.state is BridgeState.COMPLETED
    owed = across_output_amount(stack, "devnet-a", result.deposit_tx)
    assert holding(stack, "devnet-b", "USDC", signer.address) == owed == result.received
