"""A V3 position on devnet-a moved into a V3 range on devnet-b (``cross_chain``), over each
bridge: removed on A, the WETH swapped to USDC there, USDC bridged (Wormhole: guardians'
VAA and our redeem, then its wrapped USDC swapped into devnet-b's USDC through the devnet's
V2 pair; Across: the relayer's fill), the zap swap and the mint on B. Checked on
chain: the source NFT is burned, the new one is the owner's on B, nothing is left behind
on A (the owner's balances there are as before), the owner's wallet on B changed by exactly
the reported dust, no allowance is left on either chain, and value arrives short only of
the bridge's fee and the two swaps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.client import WorkflowFailureError

from crosslane.domain.lp_migration import MigrationKind, MigrationResult
from tests.e2e.test_lp_migration import migrate
from tests.support.lp_migration import (
    around,
    devnet,
    erc20,
    farm_lp,
    migration_request,
    mint_position,
    position_amounts,
    position_gone,
    usdc_per_token,
    wallet,
)
from tests.support.stack import Stack, unique_queue

pytestmark = pytest.mark.timeout(300)


def assert_moved(
    stack: Stack,
    owner: str,
    token_id: int,
    result: MigrationResult,
    wallets: tuple[tuple[int, int], tuple[int, int]],
    new_range: tuple[int, int],
    *spenders: str,
) -> tuple[int, int]:
    """On chain: A's position burned, B's new one the owner's in the range asked, the owner's
    A wallet as before, B's changed by the reported dust, no allowance left to the position
    manager, the V3 router or ``spenders`` on either chain. B's position amounts."""
    net_a, net_b = devnet(stack, "devnet-a"), devnet(stack, "devnet-b")
    assert position_gone(net_a, token_id)
    new = result.new_position
    assert new is not None and net_b.npm.functions.ownerOf(new.token_id).call() == owner
    assert net_b.npm.functions.positions(new.token_id).call()[4:7] == [3000, *new_range]
    assert wallet(net_a, owner) == wallets[0]  # everything removed on A was bridged
    after_b = wallet(net_b, owner)
    assert (after_b[0] - wallets[1][0], after_b[1] - wallets[1][1]) == (result.dust0, result.dust1)
    for net in (net_a, net_b):
        for token in (net.weth, net.usdc):
            for spender in (net.npm.address, stack.chains.get(net.chain).dexes["uniswap_v3"].router, *spenders):
                assert erc20(net, token).functions.allowance(owner, spender).call() == 0
    held = position_amounts(net_b, new.token_id, owner)
    assert (held[0], held[1]) == (new.amount0, new.amount1)
    return held


async def test_a_position_moves_to_another_chain_over_across(bridge_stack: Stack) -> None:
    route = "across"
    stack = bridge_stack
    net_a, net_b = devnet(stack, "devnet-a"), devnet(stack, "devnet-b")
    owner = stack.fund_signer()
    token_id = mint_position(stack, net_a, owner, 500, *around(net_a, 500, 20, 20))
    wallet_a, wallet_b = wallet(net_a, owner.address), wallet(net_b, owner.address)
    lower, upper = around(net_b, 3000, 10, 10)
    request = migration_request(
        owner.address,
        unique_queue(f"xchain-{route}"),
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"chain": "devnet-b", "fee": 3000, "tick_lower": lower, "tick_upper": upper},
        bridge_route=route,
    )
    assert request.kind is MigrationKind.CROSS_CHAIN
    result = await migrate(stack, request)

    assert_moved(stack, owner.address, token_id, result, (wallet_a, wallet_b), (lower, upper))
    assert 0 < result.bridge_received <= result.bridged
    steps = [leg.step for leg in result.legs]
    assert steps[:4] == ["decrease", "collect", "burn", "to-bridge-asset"] and "bridge" in steps and "mint" in steps
    # Value: B's position and dust against what A's position held, each at its chain's price.
    assert result.value_after > result.value_before * Decimal("0.97"), (result.value_before, result.value_after)


