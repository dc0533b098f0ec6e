"""A migration whose worker is SIGKILLed at every step boundary (between each transaction's
broadcast and its receipt: unstake, decrease, burn, the zap swap, mint, restake; after the
removal, before the swap is sized; before the outcome is recorded) finishes on a restarted
worker: the old position is gone, the new one is staked, no token is stranded (the wallet
changed by exactly the reported dust) and no step ran twice (the owner sent exactly the
transactions the result lists, each once)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from crosslane.domain.lp_migration import MigrationResult
from devnet.sandbox import WorkerProcess
from tests.support.lp_migration import (
    around,
    devnet,
    incentive_id,
    migration_request,
    mint_position,
    position_gone,
    stake,
    wallet,
)
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize(
    ("point", "when"),
    [
        ("tx.after_broadcast", ".unstake"),
        ("tx.after_broadcast", ".decrease"),
        ("tx.after_broadcast", ".burn"),
        ("lpm.before_zap", ""),
        ("tx.after_broadcast", ".zap"),
        ("tx.after_broadcast", ".mint."),
        ("tx.after_broadcast", ".restake"),
        ("lpm.before_finish", ""),
    ],
)
async def test_killed_at_a_step_boundary_finishes_exactly_once(
    stack: Stack, tmp_path: Path, point: str, when: str
) -> None:
    net = devnet(stack)
    owner = stack.fund_signer()
    lower, upper = around(net, 500, 30, 10)
    token_id = mint_position(stack, net, owner, 500, lower, upper)
    stake(stack, net, owner, token_id)
    wallet_before = wallet(net, owner.address)
    nonce_before = net.w3.eth.get_transaction_count(owner.address)
    new_lower, new_upper = around(net, 500, 10, 10)
    request = migration_request(
        owner.address,
        unique_queue("crash"),
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"fee": 500, "tick_lower": new_lower, "tick_upper": new_upper},
    )
    queue = unique_queue("lpmcrash")
    once = tmp_path / "crashed"
    env = {"CROSSLANE_CRASH_AT": point, "CROSSLANE_CRASH_ONCE_FILE": str(once)}
    if when:
        env["CROSSLANE_CRASH_WHEN"] = when
    crashing = worker_process(stack, queue, tmp_path / "worker-1.log", **env)
    replacement: WorkerProcess | None = None
    try:
        await crashing.wait_polling()
        handle = await (await crosslane_client(stack, queue)).start_lp_migration(request)
        assert await crashing.wait_killed() == -9
        assert once.read_text() == point
        replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
        result: MigrationResult = await asyncio.wait_for(handle.result(), 120)
    finally:
        crashing.stop()
        if replacement:
            replacement.stop()

    assert position_gone(net, token_id)
    new = result.new_position
    assert new is not None and net.staker.functions.deposits(new.token_id).call()[0] == owner.address
    assert net.staker.functions.stakes(new.token_id, incentive_id(net)).call()[1] == new.liquidity > 0
    wallet_after = wallet(net, owner.address)
    assert (wallet_after[0] - wallet_before[0], wallet_after[1] - wallet_before[1]) == (result.dust0, result.dust1)
    steps = [leg.step for leg in result.legs]
    assert len(steps) == len(set(steps)), steps
    sent = [h for leg in result.legs for h in leg.tx_hashes]
    assert len(sent) == len(set(sent))
    assert net.w3.eth.get_transaction_count(owner.address) - nonce_before == len(sent)
