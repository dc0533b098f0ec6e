"""The fast path's IOC children go out at the parent's limit, not at the worst level the router
saw: a market maker requoting one tick away between the router's book and the venue's
matching must not leave an IOC with nothing to fill while the book still holds fills inside
the limit the caller accepted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from crosslane.fastpath.protocol import OrderKind, RouteRequest
from crosslane.routing import ConsolidatedBook, Router, Side, VenueCosts, VenueMarket, VenuePrecision
from workers.fastpath.engine import OrderEngine

D = Decimal
SYMBOL = "ETH/USDC"
NOW_MS = 1_000_000


class Venue:
    markets = {SYMBOL: {}}

    def __init__(self) -> None:
        self.checked: list[tuple[Any, ...]] = []

    def check(self, *args: Any, **kwargs: Any) -> None:
        self.checked.append(args)

    def fees(self, symbol: str) -> tuple[Decimal, Decimal]:
        return D(0), D("0.001")


def engine() -> OrderEngine:
    markets = [
        VenueMarket(v, VenueCosts(taker_bps=D(10)), VenuePrecision(tick=D("0.01"), step=D("0.0001")))
        for v in ("binance", "okx")
    ]
    book = ConsolidatedBook.covering(SYMBOL, markets)
    book.book("binance").replace_text([("3045.00", "0.3"), ("3044.00", "5")], [("3046", "5")], 1, NOW_MS)
    book.book("okx").replace_text([("2999.00", "5")], [("3000.00", "0.2"), ("3001.00", "5")], 1, NOW_MS)
    router = Router([book], clock_ms=lambda: NOW_MS)
    return OrderEngine(cast(Any, {"binance": Venue(), "okx": Venue()}), [SYMBOL], cast(Any, None), router)


def test_an_ioc_child_is_priced_at_the_parent_limit_not_at_the_last_level_seen() -> None:
    legs = engine()._legs(RouteRequest("p/sell", SYMBOL, Side.SELL, D("0.5"), OrderKind.IOC, D("3030.00")))
    assert legs == [("binance", D("0.5"), D("3030.00"), False)]  # the router saw 3044.00 as its worst level
    legs = engine()._legs(RouteRequest("p/buy", SYMBOL, Side.BUY, D("0.5"), OrderKind.IOC, D("3010.00")))
    assert legs == [("okx", D("0.5"), D("3010.00"), False)]


def test_an_ioc_without_a_limit_and_a_resting_limit_keep_the_levels_seen() -> None:
    legs = engine()._legs(RouteRequest("p/ioc", SYMBOL, Side.SELL, D("0.5"), OrderKind.IOC))
    assert legs == [("binance", D("0.5"), D("3044"), False)]
    legs = engine()._legs(RouteRequest("p/lim", SYMBOL, Side.SELL, D("0.5"), OrderKind.LIMIT, D("3030.00")))
    assert legs == [("binance", D("0.5"), D("3044"), False)]
