"""SolanaTransaction on the devnet's Solana node through a real Temporal dev server and worker:
balances are read on the node, never taken from the workflow's result."""

from __future__ import annotations

from decimal import Decimal

import pytest
from solders.keypair import Keypair

from connectors.solana.fees import transaction_fee_lamports
from crosslane.domain.solana import SolOutcome, SolResult, SolStatus, SolTransferRequest
from crosslane.ledger.solana_attempts import SolanaAttempts, SolanaAttemptStatus
from tests.support.solana import set_faults
from tests.support.solana_stack import LAMPORTS, SolanaStack
from tests.support.stack import crosslane_client, unique_queue

USDC = 10**6


def sol_request(
    sender: Keypair, recipient: Keypair | str, amount: str, asset: str = "SOL", **kw: object
) -> SolTransferRequest:
    return SolTransferRequest(
        request_id=str(kw.pop("request_id", unique_queue("xfer"))),
        signer=str(sender.pubkey()),
        recipient=str(recipient if isinstance(recipient, str) else recipient.pubkey()),
        asset=asset,
        amount=Decimal(amount),
        poll_interval_ms=20,
        **kw,
    )


async def test_sol_and_spl_transfers_land_once_and_balances_move(
    solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = await solana_stack.fund_wallet(sol=10, tokens={"USDC": 1_000})
    recipient = Keypair()  # no account yet: the SPL transfer creates its token account
    queue = unique_queue("sol")
    async with solana_stack.worker(queue, monkeypatch):
        client = await crosslane_client(solana_stack.stack, queue)
        sol = await client.start_sol(sol_request(sender, recipient, "1.25"))
        spl = await client.start_sol(sol_request(sender, recipient, "12.5", asset="USDC"))
        sol_result: SolResult = await sol.result()
        spl_result: SolResult = await spl.result()
        status = await client.sol_status(spl_result.request_id)
    assert sol_result.outcome is SolOutcome.CONFIRMED and sol_result.amount == 1_250_000_000
    assert spl_result.outcome is SolOutcome.CONFIRMED and spl_result.amount == 12_500_000
    assert spl_result.mint == solana_stack.cluster.mints["USDC"].mint and spl_result.decimals == 6
    assert len(sol_result.attempts) == len(spl_result.attempts) == 1
    assert sol_result.commitment in ("confirmed", "finalized")
    assert status == SolStatus(
        request_id=spl_result.request_id,
        cluster="solana-devnet",
        signer=str(sender.pubkey()),
        state="confirmed",
        attempts=spl_result.attempts,
        detail=status.detail,
    )
    # On the node: exactly one of each transfer.
    assert await solana_stack.balance(recipient.pubkey()) == 1_250_000_000
    assert await solana_stack.token_balance(recipient.pubkey(), "USDC") == 12_500_000
    assert await solana_stack.token_balance(sender.pubkey(), "USDC") == 1_000 * USDC - 12_500_000
    assert await solana_stack.landed(sol_result.attempts[0].signature)
    # The ledger holds the signed bytes of each attempt, settled.
    ledger = solana_stack.stack.ledger()
    op = ledger.get_operation(f"sol-{spl_result.request_id}", "sol")
    assert op is not None
    (stored,) = SolanaAttempts(ledger).list(op.id)
    assert stored.signature == spl_result.signature and stored.status is SolanaAttemptStatus.LANDED


async def test_token_2022_transfer_at_finalized(solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = await solana_stack.fund_wallet(sol=2, tokens={"T22": 10})
    recipient = Keypair()
    queue = unique_queue("t22")
    async with solana_stack.worker(queue, monkeypatch):
        client = await crosslane_client(solana_stack.stack, queue)
        request = sol_request(sender, recipient, "0.000000001", asset="T22", commitment="finalized")
        handle = await client.start_sol(request)
        result = await handle.result()
    assert result.outcome is SolOutcome.CONFIRMED and result.commitment == "finalized" and result.amount == 1
    assert await solana_stack.token_balance(recipient.pubkey(), "T22") == 1


async def test_starting_twice_runs_once(solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = await solana_stack.fund_wallet(sol=5)
    recipient = Keypair()
    queue = unique_queue("twice")
    request = sol_request(sender, recipient, "0.5")
    async with solana_stack.worker(queue, monkeypatch):
        client = await crosslane_client(solana_stack.stack, queue)
        first = await client.start_sol(request)
        second = await client.start_sol(request)
        assert first.result_run_id == second.result_run_id
        await first.result()
    assert await solana_stack.balance(recipient.pubkey()) == LAMPORTS // 2


async def test_dropped_transaction_expires_and_is_resigned_once(
    solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = await solana_stack.fund_wallet(sol=10)
    recipient = Keypair()
    before = await solana_stack.balance(sender.pubkey())
    queue = unique_queue("drop")
    await set_faults(solana_stack.url, drop_sends=1)  # the node answers the signature, never executes it
    try:
        async with solana_stack.worker(queue, monkeypatch):
            client = await crosslane_client(solana_stack.stack, queue)
            result = await (await client.start_sol(sol_request(sender, recipient, "2"))).result()
    finally:
        await set_faults(solana_stack.url)
    first, second = result.attempts
    assert result.outcome is SolOutcome.CONFIRMED and result.signature == second.signature
    assert first.expired and not second.expired
    assert second.blockhash != first.blockhash
    assert first.unit_price < second.unit_price <= sol_request(sender, recipient, "2").fees.cap_micro_lamports
    # On the node: the dropped signature never landed, the re-signed one did, once.
    assert not await solana_stack.landed(first.signature)
    assert await solana_stack.landed(second.signature)
    assert await solana_stack.balance(recipient.pubkey()) == 2 * LAMPORTS
    fee = transaction_fee_lamports(1, second.unit_price, second.unit_limit)
    assert before - await solana_stack.balance(sender.pubkey()) == 2 * LAMPORTS + fee
