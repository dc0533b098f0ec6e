"""The optimal size equals brute force: on concave functions, and on real curves (random
books against random V2 pools, random books against each other) within one lot."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crosslane.arbitrage import ArbKind, ArbLeg, ArbMarket, ArbPolicy, ChainGas, DropReason, evaluate, maximise
from crosslane.routing.side import Side
from tests.unit.test_arb_curves import MILLI_ETH, book, v2_curve

MARKET = ArbMarket("WETH", "USDC", 18, 6)
GAS = ChainGas("devnet-a", 2 * 10**9, Fraction(3_000 * 10**6, 10**18))  # 2 gwei, ETH at 3000 USDC


@settings(max_examples=300, deadline=None)
@given(st.integers(-1000, 1000), st.integers(0, 50), st.integers(0, 400), st.integers(1, 5), st.integers(0, 300))
def test_maximise_equals_brute_force_on_concave_functions(
    peak: int, curvature: int, width: int, lot: int, low: int
) -> None:
    def profit(x: int) -> int:
        return -curvature * (x - peak) ** 2 // 7 + 3 * x

    high = low + width
    if -(-low // lot) > high // lot:
        with pytest.raises(ValueError):
            maximise(profit, low, high, lot)
        return
    best = maximise(profit, low, high, lot)
    sizes = [s for s in range(low, high + 1) if s % lot == 0]
    top = max(profit(s) for s in sizes)
    assert best.value == top == profit(best.size)
    assert best.size == min(s for s in sizes if profit(s) == top)
    assert best.evaluations <= 2 * 40 + 9  # logarithmic, never a scan of the range


def brute_force(opp_buy: ArbLeg, opp_sell: ArbLeg, low: int, high: int, lot: int) -> dict[int, int]:
    """net(size) for every whole lot, computed from the fills alone."""
    assert opp_buy.curve is not None and opp_sell.curve is not None
    nets = {}
    for size in range(low, high + 1, lot):
        buy, sell = opp_buy.curve.fill(size), opp_sell.curve.fill(size)
        gas = sum(leg.gas.cost(f.gas_units) for leg, f in ((opp_buy, buy), (opp_sell, sell)) if leg.gas and f.gas_units)
        nets[size] = sell.quote - buy.quote - gas
    return nets


asks = st.lists(st.tuples(st.integers(1, 400), st.integers(1, 60)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(asks, st.integers(0, 30), st.integers(1, 3), st.integers(50, 5_000), st.integers(-300, 600))
def test_book_against_pool_optimum_is_brute_force_within_one_lot(
    ladder: list[tuple[int, int]], taker: int, step: int, pool_eth: int, edge_cents: int
) -> None:
    # buy on the venue's asks (from 3000.00 up), sell into a pool priced around 3000 + edge
    price, levels = 300_000, []
    for gap, qty in ladder:
        price += gap
        levels.append((price, qty))
    buy = ArbLeg("binance", "ETH/USDC", book(Side.BUY, levels, taker=str(taker), step=step))
    pool_price = 300_000 + edge_cents  # cents per ETH
    reserve_usdc = pool_eth * pool_price * 10**4
    sell_curve = v2_curve(Side.SELL, pool_eth * 10**18, reserve_usdc, 10**30)
    sell = ArbLeg(
        "devnet-a:uniswap_v2", "WETH/USDC", sell_curve, chain="devnet-a", gas=GAS, block_number=7, head_block=7
    )
    opp = evaluate(ArbKind.CEX_DEX, MARKET, buy, sell, now_ms=0, policy=ArbPolicy(min_profit=-(10**18)))
    assert buy.curve is not None
    if buy.curve.capacity < buy.curve.min_size:  # every level below one lot
        assert opp.decision == "dropped" and opp.dropped_for == [DropReason.NO_ROUTE]
        return
    nets = brute_force(buy, sell, buy.curve.min_size, buy.curve.capacity, buy.curve.lot)
    top = max(nets.values())
    best_sizes = [s for s, v in nets.items() if v == top]
    assert opp.decision == "taken"
    assert opp.net_profit == nets[opp.size]
    assert opp.net_profit == top or min(abs(opp.size - s) for s in best_sizes) <= buy.curve.lot
    assert sum(item.amount for item in opp.items) == opp.net_profit


@settings(max_examples=150, deadline=None)
@given(asks, asks, st.integers(0, 20), st.integers(0, 20), st.integers(-200, 400))
def test_book_against_book_optimum_is_brute_force_within_one_lot(
    ask_ladder: list[tuple[int, int]], bid_ladder: list[tuple[int, int]], buy_fee: int, sell_fee: int, cross: int
) -> None:
    ask, bid, asks_levels, bids_levels = 300_000, 300_000 + cross, [], []
    for gap, qty in ask_ladder:
        ask += gap
        asks_levels.append((ask, qty))
    for gap, qty in bid_ladder:
        bid -= gap
        bids_levels.append((bid, qty))
    buy = ArbLeg("binance", "ETH/USDC", book(Side.BUY, asks_levels, taker=str(buy_fee)))
    sell = ArbLeg("okx", "ETH/USDC", book(Side.SELL, bids_levels, taker=str(sell_fee)))
    opp = evaluate(ArbKind.CEX_CEX, MARKET, buy, sell, now_ms=0, policy=ArbPolicy(min_profit=-(10**18)))
    assert buy.curve is not None and sell.curve is not None
    nets = brute_force(buy, sell, MILLI_ETH, min(buy.curve.capacity, sell.curve.capacity), MILLI_ETH)
    top = max(nets.values())
    assert opp.net_profit == nets[opp.size]
    assert opp.net_profit == top or min(abs(opp.size - s) for s, v in nets.items() if v == top) <= MILLI_ETH


def test_profit_falls_past_the_optimum_on_the_curves_not_the_top_of_book() -> None:
    # top of book alone says "buy all 5 ETH"; the pool's curve says stop earlier
    buy = ArbLeg("binance", "ETH/USDC", book(Side.BUY, [(300_000, 5_000)], taker="0"))
    sell = ArbLeg("pool", "WETH/USDC", v2_curve(Side.SELL, 100 * 10**18, 306_000 * 10**6, 10**30))
    opp = evaluate(ArbKind.CEX_DEX, MARKET, buy, sell, now_ms=0, policy=ArbPolicy(min_profit=0))
    assert opp.decision == "taken"
    assert 0 < opp.size < 5 * 10**18
    assert opp.sell is not None and opp.sell.impact > 0
