"""LPMigration of SushiSwap V2 LP tokens staked in MasterChef (devnet-a): the migration
withdraws them from the farm first, which pays the farm's pending SUSHI to the owner, and
the result reports that reward. Checked on chain: nothing left in the farm or the wallet
of the pair, the new V3 position is the owner's, the reward reached the owner's wallet
(exactly the reported amount), the owner's WETH/USDC changed by exactly the dust, and no
allowance is left."""

from __future__ import annotations

from fractions import Fraction

import pytest
from temporalio.client import WorkflowFailureError

from crosslane.domain.lp_migration import MigrationKind, MigrationResult
from tests.e2e.test_entry_points import BIN, run
from tests.e2e.test_lp_migration import migrate
from tests.support.lp_migration import CHAIN, Devnet, Farm, around, devnet, erc20, farm_lp, migration_request, wallet
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(240)

SUSHI_WETH_USDC = {"protocol": "uniswap_v2", "dex": "sushiswap", "token_a": "WETH", "token_b": "USDC"}


def assert_unfarmed(net: Devnet, farm: Farm, owner: str, result: MigrationResult, reward_before: int) -> None:
    assert farm.chef.functions.userInfo(farm.pid, owner).call()[0] == 0
    assert farm.pair.functions.balanceOf(owner).call() == 0
    new = result.new_position
    assert new is not None and new.liquidity > 0 and net.npm.functions.ownerOf(new.token_id).call() == owner
    assert result.farm_reward > 0 and result.farm_reward_token == farm.reward.address
    assert farm.reward.functions.balanceOf(owner).call() - reward_before == result.farm_reward
    assert [leg.step for leg in result.legs][0] == "unfarm"


async def test_v2_lp_staked_in_a_farm_is_unstaked_harvested_and_moved_into_v3(stack: Stack) -> None:
    net = devnet(stack)
    owner = stack.fund_signer()
    farm = farm_lp(stack, net, owner)
    for _ in range(3):  # the farm pays per block
        stack.anvil(CHAIN, "evm_mine")
    pending = int(farm.chef.functions.pendingSushi(farm.pid, owner.address).call())
    reward_before = int(farm.reward.functions.balanceOf(owner.address).call())
    wallet_before = wallet(net, owner.address)
    lower, upper = around(net, 3000, 5, 15)
    request = migration_request(
        owner.address, unique_queue("farm"), SUSHI_WETH_USDC, {"fee": 3000, "tick_lower": lower, "tick_upper": upper}
    )
    assert request.kind is MigrationKind.V2_TO_V3
    result = await migrate(stack, request)

    assert_unfarmed(net, farm, owner.address, result, reward_before)
    assert result.farm_reward > pending > 0  # more blocks passed before the withdrawal
    assert result.removed0 > 0 and result.removed1 > 0
    wallet_after = wallet(net, owner.address)
    assert (wallet_after[0] - wallet_before[0], wallet_after[1] - wallet_before[1]) == (result.dust0, result.dust1)
    for t in (net.weth, net.usdc):
        assert erc20(net, t).functions.allowance(owner.address, net.npm.address).call() == 0
    assert farm.pair.functions.allowance(owner.address, stack.chains.get(CHAIN).dexes["sushiswap"].router).call() == 0


async def test_v2_lp_half_staked_moves_through_the_migrator_after_the_farm(stack: Stack) -> None:
    """Half in the wallet, half in the farm: all of it goes, the staked half withdrawn first."""
    net = devnet(stack)
    owner = stack.fund_signer()
    # No block since the stake: the plan's gas estimate skips the reward mint the withdrawal,
    # mined a block later, does (the step's gas limit carries room for it).
    farm = farm_lp(stack, net, owner, Fraction(1, 2))
    assert farm.held > 0 and farm.staked > 0
    reward_before = int(farm.reward.functions.balanceOf(owner.address).call())
    lower, upper = around(net, 3000, 20, 20)
    request = migration_request(
        owner.address,
        unique_queue("farm-migrator"),
        SUSHI_WETH_USDC,
        {"fee": 3000, "tick_lower": lower, "tick_upper": upper},
        via_migrator=True,
    )
    result = await migrate(stack, request)

    assert_unfarmed(net, farm, owner.address, result, reward_before)
    assert result.source.startswith(f"{farm.held + farm.staked} LP of ")
    migrator = stack.chains.get(CHAIN).dexes["uniswap_v3"].migrator
    assert farm.pair.functions.allowance(owner.address, migrator).call() == 0


async def test_more_lp_than_wallet_and_farm_hold_is_refused(stack: Stack) -> None:
    net = devnet(stack)
    owner = stack.fund_signer()
    farm = farm_lp(stack, net, owner, Fraction(1, 2))
    total = farm.held + farm.staked
    lower, upper = around(net, 3000, 5, 5)
    source = {**SUSHI_WETH_USDC, "liquidity": total + 1}
    request = migration_request(
        owner.address, unique_queue("farm-over"), source, {"fee": 3000, "tick_lower": lower, "tick_upper": upper}
    )
    nonce = net.w3.eth.get_transaction_count(owner.address)
    with pytest.raises(WorkflowFailureError) as failure:
        await migrate(stack, request)
    assert f"holds {total} LP tokens of {farm.pair.address} (in the wallet and staked in farm {farm.pid}), not " in str(
        failure.value.cause
    )
    assert net.w3.eth.get_transaction_count(owner.address) == nonce
    assert farm.chef.functions.userInfo(farm.pid, owner.address).call()[0] == farm.staked


async def test_crosslane_lp_migrate_moves_a_farmed_position_and_prints_the_reward(stack: Stack) -> None:
    """The same from the command line: progress, then the result with the harvested reward;
    the same id again moves nothing and shows the recorded result."""
    net = devnet(stack)
    owner = stack.fund_signer()
    farm = farm_lp(stack, net, owner)
    stack.anvil(CHAIN, "evm_mine")
    reward_before = int(farm.reward.functions.balanceOf(owner.address).call())
    lower, upper = around(net, 3000, 10, 10)
    queue, rid = unique_queue("lpcli"), unique_queue("lpcli")
    env = stack.env(queue, COLUMNS="250")
    cmd = [
        str(BIN / "crosslane"), "lp", "migrate", "--kind", "v2_to_v3", "--from", f"{CHAIN}:sushiswap:WETH/USDC",
        "--to", f"{CHAIN}:uniswap_v3:3000:{lower}:{upper}", "--owner", owner.address, "--slippage-bps", "100",
        "--id", rid,
    ]  # fmt: skip
    async with running_worker(stack, queue):
        done = await run(cmd, env=env)
        assert done.returncode == 0, done.stderr
        result = await (await crosslane_client(stack, queue)).lp_migration_handle(rid).result()
        again = await run(cmd, env=env)
    assert_unfarmed(net, farm, owner.address, result, reward_before)
    assert result.new_position is not None
    # SUSHI is not in the devnet's token registry: shown in base units, with its address.
    reward_text = f"{result.farm_reward} of {farm.reward.address}"
    for shown in (done.stdout, again.stdout):
        assert "migrated (v2_to_v3)" in shown and f"new position {result.new_position.token_id} in" in shown
        assert f"farm reward harvested to the owner: {reward_text}" in shown
    assert again.returncode == 0 and f"request {rid} ran already (workflow lpm-{rid}" in again.stdout
