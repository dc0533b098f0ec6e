"""Workers SIGKILLed at each step boundary of a MasterChef compound run: the harvest mined
but not yet seen, the last swap mined, the liquidity added, the restake broadcast. A
restarted worker finishes the run, and the chain shows no reward lost and no step done
twice: every transaction the owner sent is one of the run's steps, the stake grew by exactly
the LP tokens the run added, and the only reward token left is what the restake paid."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from web3 import Web3
from web3.logs import DISCARD

from crosslane.domain.yield_compound import CompoundOutcome, CompoundResult, FarmTarget
from crosslane.ledger.yield_runs import YieldBook
from devnet.sandbox import WorkerProcess
from tests.support.dex import w3_for
from tests.support.farm import CHAIN, SIX_HOURS, advance, compound_request, contract, farm_owner
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

pytestmark = pytest.mark.timeout(180)

# (crash point, the child workflow id it is narrowed to, from the compound's request id)
BOUNDARIES = {
    "after_harvest": ("tx.waiting", "{rid}.harvest"),
    "after_swaps": ("tx.waiting", "{rid}.swap1.swap"),
    "after_add": ("tx.waiting", "{rid}.add.v2_add"),
    "after_restake_broadcast": ("tx.after_broadcast", "{rid}.stake"),
}


def _paid_to(w3: Web3, tx_hash: str, reward: object, owner: str) -> int:
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    return sum(
        int(e["args"]["value"])
        for e in reward.events.Transfer().process_receipt(receipt, errors=DISCARD)  # type: ignore[attr-defined]
        if e["args"]["to"] == owner
    )


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
async def test_a_compound_run_killed_at_a_step_boundary_completes_once(
    stack: Stack, tmp_path: Path, boundary: str
) -> None:
    owner, staked = farm_owner(stack)
    w3 = w3_for(stack, CHAIN)
    sushi = stack.chains.get(CHAIN).dexes["sushiswap"]
    assert sushi.masterchef is not None
    chef = contract(w3, sushi.masterchef.address, "MasterChef")
    reward = contract(w3, sushi.masterchef.reward_token, "SushiToken")
    advance(stack, SIX_HOURS, 5)
    nonce_before = w3.eth.get_transaction_count(owner.address)
    assert int(reward.functions.balanceOf(owner.address).call()) == 0

    rid = f"crash-{boundary.replace('_', '-')}-{owner.address[2:10]}"
    point, when = BOUNDARIES[boundary]
    queue = unique_queue("compound-crash")
    once = tmp_path / "crashed"
    crashing = worker_process(
        stack,
        queue,
        tmp_path / "worker-1.log",
        CROSSLANE_CRASH_AT=point,
        CROSSLANE_CRASH_WHEN=when.format(rid=rid),
        CROSSLANE_CRASH_ONCE_FILE=str(once),
    )
    replacement: WorkerProcess | None = None
    request = compound_request(owner.address, rid, FarmTarget(pid=0))
    try:
        await crashing.wait_polling()
        client = await crosslane_client(stack, queue)
        handle = await client.start_compound(request)
        assert await crashing.wait_killed() == -9
        assert once.read_text() == point
        replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
        result: CompoundResult = await asyncio.wait_for(handle.result(), 120)
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()

    assert result.outcome is CompoundOutcome.COMPOUNDED, result.reason
    # No step done twice: every transaction the owner sent is one distinct step of the run.
    steps = set(result.tx_hashes.values())
    assert len(steps) == len(result.tx_hashes)
    assert w3.eth.get_transaction_count(owner.address) - nonce_before == len(steps)
    assert {"harvest", "swap0", "swap1", "add", "stake"} <= set(result.tx_hashes)
    # Staked exactly once: the stake grew by the LP tokens the run added.
    assert result.liquidity > 0
    assert int(chef.functions.userInfo(0, owner.address).call()[0]) == staked + result.liquidity
    # No reward lost: the run compounded what the harvest paid, all of it was swapped, and the
    # only reward token the owner holds is what the restake's deposit paid (the next run's carry).
    owner_address = Web3.to_checksum_address(owner.address)
    assert result.reward == _paid_to(w3, result.tx_hashes["harvest"], reward, owner_address) > 0
    restake_paid = _paid_to(w3, result.tx_hashes["stake"], reward, owner_address)
    assert int(reward.functions.balanceOf(owner.address).call()) == restake_paid
    assert YieldBook(stack.ledger()).last_carry(CHAIN, owner.address, FarmTarget(pid=0).key) == restake_paid
