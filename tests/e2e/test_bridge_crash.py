"""Workers SIGKILLed in the middle of a bridge transfer: right after the deposit's
broadcast, while following the VAA or the fill, and right after the redeem's broadcast.
A restarted worker finishes each run with exactly one deposit and one completion: the
signer's nonces on both chains and the balances say so."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from crosslane.domain.bridge import BridgeResult, BridgeState
from devnet.sandbox import WorkerProcess
from tests.support.bridge import across_output_amount, bridge_request, holding, wormhole_payload_amount
from tests.support.dex import deal, w3_for
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

pytestmark = pytest.mark.timeout(150)
AMOUNT = 700 * 10**6


@pytest.mark.parametrize(
    ("route", "point", "when"),
    [
        ("wormhole", "tx.after_broadcast", ".deposit"),
        ("across", "tx.after_broadcast", ".deposit"),
        ("wormhole", "bridge.waiting", ""),
        ("across", "bridge.waiting", ""),
        ("wormhole", "tx.after_broadcast", ".redeem"),
    ],
)
async def test_crash_resumes_with_one_deposit_and_one_completion(
    bridge_stack: Stack, tmp_path: Path, route: str, point: str, when: str
) -> None:
    stack = bridge_stack
    signer, recipient = stack.fund_signer(), stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", AMOUNT)
    queue = unique_queue("bridgecrash")
    once = tmp_path / "crashed"
    env = {"CROSSLANE_CRASH_AT": point, "CROSSLANE_CRASH_ONCE_FILE": str(once)}
    if when:
        env["CROSSLANE_CRASH_WHEN"] = when
    crashing = worker_process(stack, queue, tmp_path / "worker-1.log", **env)
    replacement: WorkerProcess | None = None
    request = bridge_request(
        signer.address, f"crash-{uuid.uuid4().hex[:8]}", amount=AMOUNT, recipient=recipient.address, route=route
    )
    try:
        await crashing.wait_polling()
        client = await crosslane_client(stack, queue)
        handle = await client.start_bridge(request)
        assert await crashing.wait_killed() == -9
        assert once.read_text() == point
        replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
        result: BridgeResult = await asyncio.wait_for(handle.result(), 120)
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()

    assert result.state is BridgeState.COMPLETED
    source, destination = w3_for(stack, "devnet-a"), w3_for(stack, "devnet-b")
    assert source.eth.get_transaction_count(signer.address) == 2  # one approval, one deposit
    assert holding(stack, "devnet-a", "USDC", signer.address) == 0
    if route == "wormhole":
        assert destination.eth.get_transaction_count(signer.address) == 1  # one redeem
        assert result.redeemed_by_us
        carried = wormhole_payload_amount(
            stack, "devnet-a", result.deposit_tx, stack.chains.get("devnet-a").tokens["USDC"].decimals
        )
        assert holding(stack, "devnet-b", "Wormhole:devnet-a:USDC", recipient.address) == carried == AMOUNT
        assert result.received == carried
    else:
        assert destination.eth.get_transaction_count(signer.address) == 0  # the relayer fills
        owed = across_output_amount(stack, "devnet-a", result.deposit_tx)
        assert holding(stack, "devnet-b", "USDC", recipient.address) == owed == result.received < AMOUNT
