"""Off-chain quotes equal the deployments' own on-chain answers, to the wei.

``TestDexContract`` is the behaviour every :class:`Dex` adapter must have, run against
Uniswap V2 (vs Router02.getAmountsOut/getAmountsIn) and Uniswap V3 (vs QuoterV2 by
eth_call) on both devnet chains. Then V3 specifics (swaps that cross several initialized
ticks, round trips per state read, reading past the first window) and a V2 "fork": a
second factory and router reached through configuration alone.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.providers import HTTPProvider

from connectors.dex import Dex, InsufficientLiquidity, Pool, PoolNotFound, QuoteFailed, TradeType, build_dexes
from connectors.dex.create2 import init_code_hash
from connectors.dex.uniswap_v2 import UniswapV2, UniswapV2Config
from connectors.dex.uniswap_v3 import UniswapV3, UniswapV3Config
from connectors.evm.client import EvmClient
from crosslane.domain.chains import ChainConfig, DexDeployment
from crosslane.errors import InvalidRequest
from devnet.anvil import find_free_port, rpc_call
from devnet.manager import devnet_down, devnet_up
from devnet.state import DevnetState
from devnet.uniswap_artifacts import artifact, creation_code

pytestmark = pytest.mark.timeout(120)

CHAINS = ("devnet-a", "devnet-b")

# Base-unit sizes per token: dust, small, typical and large (but fillable) trades.
SIZES: dict[str, list[int]] = {
    "WETH": [1, 10**9, 10**15, 10**18, 25 * 10**18, 120 * 10**18],
    "USDC": [1, 1_000, 10**6, 3_000 * 10**6, 75_000 * 10**6, 400_000 * 10**6],
    "WBTC": [1, 1_000, 10**6, 10**8, 5 * 10**8],
    "DAI": [1, 10**9, 10**15, 10**18, 3_000 * 10**18, 400_000 * 10**18],
}

# (pool label, token sold, whole tokens): sizes the seeded ranges make cross 3+ initialized ticks.
LARGE_V3_SWAPS: list[tuple[str, str, int]] = [
    ("WETH/USDC 0.05%", "WETH", 500),
    ("WETH/USDC 0.05%", "USDC", 2_000_000),
    ("WETH/USDC 0.3%", "WETH", 500),
    ("WETH/USDC 0.3%", "USDC", 2_000_000),
    ("WBTC/WETH 0.3%", "WETH", 500),
    ("WBTC/WETH 0.3%", "WBTC", 50),
    ("USDC/DAI 0.01%", "DAI", 2_000_000),
    ("USDC/DAI 0.01%", "USDC", 2_000_000),
]


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevnetState]:
    path: Path = tmp_path_factory.mktemp("uniswap-quotes") / "devnet.json"
    try:
        yield await devnet_up(path, {c: find_free_port() for c in CHAINS}, detached=False)
    finally:
        devnet_down(path)


@pytest.fixture(scope="module")
async def clients(devnet: DevnetState) -> AsyncIterator[dict[str, EvmClient]]:
    opened = {name: EvmClient(devnet.chains[name]) for name in CHAINS}
    yield opened
    for client in opened.values():
        await client.close()


def _symbols(chain: ChainConfig) -> dict[str, str]:
    return {t.address: t.symbol for t in chain.tokens.values()}


def _seeded_pools(dex: Dex, chain: ChainConfig) -> list[Pool]:
    pools = []
    for info in chain.dexes[dex.name].pools:
        if isinstance(dex, UniswapV3):
            pools.append(dex.pool_for(info.token0, info.token1, info.fee))
        else:
            assert isinstance(dex, UniswapV2)
            pools.append(dex.pool_for(info.token0, info.token1))
    return pools


class TestDexContract:
    """What every DEX adapter guarantees; a new adapter joins by adding itself to ``params``."""

    @pytest.fixture(
        params=[(chain, name) for chain in CHAINS for name in ("uniswap_v2", "uniswap_v3")],
        ids=lambda p: f"{p[0]}-{p[1]}",
    )
    def dex(self, request: pytest.FixtureRequest, devnet: DevnetState, clients: dict[str, EvmClient]) -> Dex:
        chain, name = request.param
        return build_dexes(clients[chain])[name]

    async def test_every_seeded_pool_is_discovered(self, dex: Dex, devnet: DevnetState) -> None:
        for name in CHAINS:
            chain = devnet.chains[name]
            for info in chain.dexes[dex.name].pools:
                found = await dex.pools(info.token1, info.token0)
                assert info.address in [p.address for p in found]

    async def test_exact_in_equals_onchain_to_the_wei(self, dex: Dex, devnet: DevnetState) -> None:
        chain = devnet.chains[CHAINS[0]]
        symbols = _symbols(chain)
        compared = 0
        for pool in _seeded_pools(dex, chain):
            state = await dex.pool_state(pool)
            for token_in in (pool.token0, pool.token1):
                for amount in SIZES[symbols[token_in]]:
                    offchain = state.quote_exact_in(token_in, amount)
                    onchain = await dex.onchain_quote_exact_in(pool, token_in, amount)
                    assert offchain.amount_out == onchain.amount_out, (pool, symbols[token_in], amount)
                    assert (offchain.token_in, offchain.token_out) == (onchain.token_in, onchain.token_out)
                    assert offchain.trade_type is TradeType.EXACT_IN and offchain.amount_in == amount
                    if onchain.sqrt_price_x96_after is not None:
                        assert offchain.sqrt_price_x96_after == onchain.sqrt_price_x96_after
                    compared += 1
        assert compared >= 40

    async def test_exact_out_equals_onchain_to_the_wei(self, dex: Dex, devnet: DevnetState) -> None:
        chain = devnet.chains[CHAINS[1]]
        symbols = _symbols(chain)
        for pool in _seeded_pools(dex, chain):
            state = await dex.pool_state(pool)
            for token_out in (pool.token0, pool.token1):
                for amount in SIZES[symbols[token_out]]:
                    offchain = state.quote_exact_out(token_out, amount)
                    onchain = await dex.onchain_quote_exact_out(pool, token_out, amount)
                    assert offchain.amount_in == onchain.amount_in, (pool, symbols[token_out], amount)
                    assert offchain.trade_type is TradeType.EXACT_OUT and offchain.amount_out == amount

    async def test_one_call_quotes_read_fresh_state(self, dex: Dex, devnet: DevnetState) -> None:
        chain = devnet.chains[CHAINS[0]]
        pool = _seeded_pools(dex, chain)[0]
        quote = await dex.quote_exact_in(pool, pool.token0, 10**18)
        assert quote.block_number == Web3(HTTPProvider(devnet.anvil_url(CHAINS[0]))).eth.block_number
        assert quote.amount_out == (await dex.onchain_quote_exact_in(pool, pool.token0, 10**18)).amount_out
        back = await dex.quote_exact_out(pool, pool.token1, quote.amount_out)
        assert back.amount_in <= 10**18  # buying the output back exactly never costs more

    async def test_bad_input_is_refused_before_any_rpc(self, dex: Dex, devnet: DevnetState) -> None:
        chain = devnet.chains[CHAINS[0]]
        pool = _seeded_pools(dex, chain)[0]
        stranger = "0x" + "42" * 20
        state = await dex.pool_state(pool)
        for bad in (0, -5):
            with pytest.raises(InvalidRequest, match="positive"):
                state.quote_exact_in(pool.token0, bad)
            with pytest.raises(InvalidRequest, match="positive"):
                await dex.onchain_quote_exact_out(pool, pool.token0, bad)
        with pytest.raises(InvalidRequest, match="int in base units"):
            state.quote_exact_in(pool.token0, 1.5)  # type: ignore[arg-type]
        with pytest.raises(InvalidRequest, match="not in pool"):
            state.quote_exact_out(stranger, 10)
        with pytest.raises(InvalidRequest, match="not in pool"):
            await dex.onchain_quote_exact_in(pool, stranger, 10)

    async def test_more_than_the_pool_holds_is_insufficient_liquidity(self, dex: Dex, devnet: DevnetState) -> None:
        chain = devnet.chains[CHAINS[0]]
        weth, wbtc = chain.tokens["WETH"].address, chain.tokens["WBTC"].address
        pool = next(p for p in _seeded_pools(dex, chain) if {p.token0, p.token1} == {weth, wbtc})
        w3 = Web3(HTTPProvider(devnet.anvil_url(CHAINS[0])))
        held = _contract(w3, wbtc, "UniswapV2Pair").functions.balanceOf(pool.address).call()
        with pytest.raises(InsufficientLiquidity):
            await dex.quote_exact_out(pool, wbtc, held + 1)
        with pytest.raises((InsufficientLiquidity, QuoteFailed)):
            await dex.onchain_quote_exact_out(pool, wbtc, held + 1)

    async def test_missing_pool_is_pool_not_found(self, dex: Dex, devnet: DevnetState) -> None:
        chain = devnet.chains[CHAINS[0]]
        wbtc, dai = chain.tokens["WBTC"].address, chain.tokens["DAI"].address
        assert await dex.pools(wbtc, dai) == []
        ghost = Pool(dex.protocol, "0x" + "42" * 20, dai, wbtc, 3000, 60 if isinstance(dex, UniswapV3) else None)
        with pytest.raises(PoolNotFound):
            await dex.pool_state(ghost)


def _contract(w3: Web3, address: str, name: str) -> Any:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact(name)["abi"])


def _v3(devnet: DevnetState, clients: dict[str, EvmClient], chain: str, **overrides: Any) -> UniswapV3:
    config = UniswapV3Config.from_deployment("uniswap_v3", devnet.chains[chain].dexes["uniswap_v3"])
    return UniswapV3(clients[chain], config.model_copy(update=overrides))


def _large_swap(chain: ChainConfig, v3: UniswapV3, label: str, symbol: str, whole: int) -> tuple[Pool, str, int]:
    info = next(p for p in chain.dexes["uniswap_v3"].pools if p.label == label)
    token = chain.tokens[symbol]
    return v3.pool_for(info.token0, info.token1, info.fee), token.address, whole * 10**token.decimals


@pytest.mark.parametrize("chain_name", CHAINS)
@pytest.mark.parametrize(("label", "symbol", "whole"), LARGE_V3_SWAPS)
async def test_v3_swaps_crossing_three_or_more_initialized_ticks_match_quoter(
    devnet: DevnetState, clients: dict[str, EvmClient], chain_name: str, label: str, symbol: str, whole: int
) -> None:
    chain = devnet.chains[chain_name]
    v3 = _v3(devnet, clients, chain_name)
    pool, token_in, amount_in = _large_swap(chain, v3, label, symbol, whole)
    state = await v3.pool_state(pool)

    onchain = await v3.onchain_quote_exact_in(pool, token_in, amount_in)
    assert onchain.initialized_ticks_crossed is not None and onchain.initialized_ticks_crossed >= 3
    offchain, state = await v3.complete(state, lambda s: s.quote_exact_in(token_in, amount_in))
    assert offchain.amount_out == onchain.amount_out
    assert offchain.sqrt_price_x96_after == onchain.sqrt_price_x96_after
    assert offchain.initialized_ticks_crossed is not None and offchain.initialized_ticks_crossed >= 3

    # Exact output of nearly as much: same ticks crossed, same cost to the wei.
    token_out, amount_out = pool.other(token_in), onchain.amount_out * 95 // 100
    onchain_out = await v3.onchain_quote_exact_out(pool, token_out, amount_out)
    assert onchain_out.initialized_ticks_crossed is not None and onchain_out.initialized_ticks_crossed >= 3
    offchain_out, _ = await v3.complete(state, lambda s: s.quote_exact_out(token_out, amount_out))
    assert offchain_out.amount_in == onchain_out.amount_in
    assert offchain_out.sqrt_price_x96_after == onchain_out.sqrt_price_x96_after


async def test_v3_state_reads_are_two_round_trips_when_warm_for_any_number_of_pools(
    devnet: DevnetState, clients: dict[str, EvmClient]
) -> None:
    chain = devnet.chains["devnet-a"]
    v3 = _v3(devnet, clients, "devnet-a")
    pools = _seeded_pools(v3, chain)
    assert len(pools) == 4
    snapshots = await v3.pool_states(pools)
    assert v3.reader.round_trips == 3  # cold: heads, then bitmap words, then ticks
    assert len({s.block_number for s in snapshots}) == 1
    again = await v3.pool_states(pools)
    assert v3.reader.round_trips == 5  # warm: heads + hinted words, then ticks
    assert again == snapshots
    for snapshot in snapshots:
        # The window holds every seeded range's ticks: 5 below and 4 above (or the reverse).
        assert len(snapshot.liquidity_net) >= 8


async def test_v3_reader_extends_past_a_narrow_window_and_still_matches(
    devnet: DevnetState, clients: dict[str, EvmClient]
) -> None:
    """A 1-tick window holds one or two bitmap words: big swaps make the reader fetch more."""
    chain = devnet.chains["devnet-b"]
    v3 = _v3(devnet, clients, "devnet-b", tick_window=1)
    for label, symbol, whole in (("USDC/DAI 0.01%", "DAI", 2_000_000), ("WETH/USDC 0.05%", "WETH", 500)):
        pool, token_in, amount_in = _large_swap(chain, v3, label, symbol, whole)
        state = await v3.pool_state(pool)
        before = v3.reader.round_trips
        offchain, wider = await v3.complete(state, lambda s, t=token_in, a=amount_in: s.quote_exact_in(t, a))
        assert v3.reader.round_trips > before and len(wider.bitmap) > len(state.bitmap)  # it read more words
        wider.quote_exact_in(token_in, amount_in)  # the widened snapshot quotes it without I/O
        onchain = await v3.onchain_quote_exact_in(pool, token_in, amount_in)
        assert offchain.amount_out == onchain.amount_out
        assert offchain.sqrt_price_x96_after == onchain.sqrt_price_x96_after


# --- A V2 fork, by configuration alone -------------------------------------------------


def _send(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> Any:
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    tx = {
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(account.address),
        "maxFeePerGas": 2 * base_fee + 10**9,
        "maxPriorityFeePerGas": 10**9,
        "value": 0,
        **tx,
    }
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1, tx
    return receipt


@pytest.fixture(scope="module")
def fork(devnet: DevnetState) -> Iterator[tuple[str, str]]:
    """A second UniswapV2Factory (same pair bytecode) and a Router02 for it, with a WBTC/USDC
    pair the canonical deployment does not have: (factory, router)."""
    url = devnet.anvil_url("devnet-a")
    w3 = Web3(HTTPProvider(url))
    chain = devnet.chains["devnet-a"]
    account = Account.from_key("0x" + secrets.token_hex(32))
    rpc_call(url, "anvil_setBalance", [account.address, hex(100 * 10**18)])
    factory_code = creation_code("UniswapV2Factory").hex() + w3.codec.encode(["address"], [account.address]).hex()
    factory = _send(w3, account, {"data": "0x" + factory_code, "gas": 4_000_000})["contractAddress"]
    router_args = w3.codec.encode(["address", "address"], [factory, chain.contracts["WETH9"]]).hex()
    router_code = creation_code("UniswapV2Router02").hex() + router_args
    router = _send(w3, account, {"data": "0x" + router_code, "gas": 6_200_000})["contractAddress"]
    wbtc, usdc = chain.tokens["WBTC"].address, chain.tokens["USDC"].address
    amounts = {wbtc: 10 * 10**8, usdc: 250_000 * 10**6}  # BTC at 25,000 USDC on the fork
    mint_abi = [
        {
            "name": "mint",
            "type": "function",
            "stateMutability": "nonpayable",
            "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
            "outputs": [],
        }
    ]
    for token, amount in amounts.items():
        minted = w3.eth.contract(address=Web3.to_checksum_address(token), abi=mint_abi)
        _send(w3, account, {"to": token, "data": minted.encode_abi("mint", [account.address, amount]), "gas": 100_000})
        erc20 = _contract(w3, token, "UniswapV2Pair")
        _send(w3, account, {"to": token, "data": erc20.encode_abi("approve", [router, amount]), "gas": 100_000})
    router_contract = _contract(w3, router, "UniswapV2Router02")
    add = router_contract.encode_abi(
        "addLiquidity", [wbtc, usdc, amounts[wbtc], amounts[usdc], 0, 0, account.address, 2**64]
    )
    _send(w3, account, {"to": router, "data": add, "gas": 3_600_000})
    yield factory, router


async def test_a_v2_fork_quotes_by_configuration_alone(
    devnet: DevnetState, clients: dict[str, EvmClient], fork: tuple[str, str]
) -> None:
    factory, router = fork
    chain = devnet.chains["devnet-a"]
    wbtc, usdc = chain.tokens["WBTC"].address, chain.tokens["USDC"].address
    # The fork's pair hash, computed from the artifact the fork's factory embeds.
    fork_hash = init_code_hash(creation_code("UniswapV2Pair"))
    deployment = DexDeployment(protocol="uniswap_v2", factory=factory, init_code_hash=fork_hash, router=router)
    with_fork = chain.model_copy(update={"dexes": {**chain.dexes, "forkswap": deployment}})
    client = EvmClient(with_fork)
    try:
        dexes = build_dexes(client)
        forkswap, canonical = dexes["forkswap"], dexes["uniswap_v2"]
        assert isinstance(forkswap, UniswapV2) and isinstance(canonical, UniswapV2)

        (pool,) = await forkswap.pools(wbtc, usdc)
        w3 = Web3(HTTPProvider(devnet.anvil_url("devnet-a")))
        assert pool.address == _contract(w3, factory, "UniswapV2Factory").functions.getPair(wbtc, usdc).call()
        assert pool.address != canonical.pool_for(wbtc, usdc).address
        assert await canonical.pools(wbtc, usdc) == []  # only the fork has this pair

        state = await forkswap.pool_state(pool)
        for amount in (1, 10**6, 10**8, 3 * 10**8):
            offchain, onchain = (
                state.quote_exact_in(wbtc, amount),
                await forkswap.onchain_quote_exact_in(pool, wbtc, amount),
            )
            assert offchain.amount_out == onchain.amount_out
        for amount in (1, 10**6, 25_000 * 10**6, 100_000 * 10**6):
            offchain, onchain = (
                state.quote_exact_out(usdc, amount),
                await forkswap.onchain_quote_exact_out(pool, usdc, amount),
            )
            assert offchain.amount_in == onchain.amount_in
        # 0.01 BTC at the fork's 25,000 USDC, less 0.3% fee and 0.1% impact: not the canonical price.
        assert 248 * 10**6 < state.quote_exact_in(wbtc, 10**6).amount_out < 250 * 10**6

        # The init-code hash is what places pools: a wrong one finds nothing.
        wrong = UniswapV2(client, UniswapV2Config(factory=factory, init_code_hash="0x" + "00" * 32, router=router))
        assert await wrong.pools(wbtc, usdc) == []
    finally:
        await client.close()
