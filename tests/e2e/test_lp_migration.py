"""LPMigration end to end on the devnet (real Temporal, worker, anvil, Uniswap contracts),
each kind checked on chain rather than from the workflow's result:

* a staked V3 position to a new range: unstaked (reward claimed), fees collected, removed,
  burned, the ratio swap, minted, restaked in the incentive;
* V2 LP tokens into a V3 range of another fee tier (remove → zap → mint);
* V2 LP tokens through Uniswap's V3Migrator (one transaction, the rest refunded).

Each: the source is gone, the new position holds what the result says, the owner's wallet
changed by exactly the reported dust, no allowance is left, value is conserved but for
the swap's fee and impact, and the ledger has the run. Bad input is refused before any
transaction.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from connectors.dex.uniswap_v3.router import exact_input_single
from crosslane.domain.lp_migration import LPMigrationRequest, MigrationResult
from crosslane.ledger.lp_migrations import LpMigrationBook
from devnet.mining import manual_mining, mine_until
from tests.support.dex import deal, send_tx
from tests.support.lp_migration import (
    CHAIN,
    ETH,
    GWEI,
    Devnet,
    around,
    devnet,
    erc20,
    incentive_id,
    migration_request,
    mint_position,
    position_amounts,
    position_gone,
    stake,
    usdc_per_token,
    wallet,
)
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(240)


async def migrate(stack: Stack, request: LPMigrationRequest) -> MigrationResult:
    queue = unique_queue("lpm")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.start_lp_migration(request)
        result = await handle.result()
        print(result.model_dump_json(exclude={"legs"}))
        return result


def value(prices: tuple[Decimal, Decimal], amounts: tuple[int, int]) -> Decimal:
    return amounts[0] * prices[0] + amounts[1] * prices[1]


def assert_no_allowance_left(net: Devnet, owner: str) -> None:
    config_spenders = [net.npm.address]
    for token in (net.weth, net.usdc):
        for spender in config_spenders:
            assert erc20(net, token).functions.allowance(owner, spender).call() == 0


def assert_conserved(
    net: Devnet, result: MigrationResult, before: Decimal, after: Decimal, prices: tuple[Decimal, Decimal]
) -> None:
    """What went missing is at most what the zap swap could cost (fee tier + impact within
    the slippage bound), and the result's own figure says the same within rounding."""
    lost = before - after
    t0 = sorted([net.weth, net.usdc], key=lambda a: int(a, 16))[0]
    swapped = result.zap_amount_in * (prices[0] if result.zap_token_in == t0 else prices[1])
    bound = swapped * Decimal("0.0105") + 2 * max(prices)  # 1% slippage + 0.05% fee, and wei rounding
    assert -2 * max(prices) <= lost <= bound, (lost, bound)
    scale = Decimal(10) ** 6
    assert abs(result.cost * scale - lost) <= before * Decimal("0.0001") + 2 * max(prices)


