"""A CEX/DEX opportunity on a real devnet V3 pool: buy ETH on a venue's book priced below
the pool, sell WETH into the WETH/USDC 0.3 % pool. The optimum size is found on the pool's
exact curve (ticks crossed, LP fee) and its expected output is what the deployment's own
QuoterV2 answers for that size, to the wei."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from connectors.dex import InsufficientLiquidity, build_dexes
from connectors.dex.arbitrage_curves import approval_missing, chain_gas, pool_leg
from connectors.dex.pricing import mid_price
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.evm.client import EvmClient
from crosslane.arbitrage import ArbKind, ArbLeg, ArbMarket, ArbPolicy, BookCurve, evaluate
from crosslane.routing import SymbolScale, VenueBook, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.side import Side
from devnet.anvil import find_free_port
from devnet.manager import devnet_down, devnet_up
from devnet.state import DevnetState

pytestmark = pytest.mark.timeout(180)

CHAIN = "devnet-a"
BINANCE = VenueMarket("binance", VenueCosts(taker_bps=Decimal(10)), VenuePrecision(Decimal("0.01"), Decimal("0.0001")))
WHALE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # holds no allowance for the router


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevnetState]:
    path: Path = tmp_path_factory.mktemp("arb-cex-dex") / "devnet.json"
    try:
        yield await devnet_up(path, {c: find_free_port() for c in ("devnet-a", "devnet-b")}, detached=False)
    finally:
        devnet_down(path)


@pytest.fixture
async def client(devnet: DevnetState) -> AsyncIterator[EvmClient]:
    opened = EvmClient(devnet.chains[CHAIN])
    yield opened
    await opened.close()


def simulated_book(pool_price: Decimal, now_ms: int) -> VenueBook:
    """A venue's ETH/USDC book whose asks start 25 % below the pool, 50 ETH a level, each
    level 1 % dearer: the optimum walks several levels and crosses initialized ticks."""
    book = VenueBook("binance", SymbolScale("ETH/USDC", 2, 4))
    ask = pool_price * Decimal("0.75")
    asks = [[f"{ask * (1 + Decimal('0.01') * i):.2f}", "50"] for i in range(40)]
    bids = [[f"{ask - 5:.2f}", "40"]]
    book.replace_text(bids, asks, update_id=1, ts_ms=now_ms)
    return book


async def test_optimum_dex_output_equals_the_onchain_quoter(devnet: DevnetState, client: EvmClient) -> None:
    chain = devnet.chains[CHAIN]
    weth, usdc = chain.tokens["WETH"], chain.tokens["USDC"]
    v3 = build_dexes(client)["uniswap_v3"]
    assert isinstance(v3, UniswapV3)
    info = next(p for p in chain.dexes["uniswap_v3"].pools if p.label == "WETH/USDC 0.3%")
    pool = v3.pool_for(info.token0, info.token1, info.fee)

    leg = await pool_leg(v3, pool, weth.address, Side.SELL, 800 * 10**18)
    price = mid_price(leg.state, weth.address) * Fraction(10**weth.decimals, 10**usdc.decimals)
    pool_price = Decimal(price.numerator) / Decimal(price.denominator)
    now_ms = int(time.time() * 1000)
    book = simulated_book(pool_price, now_ms)
    gas = await chain_gas(client, usdc.address)
    assert gas is not None
    router = chain.dexes["uniswap_v3"].router
    assert router is not None
    buy = ArbLeg(
        "binance",
        "ETH/USDC",
        BookCurve.from_book(book, Side.BUY, BINANCE, asset_decimals=18, quote_decimals=6),
        book_ts_ms=book.ts_ms,
    )
    sell = ArbLeg(
        f"{CHAIN}:uniswap_v3",
        info.label,
        leg.curve,
        chain=CHAIN,
        block_number=leg.block_number,
        head_block=await client.block_number(),
        gas=gas,
        approval_missing=await approval_missing(client, weth.address, WHALE, router, 10**18),
    )
    opp = evaluate(
        ArbKind.CEX_DEX,
        ArbMarket("WETH", "USDC", 18, 6),
        buy,
        sell,
        now_ms=now_ms,
        policy=ArbPolicy(min_profit=10 * 10**6),
    )

    assert opp.decision == "taken", opp.reasons
    assert "the most profitable size on the curves" in opp.reasons[0]
    assert buy.curve is not None and 0 < opp.size < buy.curve.capacity  # an interior optimum, not the top of book
    assert opp.sell is not None
    onchain = await v3.onchain_quote_exact_in(pool, weth.address, opp.size)
    assert opp.sell.quote == onchain.amount_out
    assert (onchain.initialized_ticks_crossed or 0) >= 1 and opp.buy is not None and opp.buy.impact > 0
    assert opp.sell.gas_units == 60_000 + 65_000 + 25_000 * (onchain.initialized_ticks_crossed or 0)
    assert any(i.name == "gas: approve WETH on devnet-a" and i.amount < 0 for i in opp.items)
    assert sum(i.amount for i in opp.items) == opp.net_profit >= 10 * 10**6
    # one lot more or less earns no more, on the chain's own answers too
    step = buy.curve.lot
    for other in (opp.size - step, opp.size + step):
        out = (await v3.onchain_quote_exact_in(pool, weth.address, other)).amount_out
        cost = buy.curve.fill(other).quote
        assert out - cost <= opp.proceeds - opp.cost + 1


async def test_a_pool_leg_is_capped_at_what_the_pool_can_fill(devnet: DevnetState, client: EvmClient) -> None:
    chain = devnet.chains[CHAIN]
    weth = chain.tokens["WETH"]
    v3 = build_dexes(client)["uniswap_v3"]
    assert isinstance(v3, UniswapV3)
    info = next(p for p in chain.dexes["uniswap_v3"].pools if p.label == "WETH/USDC 0.3%")
    pool = v3.pool_for(info.token0, info.token1, info.fee)

    leg = await pool_leg(v3, pool, weth.address, Side.BUY, 10**30)  # far more WETH than the pool holds
    capacity = leg.curve.capacity
    assert 0 < capacity < 10**30
    onchain = await v3.onchain_quote_exact_out(pool, weth.address, capacity)
    assert leg.curve.fill(capacity).quote == onchain.amount_in
    with pytest.raises(InsufficientLiquidity):
        await v3.quote_exact_out(pool, weth.address, capacity + 1)
