"""The devnet comes up with real Uniswap V2/V3 on both chains, pools seeded as planned.

Pools sit at the CREATE2 addresses the connector computes from factory + init-code hash,
hold exactly the seeded reserves/liquidity, and seeding left the liquidity provider's
(anvil account 0) token balances as the devnet minted them.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from math import isqrt
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.providers import HTTPProvider

from connectors.dex.create2 import init_code_hash
from connectors.dex.uniswap_v2 import UniswapV2, UniswapV2Config
from connectors.dex.uniswap_v3 import UniswapV3, UniswapV3Config
from connectors.evm.client import EvmClient
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.registry import load_registry
from devnet.anvil import find_free_port
from devnet.deploy import TEST_TOKENS
from devnet.manager import devnet_down, devnet_up
from devnet.registry_export import registry_path
from devnet.state import DevnetState
from devnet.uniswap_artifacts import artifact, creation_code
from devnet.uniswap_seed import V2_PAIRS, V3_FEE_TIERS, V3_POOLS, fee_label, v3_pool_plan

pytestmark = pytest.mark.timeout(60)

CHAINS = ("devnet-a", "devnet-b")
UNISWAP_CONTRACTS = (
    "UniswapV2Factory",
    "UniswapV2Router02",
    "UniswapV3Factory",
    "SwapRouter",
    "QuoterV2",
    "NonfungiblePositionManager",
    "NonfungibleTokenPositionDescriptor",
    "NFTDescriptor",
)
MINIMUM_LIQUIDITY = 1000  # V2 pairs lock this much LP supply forever


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[DevnetState, Path]]:
    path = tmp_path_factory.mktemp("uniswap-devnet") / "devnet.json"
    try:
        started = time.monotonic()
        state = await devnet_up(path, {c: find_free_port() for c in CHAINS}, detached=False)
        print(f"devnet with Uniswap up in {time.monotonic() - started:.2f}s")
        yield state, path
    finally:
        devnet_down(path)


def _w3(state: DevnetState, chain: str) -> Web3:
    return Web3(HTTPProvider(state.anvil_url(chain)))


def _contract(w3: Web3, address: str, name: str) -> Any:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact(name)["abi"])


@pytest.mark.parametrize("chain", CHAINS)
def test_contracts_recorded_and_wired(devnet: tuple[DevnetState, Path], chain: str) -> None:
    state, _ = devnet
    config = state.chains[chain]
    w3 = _w3(state, chain)
    for name in UNISWAP_CONTRACTS:
        assert len(w3.eth.get_code(Web3.to_checksum_address(config.contracts[name]))) > 0, name
    c, weth = config.contracts, config.contracts["WETH9"]
    assert (
        _contract(w3, c["UniswapV2Router02"], "UniswapV2Router02").functions.factory().call() == c["UniswapV2Factory"]
    )
    assert _contract(w3, c["UniswapV2Router02"], "UniswapV2Router02").functions.WETH().call() == weth
    for name in ("SwapRouter", "QuoterV2", "NonfungiblePositionManager"):
        assert _contract(w3, c[name], name).functions.factory().call() == c["UniswapV3Factory"]
        assert _contract(w3, c[name], name).functions.WETH9().call() == weth
    v3_factory = _contract(w3, c["UniswapV3Factory"], "UniswapV3Factory")
    for fee, spacing in V3_FEE_TIERS.items():
        assert v3_factory.functions.feeAmountTickSpacing(fee).call() == spacing

    v2, v3 = config.dexes["uniswap_v2"], config.dexes["uniswap_v3"]
    assert (v2.factory, v2.router) == (c["UniswapV2Factory"], c["UniswapV2Router02"])
    assert (v3.factory, v3.router, v3.quoter, v3.position_manager) == (
        c["UniswapV3Factory"],
        c["SwapRouter"],
        c["QuoterV2"],
        c["NonfungiblePositionManager"],
    )
    # Recorded init-code hashes: the artifacts' creation code, and the canonical mainnet ones.
    assert v2.init_code_hash == init_code_hash(creation_code("UniswapV2Pair"))
    assert v3.init_code_hash == init_code_hash(creation_code("UniswapV3Pool"))
    assert v2.init_code_hash == "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
    assert v3.init_code_hash == "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"


def test_both_chains_share_addresses_and_the_registry_file_round_trips(devnet: tuple[DevnetState, Path]) -> None:
    state, path = devnet
    a, b = (state.chains[c] for c in CHAINS)
    assert a.contracts == b.contracts and a.dexes == b.dexes  # same deployer nonces on fresh chains
    registry = ChainRegistry.from_registry(load_registry(registry_path(path)))
    assert registry.get("devnet-a").dexes == a.dexes
    labels = {p.label for p in a.dexes["uniswap_v3"].pools}
    assert labels == {"WETH/USDC 0.05%", "WETH/USDC 0.3%", "WBTC/WETH 0.3%", "USDC/DAI 0.01%"}
    assert {p.label for p in a.dexes["uniswap_v2"].pools} == {
        "WETH/USDC 0.3%",
        "WETH/DAI 0.3%",
        "WBTC/WETH 0.3%",
        "USDC/DAI 0.3%",
    }


@pytest.mark.parametrize("chain", CHAINS)
async def test_pools_at_create2_addresses(devnet: tuple[DevnetState, Path], chain: str) -> None:
    state, _ = devnet
    config = state.chains[chain]
    w3 = _w3(state, chain)
    client = EvmClient(config)
    try:
        v2 = UniswapV2(client, UniswapV2Config.from_deployment("uniswap_v2", config.dexes["uniswap_v2"]))
        v3 = UniswapV3(client, UniswapV3Config.from_deployment("uniswap_v3", config.dexes["uniswap_v3"]))
        v2_factory = _contract(w3, v2.config.factory, "UniswapV2Factory")
        v3_factory = _contract(w3, v3.config.factory, "UniswapV3Factory")
        for info in config.dexes["uniswap_v2"].pools:
            computed = v2.pool_for(info.token1, info.token0)
            assert computed.address == info.address == v2_factory.functions.getPair(info.token0, info.token1).call()
            assert (computed.token0, computed.token1) == (info.token0, info.token1)
            assert await v2.pools(info.token0, info.token1) == [computed]
        for info in config.dexes["uniswap_v3"].pools:
            computed = v3.pool_for(info.token1, info.token0, info.fee)
            on_chain = v3_factory.functions.getPool(info.token0, info.token1, info.fee).call()
            assert computed.address == info.address == on_chain
            assert computed in await v3.pools(info.token0, info.token1)
            pool = _contract(w3, info.address, "UniswapV3Pool")
            assert pool.functions.tickSpacing().call() == info.tick_spacing == computed.tick_spacing
        # Discovery finds both WETH/USDC tiers and nothing where no pool was created.
        tokens = config.tokens
        assert [p.fee for p in await v3.pools(tokens["USDC"].address, tokens["WETH"].address)] == [500, 3000]
        assert await v3.pools(tokens["WBTC"].address, tokens["DAI"].address) == []
        assert await v2.pools(tokens["WBTC"].address, tokens["USDC"].address) == []
    finally:
        await client.close()


@pytest.mark.parametrize("chain", CHAINS)
def test_v2_reserves_as_seeded(devnet: tuple[DevnetState, Path], chain: str) -> None:
    state, _ = devnet
    config = state.chains[chain]
    w3 = _w3(state, chain)
    deployer = state.accounts[0]
    by_label = {p.label: p for p in config.dexes["uniswap_v2"].pools}
    for seed in V2_PAIRS:
        a, b = config.tokens[seed.token_a], config.tokens[seed.token_b]
        amount_a, amount_b = seed.amount_a * 10**a.decimals, seed.amount_b * 10**b.decimals
        info = by_label[f"{seed.token_a}/{seed.token_b} {fee_label(3000)}"]
        pair = _contract(w3, info.address, "UniswapV2Pair")
        reserve0, reserve1, _ = pair.functions.getReserves().call()
        expected = (amount_a, amount_b) if info.token0 == a.address else (amount_b, amount_a)
        assert (reserve0, reserve1) == expected
        assert pair.functions.balanceOf(deployer).call() == isqrt(amount_a * amount_b) - MINIMUM_LIQUIDITY


def _planned(config: ChainConfig) -> list[Any]:
    return [v3_pool_plan(seed, config.tokens) for seed in V3_POOLS]


@pytest.mark.parametrize("chain", CHAINS)
def test_v3_liquidity_as_seeded(devnet: tuple[DevnetState, Path], chain: str) -> None:
    state, _ = devnet
    config = state.chains[chain]
    w3 = _w3(state, chain)
    npm = _contract(w3, config.contracts["NonfungiblePositionManager"], "NonfungiblePositionManager")
    infos = {(p.token0, p.token1, p.fee): p for p in config.dexes["uniswap_v3"].pools}
    token_id = 0
    for plan in _planned(config):
        info = infos[(plan.token0, plan.token1, plan.seed.fee)]
        pool = _contract(w3, info.address, "UniswapV3Pool")
        sqrt_price, tick, *_ = pool.functions.slot0().call()
        assert (sqrt_price, tick) == (plan.sqrt_price_x96, plan.tick)
        in_range = sum(p.liquidity for p in plan.positions if p.tick_lower <= tick < p.tick_upper)
        assert pool.functions.liquidity().call() == in_range
        net: dict[int, int] = {}
        for position in plan.positions:
            token_id += 1  # the NonfungiblePositionManager numbers positions from 1, in mint order
            (*_, token0, token1, fee, lower, upper, liquidity, _, _, _, _) = npm.functions.positions(token_id).call()
            assert (token0, token1, fee, lower, upper, liquidity) == (
                plan.token0,
                plan.token1,
                plan.seed.fee,
                position.tick_lower,
                position.tick_upper,
                position.liquidity,
            )
            assert npm.functions.ownerOf(token_id).call() == state.accounts[0]
            net[position.tick_lower] = net.get(position.tick_lower, 0) + position.liquidity
            net[position.tick_upper] = net.get(position.tick_upper, 0) - position.liquidity
        for t, liquidity_net in net.items():
            _, on_chain_net, *_, initialized = pool.functions.ticks(t).call()
            assert initialized and on_chain_net == liquidity_net, t
        # Several initialized ticks on each side of the price, so big swaps cross several.
        assert sum(1 for t in net if t <= tick) >= 4 and sum(1 for t in net if t > tick) >= 4


@pytest.mark.parametrize("chain", CHAINS)
def test_seeding_leaves_the_providers_balances_and_allowances_as_minted(
    devnet: tuple[DevnetState, Path], chain: str
) -> None:
    state, _ = devnet
    config = state.chains[chain]
    w3 = _w3(state, chain)
    deployer = state.accounts[0]
    spenders = (config.contracts["UniswapV2Router02"], config.contracts["NonfungiblePositionManager"])
    for spec in TEST_TOKENS:
        token = _contract(w3, config.tokens[spec.symbol].address, "UniswapV2Pair")  # ERC20 ABI subset
        assert token.functions.balanceOf(deployer).call() == spec.mint_whole * 10**spec.decimals
        for spender in spenders:
            assert token.functions.allowance(deployer, spender).call() == 0
    weth = _contract(w3, config.contracts["WETH9"], "UniswapV2Pair")
    assert weth.functions.balanceOf(deployer).call() == 0  # wrapped exactly what was pooled


def test_position_nft_has_a_real_token_uri(devnet: tuple[DevnetState, Path]) -> None:
    """The real NonfungibleTokenPositionDescriptor (NFTDescriptor linked) renders metadata."""
    state, _ = devnet
    config = state.chains["devnet-a"]
    npm = _contract(
        _w3(state, "devnet-a"), config.contracts["NonfungiblePositionManager"], "NonfungiblePositionManager"
    )
    uri = npm.functions.tokenURI(1).call()
    prefix = "data:application/json;base64,"
    assert uri.startswith(prefix)
    metadata = json.loads(base64.b64decode(uri[len(prefix) :]))
    # WETH shows as the native currency label given to the descriptor; position 1 is full range.
    assert metadata["name"] == "Uniswap - 0.05% - USDC/ETH - MIN<>MAX"
