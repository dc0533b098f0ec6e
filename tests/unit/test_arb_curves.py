"""Leg curves: a CEX book walk priced to the unit with its taker fee and lot rules, and
any exact quote function; each fill splits into best-price value, fee and impact exactly."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.dex.base import DexProtocol, Pool
from connectors.dex.pricing import fee_retained, mid_price
from connectors.dex.uniswap_v2.pair import PairState
from crosslane.arbitrage import BookCurve, CallableCurve
from crosslane.routing import SymbolScale, VenueBook, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.side import Side

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
MILLI_ETH = 10**15  # one qty unit of a book with 3 quantity decimals, in WETH base units
SCALE = SymbolScale("ETH/USDC", 2, 3)


def book(
    side: Side, levels: list[tuple[int, int]], taker: str = "10", step: int = 1, min_notional: str = "0"
) -> BookCurve:
    """ETH/USDC: prices in cents, quantities in milli-ETH; WETH 18 and USDC 6 decimals."""
    precision = VenuePrecision(tick=Decimal("0.01"), step=Decimal(step) / 1000, min_notional=Decimal(min_notional))
    market = VenueMarket("binance", VenueCosts(taker_bps=Decimal(taker)), precision)
    return BookCurve(side, levels, SCALE, market, asset_decimals=18, quote_decimals=6)


def v2_curve(side: Side, reserve_weth: int, reserve_usdc: int, capacity: int) -> CallableCurve:
    """A V2 WETH/USDC pair as a curve, through the connector's exact pair math."""
    pool = Pool(DexProtocol.UNISWAP_V2, "0x" + "11" * 20, USDC, WETH, 3000)
    state = PairState(pool, reserve_usdc, reserve_weth, 1)

    def amount(size: int) -> int:
        if side is Side.SELL:
            return state.quote_exact_in(WETH, size).amount_out
        return state.quote_exact_out(WETH, size).amount_in

    return CallableCurve(
        side,
        amount,
        best_price=mid_price(state, WETH),
        fee_kept=fee_retained([3000]),
        capacity=capacity,
        gas_units=120_000,
    )


def test_a_sell_walks_the_bids_and_pays_the_taker_fee_on_the_notional() -> None:
    # 1.5 ETH at 3000.00 then 1 ETH at 2999.00; sell 2 ETH at 10 bps
    curve = book(Side.SELL, [(300_000, 1_500), (299_900, 1_000)])
    fill = curve.fill(2 * 10**18)
    notional = 1_500 * 300_000 + 500 * 299_900  # cents x milli-ETH
    gross = notional * 10**6 // 10**5  # USDC base units: 5999.50 USDC
    assert gross == 5_999_500_000
    assert fill.quote == gross - gross * 10 // 10_000  # 0.1 % taker fee, exactly divisible here
    assert fill.fee == gross - fill.quote
    assert fill.at_best == 6_000_000_000
    assert fill.impact == 500_000  # 0.5 ETH a dollar lower
    assert curve.capacity == 2_500 * MILLI_ETH


def test_a_buy_walks_the_asks_rounding_its_cost_up() -> None:
    curve = book(Side.BUY, [(300_001, 1), (300_100, 5)], taker="7.5")
    fill = curve.fill(3 * MILLI_ETH)
    notional = 300_001 + 2 * 300_100
    assert fill.quote == -(-notional * 10**6 * (10**8 + 75_000) // (10**5 * 10**8))
    assert fill.at_best == -(-3 * 300_001 * 10**6 // 10**5)
    assert fill.quote == fill.at_best + fill.fee + fill.impact


def test_sizes_must_be_whole_lots_within_the_minimums_and_capacity() -> None:
    curve = book(Side.SELL, [(300_000, 10)], step=2, min_notional="10")
    assert curve.lot == 2 * MILLI_ETH
    assert curve.min_size == 4 * MILLI_ETH  # 0.004 ETH x 3000 = 12 USDC >= 10; 0.002 is 6 USDC
    assert curve.capacity == 10 * MILLI_ETH
    for bad in (3 * MILLI_ETH, 2 * MILLI_ETH, 12 * MILLI_ETH, MILLI_ETH + 1):
        with pytest.raises(ValueError):
            curve.fill(bad)
    # a level smaller than a step cannot be taken
    assert book(Side.SELL, [(300_000, 3), (299_000, 1)], step=2).capacity == 2 * MILLI_ETH


def test_a_curve_reads_a_venue_book_as_it_stands() -> None:
    venue = VenueBook("binance", SCALE)
    venue.replace_text([["2999.5", "1.2"]], [["3000.5", "0.7"], ["3001", "2"]], update_id=1, ts_ms=5)
    market = VenueMarket(
        "binance", VenueCosts(taker_bps=Decimal(10)), VenuePrecision(Decimal("0.01"), Decimal("0.001"))
    )
    buy = BookCurve.from_book(venue, Side.BUY, market, asset_decimals=18, quote_decimals=6)
    sell = BookCurve.from_book(venue, Side.SELL, market, asset_decimals=18, quote_decimals=6)
    assert buy.capacity == 2_700 * MILLI_ETH and sell.capacity == 1_200 * MILLI_ETH
    assert buy.best_price == Fraction(3000_500_000, 10**18) and sell.best_price == Fraction(2999_500_000, 10**18)


levels = st.lists(st.tuples(st.integers(1, 50), st.integers(1, 40)), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(levels, st.sampled_from([Side.BUY, Side.SELL]), st.integers(0, 30), st.integers(1, 3), st.data())
def test_book_fills_itemise_exactly_and_stay_concave(
    steps: list[tuple[int, int]], side: Side, taker: int, step: int, data: st.DataObject
) -> None:
    price, ladder = 300_000, []
    for gap, qty in steps:  # asks rise, bids fall, from the best level out
        price += gap if side is Side.BUY else -gap
        ladder.append((price, qty))
    curve = book(side, ladder, taker=str(taker), step=step)
    if curve.capacity < curve.min_size:
        return
    sizes = range(curve.min_size, curve.capacity + 1, curve.lot)
    quotes = []
    for size in sizes:
        fill = curve.fill(size)
        expected = fill.at_best - fill.fee - fill.impact if side is Side.SELL else fill.at_best + fill.fee + fill.impact
        assert fill.quote == expected
        assert fill.fee >= 0 and fill.impact >= -1
        quotes.append(fill.quote)
    # marginal proceeds fall (sell) / marginal costs rise (buy), up to a unit of rounding
    marginal = [b - a for a, b in zip(quotes, quotes[1:], strict=False)]
    for a, b in zip(marginal, marginal[1:], strict=False):
        assert (b <= a + 2) if side is Side.SELL else (b >= a - 2)


@settings(max_examples=100, deadline=None)
@given(st.integers(10, 10_000), st.integers(10_000, 40_000_000), st.sampled_from([Side.BUY, Side.SELL]))
def test_pool_fills_split_into_best_price_fee_and_impact(weth: int, usdc: int, side: Side) -> None:
    curve = v2_curve(side, weth * 10**18, usdc * 10**6, weth * 10**17)
    for size in (1, 10**15, 10**17, weth * 10**17):
        fill = curve.fill(size)
        assert fill.gas_units == 120_000
        if side is Side.SELL:
            assert fill.quote == fill.at_best - fill.fee - fill.impact
        else:
            assert fill.quote == fill.at_best + fill.fee + fill.impact
        assert fill.fee >= 0 and fill.impact >= -1
    assert curve.best_price == Fraction(usdc * 10**6, weth * 10**18)
