"""Workers SIGKILLed in the middle of a swap: between the approval and the swap, and between
the swap's broadcast and its receipt. A restarted worker finishes the run: exactly one
approval and one swap on chain, and the result's exact amounts match the balances."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from crosslane.domain.dex import SwapResult
from devnet.sandbox import WorkerProcess
from tests.support.dex import approve, balance, deal, router, swap_request, w3_for
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

CHAIN = "devnet-a"


async def run_with_crash(stack: Stack, tmp_path: Path, point: str, pre_approve: bool) -> tuple[SwapResult, str]:
    signer = stack.fund_signer()
    deal(stack, CHAIN, signer.address, "USDC", 20_000 * 10**6)
    if pre_approve:
        approve(stack, CHAIN, signer, "USDC", router(stack, CHAIN, "uniswap_v3"))
    queue = unique_queue("swapcrash")
    once = tmp_path / "crashed"
    crashing = worker_process(
        stack, queue, tmp_path / "worker-1.log", CROSSLANE_CRASH_AT=point, CROSSLANE_CRASH_ONCE_FILE=str(once)
    )
    replacement: WorkerProcess | None = None
    request = swap_request(
        signer.address, unique_queue("crash"), token_in="USDC", token_out="WETH", amount=9_000 * 10**6,
        dexes=["uniswap_v3"],
    )  # fmt: skip
    try:
        await crashing.wait_polling()
        client = await crosslane_client(stack, queue)
        handle = await client.start_swap(request)
        assert await crashing.wait_killed() == -9
        assert once.read_text() == point
        replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
        result: SwapResult = await asyncio.wait_for(handle.result(), 120)
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()
    return result, signer.address


@pytest.mark.parametrize("point", ["dex.before_swap"])
async def test_crash_between_approval_and_swap(stack: Stack, tmp_path: Path, point: str) -> None:
    result, signer = await run_with_crash(stack, tmp_path, point, pre_approve=False)
    w3 = w3_for(stack, CHAIN)
    assert w3.eth.get_transaction_count(signer) == 2  # one approval, one swap
    assert result.approve is not None and result.approve.nonce == 0 and len(result.approve.attempts) == 1
    assert result.swap.nonce == 1 and len(result.swap.attempts) == 1
    assert balance(stack, CHAIN, "USDC", signer) == 20_000 * 10**6 - result.amount_in == 11_000 * 10**6
    assert balance(stack, CHAIN, "WETH", signer) == result.amount_out == result.quoted_amount_out


@pytest.mark.parametrize("point", ["tx.after_broadcast", "tx.waiting"])
async def test_crash_between_swap_broadcast_and_receipt(stack: Stack, tmp_path: Path, point: str) -> None:
    result, signer = await run_with_crash(stack, tmp_path, point, pre_approve=True)
    w3 = w3_for(stack, CHAIN)
    assert result.approve is None  # the allowance sufficed
    assert w3.eth.get_transaction_count(signer) == 2  # the test's approval, then exactly one swap
    # Signed once, before the crash: the mined swap is that attempt, re-sent not re-signed.
    assert len(result.swap.attempts) == 1 and result.swap.mined_attempt_index == 0
    assert w3.eth.get_transaction(result.swap_tx_hash)["nonce"] == 1
    assert balance(stack, CHAIN, "USDC", signer) == 20_000 * 10**6 - result.amount_in == 11_000 * 10**6
    assert balance(stack, CHAIN, "WETH", signer) == result.amount_out == result.quoted_amount_out
