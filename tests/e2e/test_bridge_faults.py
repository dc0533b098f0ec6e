"""Bridge transfers through faults: guardians down, a relayer that never fills, a VAA
redeemed twice. Each run ends in a known state, checked on-chain.

The guardian and relayer faults are process-wide on the shared bridge devnet, so every
test here restores them in ``finally``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from web3 import Web3

from connectors.bridges.wormhole_api import fetch_signed_vaa
from crosslane.client import CrosslaneClient
from crosslane.domain.bridge import BridgeResult, BridgeState, BridgeStatus
from crosslane.ledger.records import AttemptStatus
from devnet.sandbox import WorkerProcess
from devnet.wormhole.deploy import messages_in
from tests.support.bridge import bridge_request, guardian_url, guardians, holding, relayer
from tests.support.dex import deal, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue, worker_process

pytestmark = pytest.mark.timeout(150)


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _until(
    client: CrosslaneClient, request_id: str, check: Callable[[BridgeStatus], bool], timeout: float = 60
) -> BridgeStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = await client.bridge_status(request_id)
        if check(status):
            return status
        assert not status.state.done, f"ended as {status.state}: {status.detail}"
        assert time.monotonic() < deadline, f"status never matched; last: {status.state}: {status.detail}"
        await asyncio.sleep(0.2)


async def test_one_guardian_down_still_completes(bridge_stack: Stack) -> None:
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 300 * 10**6)
    queue = unique_queue("bridgefault")
    try:
        guardians(stack, down=[2])
        async with running_worker(stack, queue):
            client = await crosslane_client(stack, queue)
            request = bridge_request(signer.address, _id("one-down"), amount=300 * 10**6, route="wormhole")
            result = await asyncio.wait_for((await client.start_bridge(request)).result(), 60)
    finally:
        guardians(stack, down=[])
    assert result.state is BridgeState.COMPLETED
    assert holding(stack, "devnet-b", "Wormhole:devnet-a:USDC", signer.address) == 300 * 10**6


async def test_two_guardians_down_waits_for_operator_then_completes(bridge_stack: Stack) -> None:
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 400 * 10**6)
    queue = unique_queue("bridgefault")
    request = bridge_request(
        signer.address, _id("two-down"), amount=400 * 10**6, route="wormhole", attestation_patience_seconds=2
    )
    try:
        guardians(stack, down=[0, 3])
        async with running_worker(stack, queue):
            client = await crosslane_client(stack, queue)
            handle = await client.start_bridge(request)
            waiting = await _until(client, request.request_id, lambda s: s.state is BridgeState.WAITING_FOR_OPERATOR)
            assert "guardians have not signed" in waiting.detail and "operator_resume" in waiting.detail
            assert waiting.deposit_tx and waiting.deposit_id and waiting.waiting_since
            # The operator resumes: back to watching, the patience restarted (still no quorum).
            await handle.signal("operator_resume")
            resumed = await _until(client, request.request_id, lambda s: s.state is BridgeState.PENDING_ATTESTATION)
            assert resumed.waiting_since is None
            await _until(client, request.request_id, lambda s: s.state is BridgeState.WAITING_FOR_OPERATOR)
            guardians(stack, down=[3])  # two of them back: 3 of 4 sign
            result: BridgeResult = await asyncio.wait_for(handle.result(), 60)
    finally:
        guardians(stack, down=[])
    assert result.state is BridgeState.COMPLETED and result.redeemed_by_us
    assert holding(stack, "devnet-b", "Wormhole:devnet-a:USDC", signer.address) == 400 * 10**6


async def test_relayer_never_fills_deposit_refunded(bridge_stack: Stack) -> None:
    stack = bridge_stack
    signer, recipient = stack.fund_signer(), stack.fund_signer()
    amount = 900 * 10**6
    deal(stack, "devnet-a", signer.address, "USDC", amount)
    queue = unique_queue("bridgefault")
    chain_now = int(w3_for(stack, "devnet-a").eth.get_block("latest")["timestamp"])
    # A deadline in ~90 s: too soon for Wormhole, so the selector takes Across on its own.
    request = bridge_request(
        signer.address, _id("refund"), amount=amount, recipient=recipient.address,
        deadline=max(chain_now, int(time.time())) + 90,
    )  # fmt: skip
    try:
        relayer(stack, stopped=True)
        async with running_worker(stack, queue):
            client = await crosslane_client(stack, queue)
            handle = await client.start_bridge(request)
            pending = await _until(client, request.request_id, lambda s: s.state is BridgeState.PENDING_FILL)
            assert pending.route == "across" and "wormhole excluded" in (pending.reason or "")
            for chain in ("devnet-a", "devnet-b"):  # let the fill deadline pass on both chains
                stack.anvil(chain, "evm_increaseTime", 120)
                stack.anvil(chain, "evm_mine")
            result: BridgeResult = await asyncio.wait_for(handle.result(), 60)
    finally:
        relayer(stack, stopped=False)
    assert result.state is BridgeState.REFUNDED and result.refund_tx and result.completion_tx is None
    assert result.received == amount and result.recipient == signer.address
    assert holding(stack, "devnet-a", "USDC", signer.address) == amount  # all of it back
    assert holding(stack, "devnet-b", "USDC", recipient.address) == 0
    receipt = w3_for(stack, "devnet-a").eth.get_transaction_receipt(result.refund_tx)
    assert receipt["status"] == 1
    with stack.ledger() as ledger:
        row = ledger.get_bridge_transfer(request.workflow_id)
        refunded = {t.workflow_id for t in ledger.list_bridge_transfers(BridgeState.REFUNDED, limit=1000)}
    assert row is not None and row.state == BridgeState.REFUNDED and row.route == "across"
    assert row.refund_tx == result.refund_tx and row.completion_tx is None
    assert row.deposit_tx == result.deposit_tx and row.received == amount
    assert request.workflow_id in refunded


async def test_vaa_redeemed_twice_rejected_and_treated_as_done(bridge_stack: Stack, tmp_path: Path) -> None:
    """The worker dies with its redeem signed but not sent; meanwhile someone else redeems
    the VAA. The restarted worker sends its signed redeem, the real contract rejects it,
    and the run completes with the other party's redeem as the completion."""
    stack = bridge_stack
    signer, outsider = stack.fund_signer(), stack.fund_signer()
    amount = 250 * 10**6
    deal(stack, "devnet-a", signer.address, "USDC", amount)
    queue = unique_queue("bridgetwice")
    once = tmp_path / "crashed"
    crashing = worker_process(
        stack, queue, tmp_path / "worker-1.log",
        CROSSLANE_CRASH_AT="tx.after_sign", CROSSLANE_CRASH_WHEN=".redeem", CROSSLANE_CRASH_ONCE_FILE=str(once),
    )  # fmt: skip
    replacement: WorkerProcess | None = None
    request = bridge_request(signer.address, _id("twice"), amount=amount, route="wormhole")
    try:
        await crashing.wait_polling()
        client = await crosslane_client(stack, queue)
        handle = await client.start_bridge(request)
        assert await crashing.wait_killed() == -9
        deposit = _landed_tx(stack, request.workflow_id, "deposit")  # the worker is down: no query
        receipt = w3_for(stack, "devnet-a").eth.get_transaction_receipt(deposit)
        (message,) = messages_in(receipt, stack.chains.get("devnet-a").contracts["WormholeCore"])
        vaa = await fetch_signed_vaa(guardian_url(stack), 2, message.emitter_address, message.sequence)
        assert vaa is not None
        theirs = _redeem(stack, outsider.key.hex(), vaa)
        replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
        result: BridgeResult = await asyncio.wait_for(handle.result(), 90)
        status = await client.bridge_status(request.request_id)
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()
    assert result.state is BridgeState.COMPLETED
    assert not result.redeemed_by_us and result.completion_tx == theirs
    assert result.received == amount  # read from their redeem's receipt
    ours = _landed_tx(stack, request.workflow_id, "redeem")
    assert status.transactions["redeem"] == ours
    receipt = w3_for(stack, "devnet-b").eth.get_transaction_receipt(ours)
    assert receipt["status"] == 0  # the contract refused the second redeem
    assert holding(stack, "devnet-b", "Wormhole:devnet-a:USDC", signer.address) == amount  # delivered once