async def test_staked_v3_position_moves_to_a_new_range_and_is_restaked(stack: Stack) -> None:
    net = devnet(stack)
    owner: LocalAccount = stack.fund_signer()
    lower, upper = around(net, 500, 30, 10)  # mostly below the price: the new range needs a swap
    token_id = mint_position(stack, net, owner, 500, lower, upper)
    stake(stack, net, owner, token_id)
    stack.anvil(CHAIN, "evm_increaseTime", 600)
    stack.anvil(CHAIN, "evm_mine")
    prices = usdc_per_token(net)
    before_position = position_amounts(net, token_id, net.staker.address)
    wallet_before = wallet(net, owner.address)
    reward_token = erc20(net, net.incentive.reward_token)
    rewards_before = reward_token.functions.balanceOf(owner.address).call()

    new_lower, new_upper = around(net, 500, 10, 10)
    request = migration_request(
        owner.address,
        unique_queue("staked"),
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"fee": 500, "tick_lower": new_lower, "tick_upper": new_upper},
    )
    result = await migrate(stack, request)

    # On chain: the old NFT is burned, the new one is deposited and staked for the owner.
    assert position_gone(net, token_id)
    new = result.new_position
    assert new is not None and new.token_id != token_id
    assert net.npm.functions.ownerOf(new.token_id).call() == net.staker.address
    assert net.staker.functions.deposits(new.token_id).call()[0] == owner.address
    assert net.staker.functions.stakes(new.token_id, incentive_id(net)).call()[1] == new.liquidity > 0
    position = net.npm.functions.positions(new.token_id).call()
    assert (position[4], position[5], position[6]) == (500, new_lower, new_upper)
    # The reward the old stake earned was claimed to the owner.
    assert reward_token.functions.balanceOf(owner.address).call() > rewards_before
    # The wallet changed by exactly the reported dust; no allowance is left behind.
    wallet_after = wallet(net, owner.address)
    assert (wallet_after[0] - wallet_before[0], wallet_after[1] - wallet_before[1]) == (result.dust0, result.dust1)
    assert result.dust0 >= 0 and result.dust1 >= 0
    assert_no_allowance_left(net, owner.address)
    assert result.zap_amount_in > 0
    # Value: before (the staked position) vs after (the new position and the dust), same prices.
    after_position = position_amounts(net, new.token_id, net.staker.address)
    assert after_position == (new.amount0, new.amount1)
    assert_conserved(
        net,
        result,
        value(prices, before_position),
        value(prices, after_position) + value(prices, (result.dust0, result.dust1)),
        prices,
    )
    steps = [leg.step for leg in result.legs]
    assert steps[:1] == ["unstake"] and "decrease" in steps and "burn" in steps and steps[-1] == "restake"
    assert "restaked" in result.restake_note and result.impermanent_loss is not None
    row = LpMigrationBook(stack.ledger()).get(request.workflow_id)
    assert row is not None and row["outcome"] == "migrated" and row["new_token_id"] == str(new.token_id)


