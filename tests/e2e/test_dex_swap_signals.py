"""Signals reach the transaction in flight: ``bump_now`` re-prices the pending approval,
``cancel`` replaces it with a 0-value self-send and the swap never happens."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from crosslane.domain.dex import SwapState
from crosslane.domain.tx import AttemptKind, TxStatus
from devnet.mining import manual_mining, mine_until
from tests.e2e.test_dex_swap_slippage import wait_pending
from tests.support.dex import allowance, balance, deal, router, swap_request, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

CHAIN = "devnet-a"


async def child_status(client, workflow_id: str, attempts: int) -> TxStatus:  # noqa: ANN001
    for _ in range(600):
        status: TxStatus = await client.temporal.get_workflow_handle(workflow_id).query("status", result_type=TxStatus)
        if len(status.attempts) >= attempts and status.attempts[-1].broadcast:
            return status
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{workflow_id} never had {attempts} broadcast attempts")


async def test_bump_then_cancel_the_pending_approval(stack: Stack) -> None:
    signer = stack.fund_signer()
    deal(stack, CHAIN, signer.address, "WETH", 10**18)
    w3 = w3_for(stack, CHAIN)
    url = stack.anvil_urls[CHAIN]
    request = swap_request(signer.address, unique_queue("sig"), dexes=["uniswap_v3"])
    approve_id = f"tx-{request.workflow_id}.approve"
    queue = unique_queue()
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(url):
            handle = await client.start_swap(request)
            await wait_pending(w3, signer.address, 1)
            assert (await client.swap_status(request.request_id)).state is SwapState.APPROVING
            await handle.signal("bump_now")
            bumped = await child_status(client, approve_id, 2)
            assert bumped.attempts[1].kind is AttemptKind.REPLACEMENT
            assert bumped.attempts[1].max_fee_per_gas > bumped.attempts[0].max_fee_per_gas
            await handle.signal("cancel")
            cancelled = await child_status(client, approve_id, 3)
            assert cancelled.attempts[2].kind is AttemptKind.CANCEL
            task = asyncio.ensure_future(handle.result())
            await asyncio.wait_for(mine_until(task.done, url, 0.3), 60)
        with pytest.raises(WorkflowFailureError) as failure:
            await task
        status = await client.swap_status(request.request_id)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "SwapCancelled", cause
    assert status.state is SwapState.FAILED and status.swap_workflow_id is None  # no swap was ever built
    assert w3.eth.get_transaction_count(signer.address) == 1  # the nonce went to the cancel
    assert allowance(stack, CHAIN, "WETH", signer.address, router(stack, CHAIN, "uniswap_v3")) == 0
    assert balance(stack, CHAIN, "WETH", signer.address) == 10**18