def _redeem(stack: Stack, key: str, vaa: bytes) -> str:
    w3 = w3_for(stack, "devnet-b")
    bridge = stack.chains.get("devnet-b").contracts["WormholeTokenBridge"]
    account = w3.eth.account.from_key(key)
    data = Web3.keccak(text="completeTransfer(bytes)")[:4] + Web3().codec.encode(["bytes"], [vaa])
    tx = {
        "to": Web3.to_checksum_address(bridge), "data": "0x" + data.hex(), "gas": 500_000,
        "nonce": w3.eth.get_transaction_count(account.address), "chainId": w3.eth.chain_id,
        "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9,
    }  # fmt: skip
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    return "0x" + bytes(tx_hash).hex().removeprefix("0x")


def _landed_tx(stack: Stack, workflow_id: str, step: str) -> str:
    """The hash of the one mined attempt of a step's transaction, from the ledger: its operation
    is ``tx-<workflow id>.<step>`` whether the transfer sent it itself or a child lifecycle did."""
    with stack.ledger() as ledger:
        op = ledger.get_operation(f"tx-{workflow_id}.{step}", "tx")
        assert op is not None
        attempts = ledger.list_attempts(op.id)
    (landed,) = [a for a in attempts if a.status in (AttemptStatus.MINED, AttemptStatus.REVERTED)]
    return landed.tx_hash
