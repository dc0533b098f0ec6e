"""Workers SIGKILLed at named crash points; restarted workers finish every run exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from web3 import Web3

from crosslane.domain.tx import TxOutcome, TxResult
from crosslane.ledger.records import AttemptRecord
from devnet.mining import manual_mining, mine_until
from devnet.sandbox import WorkerProcess
from tests.e2e.test_tx_lifecycle import request_for
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

CHAIN = "devnet-a"


def signed_attempt_zero(stack: Stack, workflow_id: str) -> AttemptRecord | None:
    """Attempt 0 as the ledger holds it (signed bytes and hash), if it was signed yet."""
    ledger = stack.ledger()
    op = ledger.get_operation(workflow_id, "tx")
    return ledger.get_attempt(op.id, 0) if op is not None else None


def assert_mined_as_signed(
    stack: Stack, w3: Web3, workflow_id: str, result: TxResult, before_kill: AttemptRecord
) -> None:
    """The run mined exactly the bytes signed before the worker died: nothing was re-signed."""
    assert result.mined_tx_hash == before_kill.tx_hash, "the mined hash is attempt 0's from before the kill"
    after = signed_attempt_zero(stack, workflow_id)
    assert after is not None and (after.tx_hash, after.raw_tx) == (before_kill.tx_hash, before_kill.raw_tx)
    assert len(stack.ledger().list_attempts(before_kill.operation_id)) == 1, "no further attempt was signed"
    on_chain = w3.eth.get_raw_transaction(before_kill.tx_hash)
    assert "0x" + on_chain.hex().removeprefix("0x") == before_kill.raw_tx.lower(), "the chain has the ledger's bytes"


def assert_one_tx_per_nonce(w3: Web3, signer: str, results: list[TxResult]) -> None:
    nonces = sorted(r.nonce for r in results)
    assert nonces == list(range(len(results))), f"nonces skipped or doubled: {nonces}"
    assert w3.eth.get_transaction_count(signer) == len(results)
    for r in results:
        assert r.outcome is TxOutcome.CONFIRMED
        assert len({a.nonce for a in r.attempts}) == 1
        assert w3.eth.get_transaction(r.mined_tx_hash)["nonce"] == r.nonce


@pytest.mark.parametrize("point", ["tx.after_nonce", "tx.after_sign", "tx.after_broadcast", "tx.after_settle"])
async def test_crash_before_and_after_broadcast(stack: Stack, tmp_path: Path, point: str) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue("crash")
    once = tmp_path / "crashed"
    crashing = worker_process(
        stack, queue, tmp_path / "worker-1.log", CROSSLANE_CRASH_AT=point, CROSSLANE_CRASH_ONCE_FILE=str(once)
    )
    replacement: WorkerProcess | None = None
    try:
        await crashing.wait_polling()
        client = await crosslane_client(stack, queue)
        requests = [
            request_for(sender.address, recipient.address, unique_queue(f"c{i}"), chain=CHAIN) for i in range(5)
        ]
        handles = [await client.start_tx(request) for request in requests]
        assert await crashing.wait_killed() == -9
        assert once.read_text() == point
        signed = {r.workflow_id: a for r in requests if (a := signed_attempt_zero(stack, r.workflow_id)) is not None}
        replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 120)
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[CHAIN]))
    assert_one_tx_per_nonce(w3, sender.address, results)
    # Each run signed once (no re-sign after the crash), so the mined hash is attempt 0's.
    assert all(len(r.attempts) == 1 and r.mined_attempt_index == 0 for r in results)
    if point != "tx.after_nonce":  # the crashed run itself had signed when it died
        assert signed, "attempt 0 of the crashed run must be in the ledger before the restart"
    for request, result in zip(requests, results, strict=True):
        if request.workflow_id in signed:
            assert_mined_as_signed(stack, w3, request.workflow_id, result, signed[request.workflow_id])
        # Settled once in the ledger, whichever step saw the receipt (the re-run sees it again).
        op = stack.ledger().get_operation(request.workflow_id, "tx")
        assert op is not None and len(op.detail["receipt_sightings"]) == 1, op
        mined = stack.ledger().get_attempt(op.id, 0)
        assert mined is not None and (mined.status, mined.block_number) == ("mined", result.block_number)
    assert w3.eth.get_balance(recipient.address) == 1000 * 10**18 + 5 * 10**15


async def test_crash_while_waiting_for_inclusion(stack: Stack, tmp_path: Path) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue("crashwait")
    once = tmp_path / "crashed"
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[CHAIN]))
    crashing = worker_process(
        stack, queue, tmp_path / "worker-1.log", CROSSLANE_CRASH_AT="tx.waiting", CROSSLANE_CRASH_ONCE_FILE=str(once)
    )
    replacement: WorkerProcess | None = None
    try:
        with manual_mining(stack.anvil_urls[CHAIN]) as mine:
            await crashing.wait_polling()
            client = await crosslane_client(stack, queue)
            request = request_for(sender.address, recipient.address, unique_queue("wait"), chain=CHAIN)
            handle = await client.start_tx(request)
            assert await crashing.wait_killed() == -9
            signed = signed_attempt_zero(stack, request.workflow_id)
            assert signed is not None, "attempt 0 was signed and broadcast before the kill"
            # The transaction is in the pool, not mined, and no worker watches it.
            assert w3.eth.get_transaction_count(sender.address, "pending") == 1
            assert w3.eth.get_transaction_count(sender.address, "latest") == 0
            mine()
            replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
            task = asyncio.ensure_future(handle.result())
            await asyncio.wait_for(mine_until(task.done, stack.anvil_urls[CHAIN], 0.5), 90)
            result = task.result()
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()
    assert_one_tx_per_nonce(w3, sender.address, [result])
    assert result.mined_attempt_index == 0
    assert_mined_as_signed(stack, w3, request.workflow_id, result, signed)
