"""Router properties over random books: the split is exact, within every venue's precision, and
(without steps or minimums in the way) exactly as cheap as a straightforward Decimal walk."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from crosslane.routing import (
    ConsolidatedBook,
    Quote,
    RoutePlan,
    Router,
    Side,
    SymbolScale,
    VenueCosts,
    VenueMarket,
    VenuePrecision,
)

D = Decimal
SYMBOL = "ETH/USDT"
SCALE = SymbolScale(SYMBOL, price_decimals=2, qty_decimals=3)
NOW_MS = 5_000

fees = st.sampled_from([D(0), D(1), D("2.5"), D(10), D("7.5")])
steps = st.sampled_from([D("0.001"), D("0.01"), D("0.1")])
minimums = st.sampled_from([D(0), D(0), D("0.05"), D(1)])
price_cents = st.integers(min_value=9_900, max_value=10_100)


@st.composite
def venues(draw: st.DrawFn, *, with_precision: bool) -> list[tuple[VenueMarket, list[tuple[str, str]]]]:
    """1-4 venues, each with one side of a book (prices in cents) and its market."""
    count = draw(st.integers(min_value=1, max_value=4))
    drawn = []
    for n in range(count):
        step = draw(steps) if with_precision else D("0.001")
        precision = VenuePrecision(tick=D("0.01"), step=step,
                                   min_qty=draw(minimums) if with_precision else D(0),
                                   min_notional=D(draw(st.sampled_from([0, 5, 50]))) if with_precision else D(0))
        prices = draw(st.lists(price_cents, min_size=0, max_size=12, unique=True))
        levels = [(f"{cents / 100:.2f}", f"{draw(st.integers(1, 400)) * step}") for cents in prices]
        drawn.append((VenueMarket(f"v{n}", VenueCosts(taker_bps=draw(fees)), precision), levels))
    return drawn


def build(drawn: list[tuple[VenueMarket, list[tuple[str, str]]]], side: Side) -> Router:
    book = ConsolidatedBook(SCALE, [m for m, _ in drawn])
    for venue_market, levels in drawn:
        bids, asks = ([], levels) if side is Side.BUY else (levels, [])
        book.book(venue_market.venue).replace_text(bids, asks, update_id=1, ts_ms=NOW_MS)
    return Router([book], clock_ms=lambda: NOW_MS)


def decimal_walk(drawn: list[tuple[VenueMarket, list[tuple[str, str]]]], side: Side, qty: Decimal):
    """The obvious reference: every level as Decimals, sorted by fee-adjusted price, taken in order."""
    sign = 1 if side is Side.BUY else -1
    levels = []
    for venue_market, book in drawn:
        rate = venue_market.costs.taker_bps / 10_000
        levels += [(D(p) * (1 + sign * rate), D(p), D(q), rate) for p, q in book]
    levels.sort(key=lambda level: sign * level[0])
    remaining, all_in = qty, D(0)
    for _, price, available, rate in levels:
        take = min(available, remaining)
        all_in += take * price * (1 + sign * rate)
        remaining -= take
    return qty - remaining, all_in


def all_in(quote: Quote) -> Decimal:
    return quote.notional + quote.fees if quote.side is Side.BUY else quote.notional - quote.fees


@settings(max_examples=300, deadline=None)
@given(drawn=venues(with_precision=False), side=st.sampled_from(Side), qty=st.integers(1, 20_000))
def test_split_matches_a_decimal_walk(drawn, side: Side, qty: int) -> None:
    size = D(qty) / 1000
    if not any(levels for _, levels in drawn):
        return
    quote = build(drawn, side).quote(side, size, SYMBOL)
    filled, expected_all_in = decimal_walk(drawn, side, size)
    assert quote.filled == filled and quote.filled + quote.unfilled == size
    assert all_in(quote) == expected_all_in


@settings(max_examples=300, deadline=None)
@given(drawn=venues(with_precision=True), side=st.sampled_from(Side), qty=st.integers(1, 20_000))
def test_children_are_exact_and_within_venue_precision(drawn, side: Side, qty: int) -> None:
    size = D(qty) / 1000
    router = build(drawn, side)
    try:
        plan: RoutePlan = router.route(side, size, SYMBOL)
    except Exception as exc:  # refusals are fine (below every minimum, nothing routable); wrong answers are not
        assert type(exc).__name__ == "InvalidRequest", exc
        return
    event(f"{len(plan.children)} children, {len(plan.quote.excluded)} left out")
    quote, markets = plan.quote, {m.venue: (m, dict((D(p), D(q)) for p, q in levels)) for m, levels in drawn}
    assert sum(child.qty for child in plan.children) == quote.filled == sum(v.qty for v in quote.venues)
    assert quote.filled + quote.unfilled == size and quote.filled > 0
    assert sum(v.notional for v in quote.venues) == quote.notional
    for child, venue_quote in zip(plan.children, quote.venues, strict=True):
        venue_market, book = markets[child.venue]
        precision = venue_market.precision
        assert child.qty % precision.step == 0
        assert child.qty >= precision.min_qty and venue_quote.notional >= precision.min_notional
        assert child.limit_price in book  # a real level of that venue
        # it never needs more than the levels up to its limit price hold
        worse = 1 if side is Side.BUY else -1  # sign of (price - limit) for a level beyond the limit
        assert child.qty <= sum(q for p, q in book.items() if (p - child.limit_price) * worse <= 0)
        assert venue_quote.fee == venue_quote.notional * venue_market.costs.taker_bps / 10_000