async def test_v2_lp_moves_into_a_v3_range_of_another_fee_tier(stack: Stack) -> None:
    net = devnet(stack)
    owner = stack.fund_signer()
    lp = give_lp(stack, net, owner)
    prices = usdc_per_token(net)
    supply, (reserve0, reserve1) = (
        net.v2_pair.functions.totalSupply().call(),
        net.v2_pair.functions.getReserves().call()[:2],
    )
    before = value(prices, (lp * reserve0 // supply, lp * reserve1 // supply))
    wallet_before = wallet(net, owner.address)
    lower, upper = around(net, 3000, 5, 15)
    request = migration_request(
        owner.address,
        unique_queue("v2"),
        {"protocol": "uniswap_v2", "token_a": "WETH", "token_b": "USDC"},
        {"fee": 3000, "tick_lower": lower, "tick_upper": upper},
    )
    result = await migrate(stack, request)

    assert net.v2_pair.functions.balanceOf(owner.address).call() == 0
    new = result.new_position
    assert new is not None and net.npm.functions.ownerOf(new.token_id).call() == owner.address
    assert net.npm.functions.positions(new.token_id).call()[4:7] == [3000, lower, upper]
    wallet_after = wallet(net, owner.address)
    assert (wallet_after[0] - wallet_before[0], wallet_after[1] - wallet_before[1]) == (result.dust0, result.dust1)
    assert_no_allowance_left(net, owner.address)
    after_position = position_amounts(net, new.token_id, owner.address)
    assert_conserved(
        net, result, before, value(prices, after_position) + value(prices, (result.dust0, result.dust1)), prices
    )
    assert [leg.step for leg in result.legs][:1] == ["remove"]


async def test_v2_lp_moves_through_the_v3_migrator(stack: Stack) -> None:
    net = devnet(stack)
    owner = stack.fund_signer()
    lp = give_lp(stack, net, owner)
    wallet_before = wallet(net, owner.address)
    lower, upper = around(net, 3000, 20, 20)
    request = migration_request(
        owner.address,
        unique_queue("migrator"),
        {"protocol": "uniswap_v2", "token_a": "USDC", "token_b": "WETH"},
        {"fee": 3000, "tick_lower": lower, "tick_upper": upper},
        via_migrator=True,
    )
    result = await migrate(stack, request)

    assert net.v2_pair.functions.balanceOf(owner.address).call() == 0 and lp > 0
    new = result.new_position
    assert new is not None and net.npm.functions.ownerOf(new.token_id).call() == owner.address
    wallet_after = wallet(net, owner.address)
    # The migrator refunds what the range did not take: that is the reported dust.
    assert (wallet_after[0] - wallet_before[0], wallet_after[1] - wallet_before[1]) == (result.dust0, result.dust1)
    assert result.removed0 == result.deposited0 + result.dust0 and result.zap_amount_in == 0
    migrator = stack.chains.get(CHAIN).dexes["uniswap_v3"].migrator
    assert net.v2_pair.functions.allowance(owner.address, migrator).call() == 0
    assert [leg.step for leg in result.legs][0] == "migrate"


def give_lp(stack: Stack, net: Devnet, owner: LocalAccount) -> int:
    """LP tokens of the WETH/USDC pair for ``owner``, minted the pair's own way (0.5 WETH
    and the USDC the reserves ask for, sent to the pair, then ``mint``); the LP minted."""
    reserve0, reserve1, _ = net.v2_pair.functions.getReserves().call()
    weth_is_0 = net.v2_pair.functions.token0().call() == net.weth
    weth_reserve, usdc_reserve = (reserve0, reserve1) if weth_is_0 else (reserve1, reserve0)
    weth, usdc = ETH // 2, ETH // 2 * usdc_reserve // weth_reserve
    deal(stack, net.chain, owner.address, "WETH", weth)
    deal(stack, net.chain, owner.address, "USDC", usdc)
    for token, amount in ((net.weth, weth), (net.usdc, usdc)):
        call = erc20(net, token).encode_abi("transfer", [net.v2_pair.address, amount])
        send_tx(net.w3, owner, {"to": token, "data": call, "gas": 100_000})
    send_tx(net.w3, owner, {"to": net.v2_pair.address, "data": net.v2_pair.encode_abi("mint", [owner.address])})
    return int(net.v2_pair.functions.balanceOf(owner.address).call())


async def test_bad_input_is_refused_before_any_transaction(stack: Stack) -> None:
    net = devnet(stack)
    owner = stack.fund_signer()
    stranger = stack.fund_signer()
    lower, upper = around(net, 500, 10, 10)
    token_id = mint_position(stack, net, owner, 500, lower, upper)
    deal(stack, CHAIN, stranger.address, "USDC", 1)
    source = {"protocol": "uniswap_v3", "token_id": token_id}
    with pytest.raises(ValidationError, match="tick_lower .* must be below tick_upper"):
        migration_request(owner.address, "bad-order", source, {"fee": 500, "tick_lower": upper, "tick_upper": lower})
    with pytest.raises(ValidationError, match="slippage 5001 bps is outside 0-5000"):
        migration_request(
            owner.address, "bad-slip", source, {"fee": 500, "tick_lower": lower, "tick_upper": upper}, slippage_bps=5001
        )
    cases = {
        "not aligned to the pool's tick spacing 60": migration_request(
            owner.address, unique_queue("spacing"), source, {"fee": 3000, "tick_lower": lower + 10, "tick_upper": upper}
        ),
        f"owned by {owner.address}, not {stranger.address}": migration_request(
            stranger.address, unique_queue("owner"), source, {"fee": 500, "tick_lower": lower, "tick_upper": upper}
        ),
    }
    queue = unique_queue("lpm-bad")
    nonces = {a: net.w3.eth.get_transaction_count(a) for a in (owner.address, stranger.address)}
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        for message, request in cases.items():
            handle = await client.start_lp_migration(request)
            with pytest.raises(WorkflowFailureError) as failure:
                await handle.result()
            assert message in str(failure.value.cause)
    assert {a: net.w3.eth.get_transaction_count(a) for a in nonces} == nonces
    assert net.npm.functions.ownerOf(token_id).call() == owner.address


async def test_a_mint_that_reverts_after_the_removal_leaves_every_token_with_the_owner(stack: Stack) -> None:
    """V2 LP tokens on devnet-b, 0.1% slippage; the mint waits in the mempool while a large
    swap lands first and moves the price: the mint reverts. The run resets the allowances the
    mint's approvals left (the failed child never reported them), records the failure, and
    fails saying where the tokens are: in the owner's wallet, exactly what the removal and
    the zap gave, with no allowance left and no position anywhere."""
    net = devnet(stack, "devnet-b")
    url = stack.anvil_urls["devnet-b"]
    owner = stack.fund_signer()
    give_lp(stack, net, owner)
    wallet_before = wallet(net, owner.address)
    trader = stack.fund_signer()
    deal(stack, "devnet-b", trader.address, "WETH", 200 * ETH)
    router = stack.chains.get("devnet-b").dexes["uniswap_v3"].router
    assert router is not None
    send_tx(net.w3, trader, {"to": net.weth, "data": erc20(net, net.weth).encode_abi("approve", [router, 2**256 - 1])})
    lower, upper = around(net, 3000, 10, 10)
    request = migration_request(
        owner.address,
        unique_queue("reverted"),
        {"protocol": "uniswap_v2", "token_a": "WETH", "token_b": "USDC"},
        {"chain": None, "fee": 3000, "tick_lower": lower, "tick_upper": upper},
        chain="devnet-b",
        slippage_bps=10,
    )
    mint_selector = net.npm.encode_abi("mint", [(net.t0, net.t1, 3000, lower, upper, 0, 0, 0, 0, owner.address, 0)])[
        :10
    ]
    queue = unique_queue("lpm-revert")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(url) as mine_block:
            task = asyncio.ensure_future((await client.start_lp_migration(request)).result())
            while True:  # mine everything until the mint itself waits in the pool
                pending = list(_pending(stack, owner.address).values())
                if any(tx["input"].startswith(mint_selector) for tx in pending):
                    break
                if pending:
                    mine_block()
                await asyncio.sleep(0.05)
            swap = exact_input_single(net.weth, net.usdc, 3000, trader.address, 2**63, 100 * ETH, 0)
            send_tx(net.w3, trader, {"to": router, "data": "0x" + swap.hex()}, tip=50 * GWEI, wait=False)
            mine_block()
            await asyncio.wait_for(mine_until(task.done, url, 0.2), 120)
    with pytest.raises(WorkflowFailureError) as failure:
        await task
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "MigrationFailed", cause
    assert "Price slippage check" in cause.message and "in the owner's wallet" in cause.message
    (recorded,) = cause.details
    assert recorded["outcome"] == "failed" and recorded["new_position"] is None
    wallet_after = wallet(net, owner.address)
    assert (wallet_after[0] - wallet_before[0], wallet_after[1] - wallet_before[1]) == (
        recorded["dust0"],
        recorded["dust1"],
    )
    assert recorded["dust0"] > 0 and recorded["dust1"] > 0
    assert net.v2_pair.functions.balanceOf(owner.address).call() == 0
    assert net.npm.functions.balanceOf(owner.address).call() == 0
    for token in (net.weth, net.usdc):
        for spender in (net.npm.address, router):
            assert erc20(net, token).functions.allowance(owner.address, spender).call() == 0
    row = LpMigrationBook(stack.ledger()).get(request.workflow_id)
    assert row is not None and row["outcome"] == "failed"


def _pending(stack: Stack, address: str) -> dict[str, Any]:
    """txpool_content's pending transactions of ``address``, by nonce."""
    content: Any = stack.anvil("devnet-b", "txpool_content")
    for sender, txs in (content.get("pending") or {}).items():
        if sender.lower() == address.lower():
            return dict(txs)
    return {}
