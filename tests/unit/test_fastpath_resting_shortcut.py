"""A limit order with nothing within its limit skips the router's quote (``OrderEngine._resting_legs``,
``Router.resting_qty``): it must give exactly what the full path gives (the same legs, or the
same refusal), over random books, fees, minimums, health and limits at and around every
venue's best level (the router compares a level's own price with the limit, not its
fee-adjusted one, so limits between the two are drawn too)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from crosslane.errors import InvalidRequest
from crosslane.fastpath.protocol import OrderKind, RouteRequest
from crosslane.routing import (
    ConsolidatedBook,
    Router,
    Side,
    SymbolScale,
    VenueCosts,
    VenueHealth,
    VenueMarket,
    VenuePrecision,
    VenueStatus,
)
from workers.fastpath.engine import OrderEngine

D = Decimal
SYMBOL = "ETH/USDT"
SCALE = SymbolScale(SYMBOL, price_decimals=2, qty_decimals=3)
NOW_MS = 50_000
TICK = D("0.01")

cents = st.integers(min_value=9_950, max_value=10_050)


class Venue:
    """What the engine asks a venue while choosing legs: its markets, fees and filters."""

    def __init__(self, name: str, maker: Decimal) -> None:
        self.name = name
        self.markets: dict[str, Any] = {SYMBOL: {}}
        self.maker = maker
        self.checked: list[tuple[Any, ...]] = []

    def fees(self, symbol: str) -> tuple[Decimal, Decimal]:
        return self.maker, D("0.001")

    def check(self, *args: Any, **kwargs: Any) -> None:
        self.checked.append(args)


def levels(draw: st.DrawFn, step: Decimal, low: int, high: int) -> list[tuple[str, str]]:
    """0-5 levels (a side is empty a quarter of the time), prices in cents within [low, high]."""
    size = draw(st.sampled_from([0, 1, 1, 1]))
    prices = draw(st.lists(st.integers(low, high), min_size=size, max_size=5, unique=True))
    return [(f"{c / 100:.2f}", f"{draw(st.integers(1, 300)) * step}") for c in prices]


def rarely(draw: st.DrawFn) -> bool:
    return draw(st.sampled_from([False] * 12 + [True]))


@st.composite
def engines(draw: st.DrawFn) -> OrderEngine:
    """1-3 venues, each with random fees, precision, a book (either side may be empty or
    crossed, or old) and a health the router may exclude it for."""
    count = draw(st.integers(min_value=1, max_value=3))
    markets, books, venues, healths = [], [], {}, {}
    for n in range(count):
        name = f"v{n}"
        step = draw(st.sampled_from([D("0.001"), D("0.01"), D("0.1")]))
        precision = VenuePrecision(
            tick=TICK,
            step=step,
            min_qty=draw(st.sampled_from([D(0), D(0), D(0), D("0.05"), D(1)])),
            min_notional=D(draw(st.sampled_from([0, 0, 5, 50]))),
        )
        taker = draw(st.sampled_from([D(0), D("2.5"), D(10), D(30)]))
        maker = draw(st.sampled_from([D(-1), D(0), D(2), D(10)]))
        markets.append(VenueMarket(name, VenueCosts(taker_bps=taker, maker_bps=maker), precision))
        ts = draw(st.sampled_from([NOW_MS] * 7 + [NOW_MS - 60_000]))  # the last one stale
        mid = draw(cents)
        crossed = 10 if rarely(draw) else 0  # the router excludes a crossed book
        books.append((name, levels(draw, step, mid - 50, mid - 1 + crossed), levels(draw, step, mid, mid + 50), ts))
        venues[name] = Venue(name, maker / 10_000)
        healths[name] = draw(
            st.sampled_from(
                [VenueHealth()] * 5
                + [
                    VenueHealth(status=VenueStatus.DEGRADED, p50_latency_ms=20.0),
                    VenueHealth(status=VenueStatus.DOWN),
                    VenueHealth(book_stale=True),
                ]
            )
        )
    book = ConsolidatedBook(SCALE, markets)
    for name, bids, asks, ts in books:
        book.book(name).replace_text(bids, asks, update_id=1, ts_ms=ts)
    router = Router([book], clock_ms=lambda: NOW_MS)
    for name, health in healths.items():
        router.set_health(name, health)
    return OrderEngine(cast(Any, venues), [SYMBOL], cast(Any, None), router)


@st.composite
def requests(draw: st.DrawFn, engine: OrderEngine) -> RouteRequest:
    """A limit (mostly) at some venue's best level on the side taken, a few ticks either side
    of it, or up to 40 ticks above (buy) / below (sell): between its price and its fee-adjusted
    price for any taker fee drawn; sometimes a size or a price finer than the book's scale."""
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    book = engine.router.book(SYMBOL)
    taken = (lambda v: book.book(v).best_ask()) if side is Side.BUY else (lambda v: book.book(v).best_bid())
    bests = [b for v in book.venues if (b := taken(v)) is not None]
    base = draw(st.sampled_from(bests)) if bests and draw(st.booleans()) else None
    if base is None:
        limit = D(draw(cents)) / 100
    else:
        ticks = draw(st.integers(min_value=-3, max_value=40) | st.sampled_from([0, 0, 1, -1]))
        limit = base + (ticks if side is Side.BUY else -ticks) * TICK
    if rarely(draw):
        limit += D("0.001")  # finer than every tick
    qty = D(draw(st.integers(min_value=1, max_value=3000))) / 1000
    if rarely(draw):
        qty += D("0.0001")  # finer than every step
    kind = draw(st.sampled_from([OrderKind.LIMIT] * 4 + [OrderKind.IOC]))
    return RouteRequest("p", SYMBOL, side, qty, kind, limit)


