"""Workers SIGKILLed after signing, after sending and while confirming a Solana transfer: a
restarted worker re-sends the stored bytes (same signature) or keeps confirming, and exactly
one transfer lands, checked on the node."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from solders.keypair import Keypair

from connectors.solana.client import SolanaClient
from connectors.solana.fees import transaction_fee_lamports
from crosslane.domain.solana import SolOutcome
from devnet.sandbox import WorkerProcess
from devnet.solana.node import TOKEN_ACCOUNT_LEN
from tests.e2e.test_solana_transaction import USDC, sol_request
from tests.support.solana_stack import LAMPORTS, SolanaStack
from tests.support.stack import crosslane_client, unique_queue


@pytest.mark.parametrize("point", ["sol.after_sign", "sol.after_send", "sol.confirming"])
async def test_crash_lands_each_transfer_exactly_once(solana_stack: SolanaStack, tmp_path: Path, point: str) -> None:
    sender = await solana_stack.fund_wallet(sol=10, tokens={"USDC": 100})
    recipient = Keypair()
    before = await solana_stack.balance(sender.pubkey())
    queue = unique_queue("solcrash")
    once = tmp_path / "crashed"
    requests = [sol_request(sender, recipient, "1"), sol_request(sender, recipient, "7.5", asset="USDC")]
    crashed = requests[0].workflow_id  # the point fires in this run; the other is wherever it is then
    crashing = solana_stack.worker_process(
        queue,
        tmp_path / "worker-1.log",
        CROSSLANE_CRASH_AT=point,
        CROSSLANE_CRASH_ONCE_FILE=str(once),
        CROSSLANE_CRASH_WHEN=crashed,
    )
    replacement: WorkerProcess | None = None
    try:
        await crashing.wait_polling()
        client = await crosslane_client(solana_stack.stack, queue)
        handles = [await client.start_sol(r) for r in requests]
        assert await crashing.wait_killed() == -9
        assert once.read_text() == point
        replacement = solana_stack.worker_process(queue, tmp_path / "worker-2.log")
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 120)
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()
    # Exactly one attempt of each run landed: the restarted worker re-sent the stored bytes
    # (same signature) or kept confirming; an attempt signed but not sent before the crash
    # may expire while no worker runs (blockhashes live 7.5 s here): it was re-signed only
    # once proven expired, and never landed.
    assert all(r.outcome is SolOutcome.CONFIRMED for r in results)
    for r in results:
        landed = [a for a in r.attempts if await solana_stack.landed(a.signature)]
        assert [a.signature for a in landed] == [r.signature]
        assert all(a.expired for a in r.attempts if a.signature != r.signature)
    if point != "sol.after_sign":  # sent before the crash: it landed, nothing was signed again
        assert len(results[0].attempts) == 1, results[0].attempts
    assert await solana_stack.balance(recipient.pubkey()) == LAMPORTS
    assert await solana_stack.token_balance(recipient.pubkey(), "USDC") == 7_500_000
    assert await solana_stack.token_balance(sender.pubkey(), "USDC") == 100 * USDC - 7_500_000
    fees = sum(transaction_fee_lamports(1, r.attempts[-1].unit_price, r.attempts[-1].unit_limit) for r in results)
    async with SolanaClient(solana_stack.url) as node:
        token_account_rent = await node.rent_exempt_minimum(TOKEN_ACCOUNT_LEN)
    # SOL out of the sender: one transfer, one fee per run, one token account created.
    assert before - await solana_stack.balance(sender.pubkey()) == LAMPORTS + fees + token_account_rent
