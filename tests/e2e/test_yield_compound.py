"""YieldCompound on the devnet: real Temporal, worker, anvil, SushiSwap's MasterChef and the
UniswapV3Staker, block time advanced between runs (evm_increaseTime + mined blocks).

* A MasterChef farm compounded over several runs: each run's SUSHI is harvested, sold into
  WETH and USDC, added to the pair and staked again; the stake on chain grows by exactly the
  LP tokens the run reports, and no SUSHI is left behind beyond what the next run compounds.
* The profit gate skips a run whose gas exceeds its rewards × the fraction: no transaction.
* The net APY in the ledger matches one computed independently from the chain: SUSHI paid
  (Transfer events), what it sold for at the pair's reserves, gas of every transaction the
  owner sent, the stake's value at each run.
* A V3 position staked in the incentive: unstaked, claimed, withdrawn, increased, staked again.
* Bad input (unknown farm, position not owned) is refused with the reason, and nothing sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from web3 import Web3

from crosslane.compounding import SECONDS_PER_YEAR, apy
from crosslane.domain.yield_compound import (
    COMPOUND_WORKFLOW,
    CompoundOutcome,
    CompoundRequest,
    CompoundResult,
    FarmTarget,
    StakedTarget,
)
from crosslane.ledger.yield_runs import YieldBook
from tests.support.dex import approve, balance, deal, send_tx, token, w3_for
from tests.support.farm import CHAIN, SIX_HOURS, advance, compound_request, contract, farm_owner, staked_v3_position
from tests.support.stack import ETH, Stack, crosslane_client, running_worker, temporal_client, unique_queue

pytestmark = pytest.mark.timeout(300)


async def _run(client: Client, queue: str, request: CompoundRequest) -> CompoundResult:
    return await client.execute_workflow(
        COMPOUND_WORKFLOW, request, id=request.workflow_id, task_queue=queue, result_type=CompoundResult
    )


def _sold_for(reserves: tuple[int, int], amount_in: int) -> int:
    """UniswapV2Library.getAmountOut."""
    reserve_in, reserve_out = reserves
    with_fee = amount_in * 997
    return with_fee * reserve_out // (reserve_in * 1000 + with_fee)


def _independent_net_apr(stack: Stack, owner: str, rows: list[Any]) -> Decimal:
    """Net APR from the chain, over the runs after the first (the first's reward accrued
    before tracking). Each compounded run's reward is the SUSHI MasterChef paid the owner
    since the previous compounded run's harvest (its restake's deposit pays too), valued at
    what the SUSHI/WETH pair gives for it at the run's block; gas is every transaction the
    owner sent after the first run; the stake is valued at each run's block from the pair's
    reserves, USDC at the Uniswap V2 WETH/USDC price (a pool these runs never trade)."""
    w3 = w3_for(stack, CHAIN)
    dexes = stack.chains.get(CHAIN).dexes
    sushi = dexes["sushiswap"]
    assert sushi.masterchef is not None
    chef_address = sushi.masterchef.address
    reward = contract(w3, sushi.masterchef.reward_token, "SushiToken")
    weth = Web3.to_checksum_address(token(stack, CHAIN, "WETH"))
    usdc = Web3.to_checksum_address(token(stack, CHAIN, "USDC"))
    market = contract(w3, next(p.address for p in sushi.pools if p.label.startswith("SUSHI/WETH")), "UniswapV2Pair")
    farm_pair = contract(w3, sushi.masterchef.farms[0].lp_token, "UniswapV2Pair")
    reference = contract(
        w3, next(p.address for p in dexes["uniswap_v2"].pools if {p.token0, p.token1} == {weth, usdc}), "UniswapV2Pair"
    )
    chef = contract(w3, chef_address, "MasterChef")

    def reserves(pair: Any, block: int, token_in: str) -> tuple[int, int]:
        r0, r1, _ = pair.functions.getReserves().call(block_identifier=block)
        return (int(r0), int(r1)) if pair.functions.token0().call() == token_in else (int(r1), int(r0))

    def block_of(tx_hash: str) -> int:
        return int(w3.eth.get_transaction_receipt(tx_hash)["blockNumber"])

    compounded = [r for r in rows if r.outcome == "compounded"]
    paid = [
        (int(log["blockNumber"]), int(log["args"]["value"]))
        for log in reward.events.Transfer().get_logs(from_block=rows[0].block_number, to_block="latest")
        if log["args"]["from"] == chef_address and log["args"]["to"] == owner
    ]
    earned = 0
    for previous, run in zip(compounded, compounded[1:], strict=False):
        since, until = block_of(previous.tx_hashes["harvest"]), block_of(run.tx_hashes["harvest"])
        sushi_paid = sum(amount for block, amount in paid if since < block <= until)
        earned += _sold_for(reserves(market, run.block_number, reward.address), sushi_paid)
    first_end, last_end = block_of(compounded[0].tx_hashes["stake"]), block_of(compounded[-1].tx_hashes["stake"])
    gas = 0
    for number in range(first_end + 1, last_end + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == owner:
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                gas += int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
    values = []
    for row in rows:
        weth_reserve, usdc_reserve = reserves(farm_pair, row.block_number, weth)
        supply = int(farm_pair.functions.totalSupply().call(block_identifier=row.block_number))
        staked = int(chef.functions.userInfo(0, owner).call(block_identifier=row.block_number)[0])
        ref_weth, ref_usdc = reserves(reference, row.block_number, weth)
        values.append(staked * weth_reserve // supply + staked * usdc_reserve * ref_weth // (supply * ref_usdc))
    principal = sum(values) // len(values)
    seconds = rows[-1].chain_time - rows[0].chain_time
    return Decimal(earned - gas) / principal * SECONDS_PER_YEAR / seconds


async def test_a_farm_compounds_over_runs_skips_when_gas_exceeds_value_and_the_ledger_apy_is_the_chains(
    stack: Stack,
) -> None:
    owner, staked0 = farm_owner(stack)
    w3 = w3_for(stack, CHAIN)
    sushi = stack.chains.get(CHAIN).dexes["sushiswap"]
    assert sushi.masterchef is not None
    chef = contract(w3, sushi.masterchef.address, "MasterChef")
    reward_token = contract(w3, sushi.masterchef.reward_token, "SushiToken")
    position = FarmTarget(pid=0)
    queue = unique_queue("compound")
    client = await temporal_client(stack)
    results: list[CompoundResult] = []
    async with running_worker(stack, queue):
        for i in range(4):
            advance(stack, SIX_HOURS, 5)
            stake_before = int(chef.functions.userInfo(0, owner.address).call()[0])
            # Run 2 asks for gas within a billionth of the rewards: the gate must skip it.
            fraction = Decimal("1e-9") if i == 2 else Decimal("0.5")
            request = compound_request(
                owner.address, f"farm-{owner.address[2:10]}-{i}", position, gas_fraction=fraction
            )
            result = await _run(client, queue, request)
            results.append(result)
            stake_after = int(chef.functions.userInfo(0, owner.address).call()[0])
            if i == 2:
                assert result.outcome is CompoundOutcome.SKIPPED and result.reason.startswith("skipped: gas")
                assert result.gate.gas_cost_wei > result.gate.reward_value_wei * fraction
                assert result.tx_hashes == {} and stake_after == stake_before  # nothing sent
                continue
            assert result.outcome is CompoundOutcome.COMPOUNDED, result.reason
            # The stake on chain grew by exactly the LP tokens the run minted and staked.
            assert result.liquidity > 0 and stake_after == stake_before + result.liquidity
            # Every SUSHI harvested was sold into the pool; the only SUSHI the owner holds is
            # what the restake's deposit paid, which the ledger carries into the next run.
            carried = int(reward_token.functions.balanceOf(owner.address).call())
            assert result.reward > 0 and carried > 0
            assert YieldBook(stack.ledger()).last_carry(CHAIN, owner.address, position.key) == carried

    assert stake_after > staked0
    rows = YieldBook(stack.ledger()).runs(CHAIN, owner.address, position.key)
    assert [r.outcome for r in rows] == ["compounded", "compounded", "skipped", "compounded"]
    final = results[-1].position_yield
    assert final is not None and final.runs == 4 and final.skipped == 1
    independent = _independent_net_apr(stack, owner.address, rows)
    assert final.net_apr is not None
    # The ledger values at its quotes and the WETH pools' median: within 1 % of the chain's figure.
    assert abs(final.net_apr - independent) <= abs(independent) * Decimal("0.01"), (final.net_apr, independent)
    assert final.net_apy == apy(final.net_apr, SIX_HOURS)
    print(f"net APR ledger {final.net_apr:.4f} vs chain {independent:.4f}; net APY {final.net_apy:.4f}")


async def test_a_staked_v3_position_is_claimed_increased_and_staked_again(stack: Stack) -> None:
    owner, token_id = staked_v3_position(stack)
    w3 = w3_for(stack, CHAIN)
    v3 = stack.chains.get(CHAIN).dexes["uniswap_v3"]
    (incentive,) = v3.incentives
    assert v3.position_manager is not None and v3.staker is not None
    npm = contract(w3, v3.position_manager, "NonfungiblePositionManager")
    staker = contract(w3, v3.staker, "UniswapV3Staker")
    liquidity_before = int(npm.functions.positions(token_id).call()[7])
    advance(stack, SIX_HOURS, 3)

    queue = unique_queue("compound-v3")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        request = compound_request(owner.address, f"v3-{token_id}", StakedTarget(token_id=token_id))
        result = await (await client.start_compound(request)).result()
        status = await client.compound_status(request.request_id)
    assert status.state == "done" and set(status.tx_hashes) >= {"unstake", "claim", "withdraw", "add", "stake"}

    assert result.outcome is CompoundOutcome.COMPOUNDED, result.reason
    assert result.reward > 0 and result.liquidity > 0
    position = npm.functions.positions(token_id).call()
    assert int(position[7]) == liquidity_before + result.liquidity
    # Staked again: the NFT is the staker's, deposited by the owner, in the incentive.
    assert npm.functions.ownerOf(token_id).call() == staker.address
    assert staker.functions.deposits(token_id).call()[0] == owner.address
    key = (incentive.reward_token, incentive.pool, incentive.start_time, incentive.end_time, incentive.refundee)
    incentive_id = Web3.keccak(w3.codec.encode(["(address,address,uint256,uint256,address)"], [key]))
    assert int(staker.functions.stakes(token_id, incentive_id).call()[1]) == int(position[7])


async def test_bad_positions_are_refused_with_the_reason_and_nothing_sent(stack: Stack) -> None:
    owner = stack.fund_signer()
    w3 = w3_for(stack, CHAIN)
    queue = unique_queue("compound-bad")
    client = await temporal_client(stack)
    async with running_worker(stack, queue):
        for request_id, position, expected in (
            ("bad-pid", FarmTarget(pid=9), "unknown farm pid 9 in sushiswap's MasterChef; farms: 0"),
            ("bad-stake", FarmTarget(pid=1), "has no LP tokens staked in farm 1"),
            ("bad-nft", StakedTarget(token_id=1), "position 1 is not " + owner.address),
            ("bad-dex", FarmTarget(dex="curve", pid=0), "no DEX deployment 'curve' on devnet-a"),
        ):
            with pytest.raises(WorkflowFailureError) as failure:
                await _run(
                    client, queue, compound_request(owner.address, f"{request_id}-{owner.address[2:8]}", position)
                )
            assert expected in str(failure.value.cause), failure.value.cause
    assert w3.eth.get_transaction_count(owner.address) == 0


async def test_a_harvest_right_after_another_owners_deposit_lands(stack: Stack) -> None:
    """Another owner touched the farm in the latest block: estimated at that block, the
    harvest would skip MasterChef's reward minting and run out of gas in the next one."""
    owner, _ = farm_owner(stack)
    other, _ = farm_owner(stack)
    w3 = w3_for(stack, CHAIN)
    sushi = stack.chains.get(CHAIN).dexes["sushiswap"]
    assert sushi.masterchef is not None
    chef = contract(w3, sushi.masterchef.address, "MasterChef")
    advance(stack, SIX_HOURS, 5)
    send_tx(w3, other, {"to": chef.address, "data": chef.encode_abi("deposit", [0, 0])})  # the pool updates here
    queue = unique_queue("compound-next-block")
    async with running_worker(stack, queue):
        client = await temporal_client(stack)
        result = await _run(
            client, queue, compound_request(owner.address, f"next-{owner.address[2:10]}", FarmTarget(pid=0))
        )
    assert result.outcome is CompoundOutcome.COMPOUNDED, result.reason
    assert result.reward > 0 and result.liquidity > 0


