"""The devnet's liquidity-mining contracts work as on mainnet (real anvil, real bytecode).

V3Migrator moves a V2 LP position into a V3 NFT position; UniswapV3Staker pays its seeded
incentive to a staked position; SushiSwap's MasterChef pays its farms what its emission
formula says; the registry file the product reads names all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from web3 import Web3
from web3.logs import DISCARD
from web3.providers import HTTPProvider

from connectors.dex.farms import masterchef_positions, staker_claimable, staker_rewards
from connectors.dex.uniswap_v3.math.tick_math import MAX_TICK
from connectors.evm.client import EvmClient
from crosslane.registry import load_registry
from devnet.anvil import find_free_port
from devnet.deploy import test_token_artifact as erc20_artifact
from devnet.deploy import weth9_artifact
from devnet.manager import devnet_down, devnet_up
from devnet.registry_export import registry_path
from devnet.state import DevnetState
from devnet.uniswap_artifacts import artifact
from devnet.uniswap_seed import FARMS, INCENTIVE_REWARD, SUSHI_PER_BLOCK

pytestmark = pytest.mark.timeout(90)

CHAIN = "devnet-a"
T = TypeVar("T")


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[DevnetState, Path]]:
    path = tmp_path_factory.mktemp("mining-devnet") / "devnet.json"
    try:
        started = time.monotonic()
        state = await devnet_up(path, {CHAIN: find_free_port()}, detached=False)
        print(f"devnet with liquidity mining up in {time.monotonic() - started:.2f}s")
        yield state, path
    finally:
        devnet_down(path)


def _w3(state: DevnetState) -> Web3:
    return Web3(HTTPProvider(state.anvil_url(CHAIN)))


def _contract(w3: Web3, address: str, name: str) -> Any:
    abi = erc20_artifact()["abi"] if name == "ERC20" else artifact(name)["abi"]
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def _send(w3: Web3, call: Any, sender: str, value: int = 0) -> Any:
    """Send from an unlocked anvil account; the receipt, which must be a success."""
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "value": value}))
    assert receipt["status"] == 1
    return receipt


def _mine(w3: Web3, blocks: int = 1, seconds: int = 0) -> None:
    if seconds:
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _read(state: DevnetState, read: Callable[[EvmClient], Awaitable[T]]) -> T:
    """Run a connector read against the devnet chain (the product's client, its own loop)."""

    async def run() -> T:
        client = EvmClient(state.chains[CHAIN])
        try:
            return await read(client)
        finally:
            await client.close()

    return asyncio.run(run())


def _weth_usdc(state: DevnetState) -> tuple[Any, ...]:
    tokens = state.chains[CHAIN].tokens
    return tokens["WETH"], tokens["USDC"]


def _minted_token_id(npm: Any, receipt: Any) -> int:
    (event,) = [
        e for e in npm.events.Transfer().process_receipt(receipt, errors=DISCARD) if int(e["args"]["from"], 16) == 0
    ]
    return int(event["args"]["tokenId"])


def test_registry_names_the_mining_contracts(devnet: tuple[DevnetState, Path]) -> None:
    state, path = devnet
    chain = load_registry(registry_path(path)).chains[CHAIN]
    assert chain.family == "evm"
    dexes, contracts = chain.dexes, chain.contracts
    w3 = _w3(state)
    v3, sushi = dexes["uniswap_v3"], dexes["sushiswap"]
    assert v3.migrator == contracts["V3Migrator"] and v3.staker == contracts["UniswapV3Staker"]
    assert sushi.protocol == "uniswap_v2" and sushi.factory == contracts["SushiSwapFactory"]
    assert sushi.factory != dexes["uniswap_v2"].factory
    assert sushi.masterchef is not None and sushi.masterchef.address == contracts["MasterChef"]
    for address in (v3.migrator, v3.staker, sushi.factory, sushi.router, sushi.masterchef.address):
        assert address is not None and len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0
    # The incentive exists on-chain, funded: the staker holds its reward.
    (incentive,) = v3.incentives
    staker = _contract(w3, v3.staker, "UniswapV3Staker")
    assert staker.functions.factory().call() == dexes["uniswap_v3"].factory
    sushi_token = _contract(w3, incentive.reward_token, "ERC20")
    assert sushi_token.functions.balanceOf(v3.staker).call() == INCENTIVE_REWARD == incentive.reward
    # The farms are MasterChef's pools, on SushiSwap pairs.
    chef = _contract(w3, sushi.masterchef.address, "MasterChef")
    assert chef.functions.poolLength().call() == len(FARMS) == len(sushi.masterchef.farms)
    pair_addresses = {p.address for p in sushi.pools}
    for farm in sushi.masterchef.farms:
        lp_token, alloc_point, _, _ = chef.functions.poolInfo(farm.pid).call()
        assert (lp_token, alloc_point) == (farm.lp_token, farm.alloc_point)
        assert farm.lp_token in pair_addresses


def test_v3_migrator_moves_a_v2_position_into_a_v3_nft(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    w3 = _w3(state)
    config = state.chains[CHAIN]
    provider, owner = state.accounts[0], state.accounts[1]
    weth, usdc = _weth_usdc(state)
    v2_pool = next(p for p in config.dexes["uniswap_v2"].pools if {p.token0, p.token1} == {weth.address, usdc.address})
    v3 = config.dexes["uniswap_v3"]
    v3_pool = next(p for p in v3.pools if {p.token0, p.token1} == {weth.address, usdc.address} and p.fee == 3000)
    pair = _contract(w3, v2_pool.address, "UniswapV2Pair")
    npm = _contract(w3, v3.position_manager or "", "NonfungiblePositionManager")
    migrator = _contract(w3, v3.migrator or "", "V3Migrator")

    # The owner holds 1% of the pair's LP supply.
    liquidity = pair.functions.totalSupply().call() // 100
    _send(w3, pair.functions.transfer(owner, liquidity), provider)
    supply_before = pair.functions.totalSupply().call()
    reserve0, reserve1, _ = pair.functions.getReserves().call()
    burned0, burned1 = liquidity * reserve0 // supply_before, liquidity * reserve1 // supply_before
    nfts_before = npm.functions.balanceOf(owner).call()

    # Full range: it takes both tokens at the pool's price, which is the pair's.
    spacing = v3_pool.tick_spacing or 60
    lower, upper = -(MAX_TICK // spacing) * spacing, MAX_TICK // spacing * spacing
    _send(w3, pair.functions.approve(migrator.address, liquidity), owner)
    params = (
        pair.address,
        liquidity,
        100,  # percentageToMigrate
        v3_pool.token0,
        v3_pool.token1,
        v3_pool.fee,
        lower,
        upper,
        burned0 * 99 // 100,  # 1% slippage: V2 and V3 sit at the same price
        burned1 * 99 // 100,
        owner,
        2**256 - 1,
        False,
    )
    receipt = _send(w3, migrator.functions.migrate(params), owner)

    assert pair.functions.balanceOf(owner).call() == 0
    assert pair.functions.totalSupply().call() == supply_before - liquidity  # burned, not moved
    token_id = _minted_token_id(npm, receipt)
    assert npm.functions.ownerOf(token_id).call() == owner
    assert npm.functions.balanceOf(owner).call() == nfts_before + 1
    position = npm.functions.positions(token_id).call()
    assert (position[2], position[3], position[4]) == (v3_pool.token0, v3_pool.token1, v3_pool.fee)
    assert (position[5], position[6]) == (lower, upper) and position[7] > 0
    # What the position holds is what the V2 burn gave, within the slippage.
    amount0, amount1 = npm.functions.decreaseLiquidity((token_id, position[7], 0, 0, 2**256 - 1)).call({"from": owner})
    assert burned0 * 99 // 100 <= amount0 <= burned0
    assert burned1 * 99 // 100 <= amount1 <= burned1


def test_v3_staker_pays_the_seeded_incentive(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    w3 = _w3(state)
    v3 = state.chains[CHAIN].dexes["uniswap_v3"]
    (incentive,) = v3.incentives
    owner = state.accounts[2]
    weth, usdc = _weth_usdc(state)
    pool = next(p for p in v3.pools if p.address == incentive.pool)
    npm = _contract(w3, v3.position_manager or "", "NonfungiblePositionManager")
    staker = _contract(w3, v3.staker or "", "UniswapV3Staker")
    reward_token = _contract(w3, incentive.reward_token, "ERC20")
    key = (incentive.reward_token, incentive.pool, incentive.start_time, incentive.end_time, incentive.refundee)

    # A fresh in-range position of the owner's own.
    _send(w3, _contract(w3, weth.address, "ERC20").functions.approve(npm.address, 2**256 - 1), owner)
    _send(w3, _contract(w3, usdc.address, "ERC20").functions.approve(npm.address, 2**256 - 1), owner)
    weth9 = w3.eth.contract(address=Web3.to_checksum_address(weth.address), abi=weth9_artifact()["abi"])
    _send(w3, weth9.functions.deposit(), owner, value=10**19)
    tick = _contract(w3, pool.address, "UniswapV3Pool").functions.slot0().call()[1]
    spacing = pool.tick_spacing or 10
    lower, upper = (tick // spacing - 20) * spacing, (tick // spacing + 20) * spacing
    amounts = (10**18, 3000 * 10**6) if pool.token0 == weth.address else (3000 * 10**6, 10**18)
    mint = (pool.token0, pool.token1, pool.fee, lower, upper, *amounts, 0, 0, owner, 2**256 - 1)
    token_id = _minted_token_id(npm, _send(w3, npm.functions.mint(mint), owner))

    # Deposit (the NFT goes to the staker), then stake once the incentive has started.
    _send(w3, npm.functions.safeTransferFrom(owner, staker.address, token_id), owner)
    assert npm.functions.ownerOf(token_id).call() == staker.address
    assert staker.functions.deposits(token_id).call()[0] == owner
    now = w3.eth.get_block("latest")["timestamp"]
    _mine(w3, seconds=max(0, incentive.start_time - now + 1))
    _send(w3, staker.functions.stakeToken(key, token_id), owner)
    _mine(w3, seconds=3600)

    reward, seconds_inside_x128 = staker.functions.getRewardInfo(key, token_id).call()
    assert reward > 0 and seconds_inside_x128 > 0
    assert reward < INCENTIVE_REWARD  # a share of the whole, over one hour of 30 days
    (read,) = _read(state, lambda c: staker_rewards(c, staker.address, incentive, [token_id]))
    assert (read.token_id, read.reward, read.seconds_inside_x128) == (token_id, reward, seconds_inside_x128)

    _send(w3, staker.functions.unstakeToken(key, token_id), owner)
    accrued = staker.functions.rewards(incentive.reward_token, owner).call()
    assert accrued >= reward  # the unstake block is a second later than the view
    assert _read(state, lambda c: staker_claimable(c, staker.address, incentive.reward_token, owner)) == accrued
    (unstaked,) = _read(state, lambda c: staker_rewards(c, staker.address, incentive, [token_id]))
    assert unstaked.reward is None  # getRewardInfo reverts once the position is not staked
    balance_before = reward_token.functions.balanceOf(owner).call()
    _send(w3, staker.functions.claimReward(incentive.reward_token, owner, 0), owner)
    assert reward_token.functions.balanceOf(owner).call() == balance_before + accrued
    assert staker.functions.rewards(incentive.reward_token, owner).call() == 0
    _send(w3, staker.functions.withdrawToken(token_id, owner, b""), owner)
    assert npm.functions.ownerOf(token_id).call() == owner


def _expected_pending(chef: Any, pid: int, user: str, block: int) -> int:
    """MasterChef's pendingSushi at ``block``, computed from its public state (mainnet formula)."""
    lp_token, alloc_point, last_reward_block, acc_per_share = chef.functions.poolInfo(pid).call()
    amount, reward_debt = chef.functions.userInfo(pid, user).call()
    lp_supply = _contract_lp(chef, lp_token).functions.balanceOf(chef.address).call()
    bonus_end, bonus = chef.functions.bonusEndBlock().call(), chef.functions.BONUS_MULTIPLIER().call()
    if block <= bonus_end:
        multiplier = (block - last_reward_block) * bonus
    elif last_reward_block >= bonus_end:
        multiplier = block - last_reward_block
    else:
        multiplier = (bonus_end - last_reward_block) * bonus + block - bonus_end
    reward = multiplier * chef.functions.sushiPerBlock().call() * alloc_point // chef.functions.totalAllocPoint().call()
    acc_per_share += reward * 10**12 // lp_supply
    return amount * acc_per_share // 10**12 - reward_debt


def _contract_lp(chef: Any, address: str) -> Any:
    return chef.w3.eth.contract(address=address, abi=artifact("UniswapV2Pair")["abi"])


def test_masterchef_emits_by_its_formula_and_harvests(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    w3 = _w3(state)
    sushi = state.chains[CHAIN].dexes["sushiswap"]
    assert sushi.masterchef is not None
    farm = sushi.masterchef.farms[0]
    provider, user = state.accounts[0], state.accounts[3]
    chef = _contract(w3, sushi.masterchef.address, "MasterChef")
    lp = _contract(w3, farm.lp_token, "UniswapV2Pair")
    reward_token = _contract(w3, sushi.masterchef.reward_token, "ERC20")
    assert chef.functions.sushiPerBlock().call() == SUSHI_PER_BLOCK == sushi.masterchef.reward_per_block

    amount = lp.functions.balanceOf(provider).call() // 10
    _send(w3, lp.functions.transfer(user, amount), provider)
    _send(w3, lp.functions.approve(chef.address, amount), user)
    _send(w3, chef.functions.deposit(farm.pid, amount), user)
    assert chef.functions.userInfo(farm.pid, user).call()[0] == amount
    assert chef.functions.pendingSushi(farm.pid, user).call() == 0

    blocks = 5
    _mine(w3, blocks)
    pending = chef.functions.pendingSushi(farm.pid, user).call()
    assert pending == _expected_pending(chef, farm.pid, user, w3.eth.block_number)
    # The only staker of this farm gets all of its alloc-point share of the bonus emission,
    # short of MasterChef's 1e12 fixed-point rounding.
    total_alloc = sum(f.alloc_point for f in FARMS)
    share = blocks * SUSHI_PER_BLOCK * chef.functions.BONUS_MULTIPLIER().call() * farm.alloc_point // total_alloc
    assert share - amount // 10**12 - 1 <= pending <= share
    masterchef = sushi.masterchef
    positions = _read(state, lambda c: masterchef_positions(c, masterchef, user))
    assert [(p.pid, p.staked, p.pending_reward) for p in positions] == [
        (f.pid, amount if f.pid == farm.pid else 0, pending if f.pid == farm.pid else 0) for f in masterchef.farms
    ]

    # deposit(pid, 0) harvests: the user receives what was pending at that block.
    before = reward_token.functions.balanceOf(user).call()
    expected = _expected_pending(chef, farm.pid, user, w3.eth.block_number + 1)
    _send(w3, chef.functions.deposit(farm.pid, 0), user)
    assert reward_token.functions.balanceOf(user).call() - before == expected > pending
    assert chef.functions.pendingSushi(farm.pid, user).call() == 0