def outcome(legs: Any, request: RouteRequest) -> tuple[str, Any]:
    try:
        return "legs", legs(request)
    except InvalidRequest as exc:
        return "refused", str(exc)


@settings(max_examples=1500, deadline=None)
@given(data=st.data())
def test_the_resting_shortcut_gives_what_the_full_path_gives(data: st.DataObject) -> None:
    engine = data.draw(engines())
    request = data.draw(requests(engine))
    short = outcome(engine._resting_legs, request)
    full = outcome(engine._routed_legs, request)
    if short == ("legs", None):
        event("quoted: some level within the limit, or not a limit order")
        return
    event(f"shortcut: {short[0]}" + (f" ({short[1].split(':')[0].split(' ')[0]})" if short[0] == "refused" else ""))
    assert short == full
    if short[0] == "legs":
        assert [leg[3] for leg in short[1]] == [True], "one leg, resting"
    assert outcome(engine._legs, request) == full  # with the venues' checks


def test_a_buy_below_every_ask_rests_without_a_quote(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's order: a limit buy far below the market is one resting leg on the venue with
    the lowest maker fee, the router's quote not built, the venue's filters still checked."""
    markets = [
        VenueMarket(v, VenueCosts(taker_bps=D(10), maker_bps=maker), VenuePrecision(tick=TICK, step=D("0.001")))
        for v, maker in (("binance", D(2)), ("okx", D(1)))
    ]
    book = ConsolidatedBook(SCALE, markets)
    book.book("binance").replace_text([("99.00", "1")], [("100.00", "1")], update_id=1, ts_ms=NOW_MS)
    book.book("okx").replace_text([("99.50", "1")], [("100.50", "1")], update_id=1, ts_ms=NOW_MS)
    router = Router([book], clock_ms=lambda: NOW_MS)
    venues = {"binance": Venue("binance", D("0.0002")), "okx": Venue("okx", D("0.0001"))}
    engine = OrderEngine(cast(Any, venues), [SYMBOL], cast(Any, None), router)

    def no_quote(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("quoted")

    monkeypatch.setattr(router, "quote", no_quote)
    request = RouteRequest("p", SYMBOL, Side.BUY, D("0.500"), OrderKind.LIMIT, D("50.00"))
    assert engine._legs(request) == [("okx", D("0.5"), D("50.00"), True)]
    assert venues["okx"].checked == [(SYMBOL, "buy", "limit", D("0.5"), D("50.00"))]
    at_the_ask = RouteRequest("p", SYMBOL, Side.BUY, D("0.5"), OrderKind.LIMIT, D("100.00"))
    with pytest.raises(AssertionError, match="quoted"):
        engine._legs(at_the_ask)  # a level within the limit: the router plans it