def _lp_fees_earned(stack: Stack, owner: str, since: int, until: int) -> int:
    """The owner's part, in wei, of the 0.3 % fee every swap through the farm's pair paid in
    blocks (since, until]: each Swap event's input × 0.3 % × the owner's staked share of the
    pair at that block, USDC valued at the Uniswap V2 WETH/USDC price at ``until`` (a pool
    these runs never trade, as the ledger's median price of the WETH pools)."""
    w3 = w3_for(stack, CHAIN)
    sushi = stack.chains.get(CHAIN).dexes["sushiswap"]
    assert sushi.masterchef is not None
    pair = contract(w3, sushi.masterchef.farms[0].lp_token, "UniswapV2Pair")
    chef = contract(w3, sushi.masterchef.address, "MasterChef")
    weth, usdc = (Web3.to_checksum_address(token(stack, CHAIN, s)) for s in ("WETH", "USDC"))
    weth_is_0 = pair.functions.token0().call() == weth
    reference = contract(
        w3,
        next(
            p.address for p in stack.chains.get(CHAIN).dexes["uniswap_v2"].pools if {p.token0, p.token1} == {weth, usdc}
        ),
        "UniswapV2Pair",
    )
    r0, r1, _ = reference.functions.getReserves().call(block_identifier=until)
    weth_reserve, usdc_reserve = (r0, r1) if reference.functions.token0().call() == weth else (r1, r0)
    earned = 0
    for log in pair.events.Swap().get_logs(from_block=since + 1, to_block=until):
        block = int(log["blockNumber"])
        fee0, fee1 = int(log["args"]["amount0In"]) * 3 // 1000, int(log["args"]["amount1In"]) * 3 // 1000
        fee_weth, fee_usdc = (fee0, fee1) if weth_is_0 else (fee1, fee0)
        value = fee_weth + fee_usdc * weth_reserve // usdc_reserve
        staked = int(chef.functions.userInfo(0, owner).call(block_identifier=block)[0])
        supply = int(pair.functions.totalSupply().call(block_identifier=block))
        earned += value * staked // supply
    return earned


