"""crosslane.routing.Router: best execution across venues, fees, precision, health, errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crosslane.errors import InvalidRequest
from crosslane.routing import (
    ConsolidatedBook,
    HealthPolicy,
    Quote,
    Router,
    Side,
    SymbolScale,
    VenueCosts,
    VenueHealth,
    VenueMarket,
    VenuePrecision,
    VenueStatus,
)

D = Decimal
SYMBOL = "BTC/USDT"
NOW_MS = 1_000_000
Levels = list[tuple[str, str]]


def market(venue: str, taker: str = "0", *, tick: str = "0.01", step: str = "0.001", min_qty: str = "0",
           min_notional: str = "0", fixed: str = "0") -> VenueMarket:
    return VenueMarket(venue, VenueCosts(taker_bps=D(taker), fixed_cost=D(fixed)),
                       VenuePrecision(tick=D(tick), step=D(step), min_qty=D(min_qty), min_notional=D(min_notional)))


def router(books: dict[VenueMarket, tuple[Levels, Levels]], policy: HealthPolicy | None = None) -> Router:
    """A router over one symbol; ``books`` maps each market to its (bids, asks)."""
    consolidated = ConsolidatedBook.covering(SYMBOL, books)
    for venue_market, (bids, asks) in books.items():
        consolidated.book(venue_market.venue).replace_text(bids, asks, update_id=1, ts_ms=NOW_MS)
    return Router([consolidated], policy=policy, clock_ms=lambda: NOW_MS)


def only(r: Router, venue: str, side: str, qty: str) -> Quote:
    """The quote with every other venue marked down: what ``venue`` alone would give."""
    for other in r.book(SYMBOL).venues:
        r.set_health(other, VenueHealth(VenueStatus.HEALTHY if other == venue else VenueStatus.DOWN))
    try:
        return r.quote(side, D(qty), SYMBOL)
    finally:
        for other in r.book(SYMBOL).venues:
            r.set_health(other, VenueHealth())


def shares(quote: Quote) -> dict[str, Decimal]:
    return {v.venue: v.qty for v in quote.venues}


A, B = market("alpha", "10"), market("beta", "10")


def two_venues() -> Router:
    return router({
        A: ([("99.90", "1"), ("99.40", "5")], [("100.00", "1"), ("100.50", "5")]),
        B: ([("99.80", "1"), ("99.30", "5")], [("100.10", "1"), ("100.60", "5")]),
    })


# -- best execution and the split -----------------------------------------------------------

def test_a_buy_larger_than_the_best_top_level_is_split_at_a_better_price_than_either_venue() -> None:
    r = two_venues()
    plan = r.route("buy", D("2"), SYMBOL)
    quote = plan.quote
    assert shares(quote) == {"alpha": D(1), "beta": D(1)}
    assert sum(child.qty for child in plan.children) == quote.filled == D(2)
    assert quote.unfilled == 0
    assert {(c.venue, c.side, c.qty, c.limit_price) for c in plan.children} == {
        ("alpha", Side.BUY, D(1), D("100.00")), ("beta", Side.BUY, D(1), D("100.10"))}
    assert quote.avg_price == D("100.05")
    assert quote.fees == D("0.20010")  # 10 bps of 200.10
    assert quote.avg_price_with_fees == D("100.150050")

    alone = [only(r, venue, "buy", "2") for venue in ("alpha", "beta")]
    assert [q.avg_price_with_fees for q in alone] == [D("100.350250"), D("100.450350")]
    assert all(quote.avg_price_with_fees < q.avg_price_with_fees for q in alone)
    assert all(quote.avg_price < q.avg_price for q in alone)


def test_a_sell_walks_the_bids_best_first() -> None:
    plan = two_venues().route(Side.SELL, "3", SYMBOL)
    assert shares(plan.quote) == {"alpha": D(2), "beta": D(1)}
    assert {c.venue: c.limit_price for c in plan.children} == {"alpha": D("99.40"), "beta": D("99.80")}
    notional = D("99.90") + D("99.40") + D("99.80")
    assert plan.quote.notional == notional
    assert plan.quote.avg_price_with_fees == ((notional - notional * D("0.001")) / 3).quantize(D("0.00000001"))


def test_a_size_beyond_all_books_reports_the_unfilled_rest() -> None:
    quote = two_venues().quote("buy", "15", SYMBOL)
    assert quote.filled == 12 and quote.unfilled == 3 and quote.requested == 15


def test_a_limit_price_bounds_the_levels_taken() -> None:
    r = two_venues()
    quote = r.quote("buy", "4", SYMBOL, limit_price="100.10")
    assert shares(quote) == {"alpha": D(1), "beta": D(1)} and quote.unfilled == 2
    assert quote.limit_price == D("100.1")
    assert r.quote("buy", "1", SYMBOL, limit_price="99").filled == 0
    with pytest.raises(InvalidRequest, match="nothing routable .* within limit 99"):
        r.route("buy", "1", SYMBOL, limit_price="99")


# -- fees ---------------------------------------------------------------------------------

def test_fees_change_the_preferred_venue() -> None:
    cheap_fee, dear_fee = market("cheapfee", "2"), market("dearfee", "10")
    books = {dear_fee: ([("100.00", "5")], [("100.01", "5")]), cheap_fee: ([("99.95", "5")], [("100.05", "5")])}
    # raw prices favour dearfee both ways; after fees (100.11 vs 100.07 / 99.90 vs 99.93) cheapfee wins
    assert shares(router(books).quote("buy", "1", SYMBOL)) == {"cheapfee": D(1)}
    assert shares(router(books).quote("sell", "1", SYMBOL)) == {"cheapfee": D(1)}

    no_fees = {market("cheapfee", "0"): books[cheap_fee], market("dearfee", "0"): books[dear_fee]}
    assert shares(router(no_fees).quote("buy", "1", SYMBOL)) == {"dearfee": D(1)}
    assert shares(router(no_fees).quote("sell", "1", SYMBOL)) == {"dearfee": D(1)}


def test_consolidated_levels_are_fee_adjusted_and_attributed() -> None:
    book = ConsolidatedBook.covering(SYMBOL, [market("x", "10"), market("y", "2")])
    book.book("x").replace_text([], [("100.00", "1"), ("100.20", "1")], 1, NOW_MS)
    book.book("y").replace_text([], [("100.05", "2")], 1, NOW_MS)
    levels = book.levels(Side.BUY, depth=3)
    assert [(lv.venue, lv.price, lv.effective_price, lv.qty) for lv in levels] == [
        ("y", D("100.05"), D("100.07001"), D(2)),
        ("x", D("100.00"), D("100.1"), D(1)),
        ("x", D("100.20"), D("100.3002"), D(1)),
    ]
    assert book.best(Side.SELL) is None
    book.book("x").apply_text([("99.95", "1")], [], 2, NOW_MS)
    book.book("y").apply_text([("99.93", "3"), ("99.90", "1")], [], 2, NOW_MS)
    # a seller receives the most at y's top, then y's second level still beats x after fees
    assert [(lv.venue, lv.effective_price) for lv in book.levels(Side.SELL)] == [
        ("y", D("99.910014")), ("y", D("99.88002")), ("x", D("99.85005"))]
    assert VenueCosts(D("10")).effective_price(Side.SELL, D("100")) == D("99.9")


def test_a_fixed_cost_keeps_small_orders_off_the_venue() -> None:
    fixed, free = market("fixed", "0", fixed="1"), market("free", "0")
    r = router({fixed: ([], [("100.00", "50")]), free: ([], [("100.01", "50")])})
    small = r.quote("buy", "1", SYMBOL)  # saves 0.01 on price, pays 1 fixed
    assert shares(small) == {"free": D(1)}
    assert [(e.venue, "fixed cost" in e.reason) for e in small.excluded] == [("fixed", True)]
    large = r.quote("buy", "40", SYMBOL)  # saves 0.40, pays 1: still not worth it
    assert shares(large) == {"free": D(40)}
    huge = r.quote("buy", "80", SYMBOL)  # free alone cannot fill: the fixed-cost venue is needed
    assert shares(huge) == {"fixed": D(50), "free": D(30)} and huge.fees == 1
    assert r.quote("buy", "200", SYMBOL).venues[0].fee == 1


# -- precision ------------------------------------------------------------------------------

def test_children_are_rounded_down_to_each_venue_step() -> None:
    coarse, fine = market("coarse", step="0.01"), market("fine", step="0.0001")
    r = router({coarse: ([], [("100.00", "10")]), fine: ([], [("100.50", "10")])})
    plan = r.route("buy", "1.2345", SYMBOL)
    # coarse is cheaper but trades in 0.01: it takes 1.23; the 0.0045 it cannot take goes to fine
    assert shares(plan.quote) == {"coarse": D("1.23"), "fine": D("0.0045")}
    assert sum(c.qty for c in plan.children) == D("1.2345") == plan.quote.filled

    alone = ConsolidatedBook(SymbolScale(SYMBOL, 2, 4), [coarse])
    alone.book("coarse").replace_text([], [("100.00", "10")], 1, NOW_MS)
    quote = Router([alone], clock_ms=lambda: NOW_MS).quote("buy", "1.2345", SYMBOL)
    assert quote.filled == D("1.23") and quote.unfilled == D("0.0045")


def test_book_levels_off_the_step_are_taken_only_in_whole_steps() -> None:
    book = ConsolidatedBook(SymbolScale(SYMBOL, 2, 3), [market("odd", step="0.1")])
    book.book("odd").replace_text([], [("100.00", "0.25"), ("100.10", "1")], 1, NOW_MS)
    quote = Router([book], clock_ms=lambda: NOW_MS).quote("buy", "0.5", SYMBOL)
    assert quote.filled == D("0.5") and quote.venues[0].worst_price == D("100.10")


def test_a_share_below_the_venue_minimum_is_moved_to_other_venues() -> None:
    small_min, big_min = market("smallmin", min_notional="5"), market("bigmin", min_notional="50")
    r = router({big_min: ([], [("100.00", "0.2")]), small_min: ([], [("100.10", "10")])})
    # bigmin's best 0.2 (20 USDT) is under its 50 USDT minimum: all of it goes to smallmin
    plan = r.route("buy", "1", SYMBOL)
    assert shares(plan.quote) == {"smallmin": D(1)}
    assert [e.venue for e in plan.quote.excluded] == ["bigmin"]
    assert "minimum" in plan.quote.excluded[0].reason


def test_a_size_below_every_venue_minimum_is_refused() -> None:
    r = router({
        market("a", min_qty="0.01"): ([], [("100.00", "0.004"), ("100.20", "1")]),
        market("b", min_notional="10"): ([], [("100.10", "1")]),
    })
    with pytest.raises(InvalidRequest, match=r"0.005 BTC/USDT is below every venue's minimum \(a: qty 0.01"):
        r.quote("buy", "0.005", SYMBOL)
    # a's share of 0.004 would be under its 0.01 minimum: b takes it all
    quote = r.quote("buy", "0.2", SYMBOL)
    assert shares(quote) == {"b": D("0.2")} and [e.venue for e in quote.excluded] == ["a"]
    # big enough for both
    assert shares(r.quote("buy", "1.5", SYMBOL)) == {"a": D("0.5"), "b": D("1")}
    # 0.05 splits as a 0.004 (under a's 0.01) + b 0.046 (4.6 USDT, under b's 10): neither share
    # can be sent, but a alone can fill all of it, walking up its book
    quote = r.quote("buy", "0.05", SYMBOL)
    assert shares(quote) == {"a": D("0.05")} and quote.venues[0].worst_price == D("100.20")


# -- health ---------------------------------------------------------------------------------

def test_down_and_stale_venues_are_excluded() -> None:
    r = two_venues()
    r.set_health("alpha", VenueHealth(VenueStatus.DOWN))
    quote = r.quote("buy", "2", SYMBOL)
    assert shares(quote) == {"beta": D(2)}
    assert [(e.venue, e.reason) for e in quote.excluded] == [("alpha", "venue down")]

    r.set_health("alpha", VenueHealth())
    r.book(SYMBOL).book("beta").ts_ms = NOW_MS - 10_000
    quote = r.quote("buy", "2", SYMBOL)
    assert shares(quote) == {"alpha": D(2)}
    assert quote.excluded[0].venue == "beta" and "stale" in quote.excluded[0].reason

    r.set_health("alpha", VenueHealth(book_stale=True))
    with pytest.raises(InvalidRequest, match="no venue can trade BTC/USDT now.*alpha: book stale.*beta: book stale"):
        r.quote("buy", "2", SYMBOL)


def test_a_crossed_venue_book_is_excluded() -> None:
    r = two_venues()
    r.book(SYMBOL).book("alpha").apply_text([("100.20", "1")], [], update_id=2, ts_ms=NOW_MS)
    quote = r.quote("buy", "1", SYMBOL)
    assert shares(quote) == {"beta": D(1)} and "crossed" in quote.excluded[0].reason


def test_degraded_and_slow_venues_pay_a_penalty() -> None:
    policy = HealthPolicy(degraded_penalty_bps=D(5), latency_free_ms=5, latency_penalty_bps_per_ms=D("0.5"),
                          max_latency_ms=500)
    books = {A: ([], [("100.00", "1")]), B: ([], [("100.04", "1")])}  # alpha 4 bps better
    r = router(books, policy)
    assert shares(r.quote("buy", "1", SYMBOL)) == {"alpha": D(1)}

    r.set_health("alpha", VenueHealth(VenueStatus.DEGRADED))  # 5 bps > 4 bps
    quote = r.quote("buy", "1", SYMBOL)
    assert shares(quote) == {"beta": D(1)}

    r.set_health("alpha", VenueHealth(p50_latency_ms=12))  # 3.5 bps < 4 bps: still alpha
    quote = r.quote("buy", "1", SYMBOL)
    assert shares(quote) == {"alpha": D(1)} and quote.venues[0].penalty_bps == D("3.5")
    assert quote.avg_price_with_fees == D("100.1")  # the penalty ranks; it is not a cost

    r.set_health("alpha", VenueHealth(p50_latency_ms=14))  # 4.5 bps > 4 bps
    assert shares(r.quote("buy", "1", SYMBOL)) == {"beta": D(1)}

    r.set_health("alpha", VenueHealth(p50_latency_ms=600))
    assert "latency" in r.quote("buy", "1", SYMBOL).excluded[0].reason


def test_equal_prices_go_to_the_faster_venue() -> None:
    r = router({A: ([], [("100.00", "1")]), B: ([], [("100.00", "1")])})
    r.set_health("alpha", VenueHealth(p50_latency_ms=3))
    r.set_health("beta", VenueHealth(p50_latency_ms=1))
    assert shares(r.quote("buy", "1", SYMBOL)) == {"beta": D(1)}


# -- bad requests ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("side", "qty", "symbol", "message"),
    [
        ("buy", D(0), SYMBOL, "quantity must be positive"),
        ("buy", D("-1"), SYMBOL, "quantity must be positive"),
        ("buy", 1.5, SYMBOL, "never float"),
        ("buy", D("0.0001"), SYMBOL, "at most 3 decimals"),
        ("buy", "lots", SYMBOL, "not a number"),
        ("hold", D(1), SYMBOL, "side must be 'buy' or 'sell'"),
        ("buy", D(1), "DOGE/USDT", "unknown symbol 'DOGE/USDT'"),
    ],
)
def test_bad_requests_are_refused_clearly(side: str, qty: object, symbol: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        two_venues().route(side, qty, symbol)  # type: ignore[arg-type]


def test_a_market_order_with_no_book_is_refused() -> None:
    r = router({A: ([("99", "1")], []), B: ([("99", "1")], [])})
    with pytest.raises(InvalidRequest, match="no liquidity: no eligible venue has asks for BTC/USDT"):
        r.route("buy", "1", SYMBOL)
    assert r.route("sell", "1", SYMBOL).quote.filled == 1


def test_venue_configuration_finer_than_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="step 0.0001 is finer"):
        ConsolidatedBook(SymbolScale(SYMBOL, 2, 3), [market("x", step="0.0001")])
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        VenueCosts(taker_bps=D("1.00001"))
    with pytest.raises(ValueError, match="finite Decimal"):
        VenueCosts(taker_bps=10)  # type: ignore[arg-type]