async def test_a_position_moves_to_another_chain_over_wormhole(bridge_stack: Stack) -> None:
    """Wormhole delivers its wrapped USDC on devnet-b: swapped into devnet-b's USDC through the
    seeded Uniswap V2 pair, then the zap and the mint. Nothing wrapped is left with the owner."""
    stack = bridge_stack
    net_a, net_b = devnet(stack, "devnet-a"), devnet(stack, "devnet-b")
    config_b = stack.chains.get("devnet-b")
    wrapped = erc20(net_b, config_b.contracts["Wormhole:devnet-a:USDC"])
    owner = stack.fund_signer()
    token_id = mint_position(stack, net_a, owner, 500, *around(net_a, 500, 20, 20))
    wallet_a, wallet_b = wallet(net_a, owner.address), wallet(net_b, owner.address)
    wrapped_before = int(wrapped.functions.balanceOf(owner.address).call())
    removed, prices_a = position_amounts(net_a, token_id, owner.address), usdc_per_token(net_a)
    lower, upper = around(net_b, 3000, 10, 10)
    request = migration_request(
        owner.address,
        unique_queue("xchain-wh"),
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"chain": "devnet-b", "fee": 3000, "tick_lower": lower, "tick_upper": upper},
        bridge_route="wormhole",
    )
    result = await migrate(stack, request)

    v2_router = config_b.dexes["uniswap_v2"].router
    held = assert_moved(stack, owner.address, token_id, result, (wallet_a, wallet_b), (lower, upper), v2_router)
    assert wrapped.functions.balanceOf(owner.address).call() == wrapped_before  # all swapped on B
    assert wrapped.functions.allowance(owner.address, v2_router).call() == 0
    assert 0 < result.bridge_received == result.bridged  # Wormhole charges no fee here
    steps = [leg.step for leg in result.legs]
    assert steps[:4] == ["decrease", "collect", "burn", "to-bridge-asset"]
    assert steps.index("bridge") < steps.index("from-bridge-asset") < steps.index("mint")
    # Value, from the chain: A's position at A's price against B's position and dust at B's.
    # Lost at most the three swaps' fees plus the 1% slippage bound each allows (A: WETH ->
    # USDC in the 0.05% pool; B: wrapped -> USDC in the 0.3% V2 pair, the zap in the 0.3% pool).
    prices_b = usdc_per_token(net_b)
    before = removed[0] * prices_a[0] + removed[1] * prices_a[1]
    after = (held[0] + result.dust0) * prices_b[0] + (held[1] + result.dust1) * prices_b[1]
    weth_a = 0 if int(net_a.weth, 16) < int(net_a.usdc, 16) else 1
    zap_in = 0 if result.zap_token_in == min(net_b.weth, net_b.usdc, key=lambda a: int(a, 16)) else 1
    bound = (
        removed[weth_a] * prices_a[weth_a] * Decimal("0.0105")
        + result.bridge_received * Decimal("0.013")
        + result.zap_amount_in * prices_b[zap_in] * Decimal("0.013")
        + 4 * max(*prices_a, *prices_b)  # wei rounding of each step
    )
    lost = before - after
    assert 0 < lost <= bound, (lost, bound)  # the wrapped pair's 0.3% alone is paid
    assert abs(result.cost * 10**6 - lost) <= before * Decimal("0.001"), (result.cost, lost)


async def test_wormhole_without_a_market_for_its_wrapped_asset_is_refused_before_any_transaction(
    bridge_stack: Stack,
) -> None:
    """devnet-b → devnet-a: no pair on devnet-a trades the wrapped USDC Wormhole would deliver."""
    stack = bridge_stack
    net_a, net_b = devnet(stack, "devnet-a"), devnet(stack, "devnet-b")
    owner = stack.fund_signer()
    token_id = mint_position(stack, net_b, owner, 500, *around(net_b, 500, 20, 20))
    nonce = net_b.w3.eth.get_transaction_count(owner.address)
    lower, upper = around(net_a, 3000, 10, 10)
    request = migration_request(
        owner.address,
        unique_queue("xchain-wh-none"),
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"chain": "devnet-a", "fee": 3000, "tick_lower": lower, "tick_upper": upper},
        bridge_route="wormhole",
        chain="devnet-b",
    )
    with pytest.raises(WorkflowFailureError) as failure:
        await migrate(stack, request)
    assert "no Uniswap V2 pair there swaps it into USDC" in str(failure.value.cause)
    assert net_b.w3.eth.get_transaction_count(owner.address) == nonce
    assert net_b.npm.functions.ownerOf(token_id).call() == owner.address


async def test_v2_lp_staked_in_a_farm_moves_to_another_chain_over_across(bridge_stack: Stack) -> None:
    """SushiSwap LP staked in MasterChef on devnet-a: withdrawn (reward to the owner),
    removed, the WETH swapped to USDC, bridged, minted into a devnet-b range."""
    stack = bridge_stack
    net_a, net_b = devnet(stack, "devnet-a"), devnet(stack, "devnet-b")
    owner = stack.fund_signer()
    farm = farm_lp(stack, net_a, owner)
    reward_before = int(farm.reward.functions.balanceOf(owner.address).call())
    wallet_a, wallet_b = wallet(net_a, owner.address), wallet(net_b, owner.address)
    lower, upper = around(net_b, 3000, 10, 10)
    request = migration_request(
        owner.address,
        unique_queue("xchain-farm"),
        {"protocol": "uniswap_v2", "dex": "sushiswap", "token_a": "WETH", "token_b": "USDC"},
        {"chain": "devnet-b", "fee": 3000, "tick_lower": lower, "tick_upper": upper},
        bridge_route="across",
    )
    assert request.kind is MigrationKind.CROSS_CHAIN
    result = await migrate(stack, request)

    assert farm.chef.functions.userInfo(farm.pid, owner.address).call()[0] == 0
    assert farm.pair.functions.balanceOf(owner.address).call() == 0
    assert result.farm_reward > 0
    assert farm.reward.functions.balanceOf(owner.address).call() - reward_before == result.farm_reward
    new = result.new_position
    assert new is not None and net_b.npm.functions.ownerOf(new.token_id).call() == owner.address
    assert wallet(net_a, owner.address) == wallet_a  # everything removed on A was bridged
    after_b = wallet(net_b, owner.address)
    assert (after_b[0] - wallet_b[0], after_b[1] - wallet_b[1]) == (result.dust0, result.dust1)
    assert 0 < result.bridge_received <= result.bridged
    steps = [leg.step for leg in result.legs]
    assert steps[:3] == ["unfarm", "remove", "to-bridge-asset"] and "bridge" in steps and "mint" in steps