async def test_the_ledger_counts_the_pairs_trading_fees_the_stake_earned(stack: Stack) -> None:
    """V2 LP fees (√k per LP token growth) between two runs, against the fees the pair's Swap
    events paid, shared by the stake at each swap."""
    owner, _ = farm_owner(stack)
    trader = stack.fund_signer()
    w3 = w3_for(stack, CHAIN)
    sushi = stack.chains.get(CHAIN).dexes["sushiswap"]
    assert sushi.router is not None
    router = contract(w3, sushi.router, "UniswapV2Router02")
    weth, usdc = token(stack, CHAIN, "WETH"), token(stack, CHAIN, "USDC")
    deal(stack, CHAIN, trader.address, "WETH", 50 * ETH)
    approve(stack, CHAIN, trader, "WETH", sushi.router)
    approve(stack, CHAIN, trader, "USDC", sushi.router)
    position = FarmTarget(pid=0)
    queue = unique_queue("compound-fees")
    client = await temporal_client(stack)
    async with running_worker(stack, queue):
        for i in range(2):
            advance(stack, SIX_HOURS, 5)
            if i == 1:  # trading volume both ways through the farm's pair between the runs
                for _ in range(3):
                    sell = router.encode_abi("swapExactTokensForTokens", [ETH, 0, [weth, usdc], trader.address, 2**64])
                    send_tx(w3, trader, {"to": router.address, "data": sell})
                    got = balance(stack, CHAIN, "USDC", trader.address)
                    buy = router.encode_abi("swapExactTokensForTokens", [got, 0, [usdc, weth], trader.address, 2**64])
                    send_tx(w3, trader, {"to": router.address, "data": buy})
            request = compound_request(owner.address, f"fees-{owner.address[2:10]}-{i}", position)
            result = await _run(client, queue, request)
            assert result.outcome is CompoundOutcome.COMPOUNDED, result.reason
    rows = YieldBook(stack.ledger()).runs(CHAIN, owner.address, position.key)
    independent = _lp_fees_earned(stack, owner.address, rows[0].block_number, rows[1].block_number)
    assert independent > 0 and rows[0].fees_value_wei == 0  # no mark before the first run
    # √k grows by the fee over the reserves after each swap, the events' figure by it over the
    # reserves before: with trades of ~1 % of the pair, within 1 % of each other.
    assert abs(rows[1].fees_value_wei - independent) <= independent // 100, (rows[1].fees_value_wei, independent)
    final = result.position_yield
    assert final is not None and final.fees_value_wei == rows[1].fees_value_wei


