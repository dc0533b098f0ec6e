"""A price moved by another trader between quote and mining: the swap's limit holds.

With manual mining the test decides what each block holds. Another trader dumps WETH into
the same pool with a higher tip, so the block runs their swap first and ours after: the
router reverts ours (``Too little received``) and DexSwap fails with the non-retryable
``SlippageExceeded``. Nothing is lost: the signer keeps every input token (the approval
remains), only gas was spent. If the price has already moved before the swap is sent,
the same error comes before any swap transaction exists.
"""

from __future__ import annotations

import asyncio

import pytest
from eth_account.signers.local import LocalAccount
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from web3 import Web3

from connectors.dex import TradeType
from connectors.dex.routing import RouteFinder
from connectors.dex.swaps import swap_call
from connectors.evm.client import EvmClient
from crosslane.domain.dex import SwapState
from devnet.mining import manual_mining
from tests.support.dex import allowance, approve, balance, deal, router, send_tx, swap_request, token, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

CHAIN = "devnet-a"
GWEI = 10**9


async def wait_pending(w3: Web3, address: str, count: int, timeout_s: float = 30.0) -> None:
    """Until ``address`` has ``count`` transactions pending or mined."""
    for _ in range(int(timeout_s / 0.05)):
        if w3.eth.get_transaction_count(address, "pending") >= count:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{address} never reached {count} pending transactions")


async def dump_weth(stack: Stack, trader: LocalAccount, amount: int) -> str:
    """The other trader: sell ``amount`` WETH for USDC in the same V3 pool, high tip, no limit."""
    client = EvmClient(stack.chains.get(CHAIN))
    try:
        finder = RouteFinder(client)
        weth, usdc = token(stack, CHAIN, "WETH"), token(stack, CHAIN, "USDC")
        best = (await finder.best(weth, usdc, TradeType.EXACT_IN, amount, dex_names=["uniswap_v3"], max_hops=1)).best
        call = swap_call(
            finder.dexes["uniswap_v3"], best.route, TradeType.EXACT_IN,
            amount_in=amount, amount_out=best.amount_out, limit=0, recipient=trader.address, deadline=2**40,
        )  # fmt: skip
    finally:
        await client.close()
    return send_tx(
        w3_for(stack, CHAIN), trader, {"to": call.router, "data": call.data, "gas": 600_000}, tip=50 * GWEI, wait=False
    )


def funded_trader(stack: Stack) -> LocalAccount:
    trader = stack.fund_signer()
    deal(stack, CHAIN, trader.address, "WETH", 300 * 10**18)
    approve(stack, CHAIN, trader, "WETH", router(stack, CHAIN, "uniswap_v3"))
    return trader


async def test_swap_reverts_when_the_price_moves_before_mining_and_nothing_is_lost(stack: Stack) -> None:
    signer, trader = stack.fund_signer(), funded_trader(stack)
    deal(stack, CHAIN, signer.address, "WETH", 5 * 10**18)
    w3 = w3_for(stack, CHAIN)
    v3_router = router(stack, CHAIN, "uniswap_v3")
    request = swap_request(
        signer.address, unique_queue("slip"), amount=5 * 10**18, dexes=["uniswap_v3"], max_hops=1, slippage_bps=50
    )
    queue = unique_queue()
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(stack.anvil_urls[CHAIN]) as mine:
            handle = await client.start_swap(request)
            await wait_pending(w3, signer.address, 1)  # the approval
            mine()
            await wait_pending(w3, signer.address, 2)  # the swap, quoted before the dump
            status = await client.swap_status(request.request_id)
            assert status.state is SwapState.SWAPPING and status.quote is not None
            dump = await dump_weth(stack, trader, 150 * 10**18)
            mine()  # one block: the dump (50 gwei tip) first, then our swap
            with pytest.raises(WorkflowFailureError) as failure:
                await asyncio.wait_for(handle.result(), 60)
        final = await client.swap_status(request.request_id)

    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "SlippageExceeded" and cause.non_retryable
    assert "Too little received" in cause.message and "nothing was swapped" in cause.message
    swap_hash = (
        status.swap_tx_hash
        or stack.ledger()
        .list_attempts(
            stack.ledger().get_operation(f"tx-{request.workflow_id}.swap", "tx").id  # type: ignore[union-attr]
        )[0]
        .tx_hash
    )
    ours, theirs = w3.eth.get_transaction_receipt(swap_hash), w3.eth.get_transaction_receipt(dump)
    assert ours["status"] == 0 and theirs["status"] == 1
    assert ours["blockNumber"] == theirs["blockNumber"] and theirs["transactionIndex"] < ours["transactionIndex"]
    # Nothing lost: every WETH still with the signer, no USDC arrived, the approval remains.
    assert balance(stack, CHAIN, "WETH", signer.address) == 5 * 10**18
    assert balance(stack, CHAIN, "USDC", signer.address) == 0
    assert allowance(stack, CHAIN, "WETH", signer.address, v3_router) == 5 * 10**18
    assert w3.eth.get_transaction_count(signer.address) == 2  # approval + the reverted swap, nothing else
    assert final.state is SwapState.FAILED
    swap_op = stack.ledger().get_operation(request.workflow_id, "swap")
    assert swap_op is not None and swap_op.status == "failed" and "Too little received" in swap_op.detail["reason"]


async def test_price_moved_before_sending_is_refused_with_no_swap_transaction(stack: Stack) -> None:
    signer, trader = stack.fund_signer(), funded_trader(stack)
    deal(stack, CHAIN, signer.address, "WETH", 5 * 10**18)
    w3 = w3_for(stack, CHAIN)
    request = swap_request(
        signer.address, unique_queue("slip0"), amount=5 * 10**18, dexes=["uniswap_v3"], max_hops=1, slippage_bps=50
    )
    queue = unique_queue()
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(stack.anvil_urls[CHAIN]) as mine:
            handle = await client.start_swap(request)
            await wait_pending(w3, signer.address, 1)  # the approval, quoted before the dump
            await dump_weth(stack, trader, 150 * 10**18)
            mine()  # the dump and the approval: the price is past the limit before the swap is built
            with pytest.raises(WorkflowFailureError) as failure:
                await asyncio.wait_for(handle.result(), 60)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "SlippageExceeded"
    assert "before the swap was sent" in cause.message and "nothing was sent" in cause.message
    assert w3.eth.get_transaction_count(signer.address) == 1  # the approval only
    assert stack.ledger().get_operation(f"tx-{request.workflow_id}.swap", "tx") is None
    assert balance(stack, CHAIN, "WETH", signer.address) == 5 * 10**18