async def test_the_ledger_counts_a_staked_v3_positions_uncollected_fees(stack: Stack) -> None:
    """V3 fees between two runs in the ledger, against what the position manager's
    ``collect`` would pay the NFT's holder (a static call from the staker) at each run."""
    owner, token_id = staked_v3_position(stack)
    trader = stack.fund_signer()
    w3 = w3_for(stack, CHAIN)
    v3 = stack.chains.get(CHAIN).dexes["uniswap_v3"]
    (incentive,) = v3.incentives
    assert v3.position_manager is not None and v3.staker is not None and v3.router is not None
    pool_info = next(p for p in v3.pools if p.address == incentive.pool)
    npm = contract(w3, v3.position_manager, "NonfungiblePositionManager")
    swap_router = contract(w3, v3.router, "SwapRouter")
    weth, usdc = token(stack, CHAIN, "WETH"), token(stack, CHAIN, "USDC")
    deal(stack, CHAIN, trader.address, "WETH", 50 * ETH)
    approve(stack, CHAIN, trader, "WETH", swap_router.address)
    approve(stack, CHAIN, trader, "USDC", swap_router.address)

    def swap(token_in: str, token_out: str, amount: int) -> None:
        params = (token_in, token_out, pool_info.fee, trader.address, 2**64, amount, 0, 0)
        send_tx(w3, trader, {"to": swap_router.address, "data": swap_router.encode_abi("exactInputSingle", [params])})

    position = StakedTarget(token_id=token_id)
    queue = unique_queue("compound-v3-fees")
    client = await temporal_client(stack)
    async with running_worker(stack, queue):
        for i in range(2):
            advance(stack, SIX_HOURS, 3)
            if i == 1:  # trading volume both ways through the position's range between the runs
                for _ in range(3):
                    swap(weth, usdc, ETH // 2)
                    swap(usdc, weth, balance(stack, CHAIN, "USDC", trader.address))
            request = compound_request(owner.address, f"v3fees-{token_id}-{i}", position)
            result = await _run(client, queue, request)
            assert result.outcome is CompoundOutcome.COMPOUNDED, result.reason
    rows = YieldBook(stack.ledger()).runs(CHAIN, owner.address, position.key)

    def owed(block: int) -> tuple[int, int]:
        collect = npm.functions.collect((token_id, v3.staker, 2**128 - 1, 2**128 - 1))
        amount0, amount1 = collect.call({"from": v3.staker}, block_identifier=block)
        return int(amount0), int(amount1)

    (before0, before1), (after0, after1) = owed(rows[0].block_number), owed(rows[1].block_number)
    sqrt_price = int(contract(w3, pool_info.address, "UniswapV3Pool").functions.slot0().call(
        block_identifier=rows[1].block_number
    )[0])  # fmt: skip
    weth_is_0 = pool_info.token0 == Web3.to_checksum_address(weth)
    fee_weth, fee_usdc = (after0 - before0, after1 - before1) if weth_is_0 else (after1 - before1, after0 - before0)
    # price = token1 per token0 = sqrtP² / 2^192
    usdc_in_weth = fee_usdc * 2**192 // sqrt_price**2 if weth_is_0 else fee_usdc * sqrt_price**2 // 2**192
    independent = fee_weth + usdc_in_weth
    assert fee_weth > 0 and fee_usdc > 0
    # The ledger values at the WETH pools' median price, the check at this pool's: within 2 %.
    assert abs(rows[1].fees_value_wei - independent) <= independent // 50, (rows[1].fees_value_wei, independent)
