"""The book feed reads ccxt.pro's float levels straight into integer units; whatever it takes
that way is exactly what the text route (shortest decimal text, then parsing) gives, and what
the text route refuses (finer than the symbol's scale) it hands to the text route."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.cex.health import HealthRecord
from crosslane.routing import ConsolidatedBook, SymbolScale, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.book import VenueBook
from workers.fastpath.feeds import DEPTH, _text, _units, follow_book

PRICE_DECIMALS, QTY_DECIMALS = 2, 8
SCALES = (10.0**PRICE_DECIMALS, 10.0**QTY_DECIMALS)


def text_route(levels: list[list[float]]) -> list[tuple[int, int]]:
    book = VenueBook("v", SymbolScale("BTC/USDT", PRICE_DECIMALS, QTY_DECIMALS))
    book.replace_text(_text(levels), [], update_id=1, ts_ms=1)
    return sorted(book.bids.levels.items())


def units_route(units: list[tuple[int, int]]) -> list[tuple[int, int]]:
    book = VenueBook("v", SymbolScale("BTC/USDT", PRICE_DECIMALS, QTY_DECIMALS))
    book.replace(units, [], update_id=1, ts_ms=1)
    return sorted(book.bids.levels.items())


decimal_text = st.builds(
    lambda units, decimals: str(Decimal(units).scaleb(-decimals)),
    st.integers(min_value=0, max_value=10**13),
    st.integers(min_value=0, max_value=12),
)


@given(st.lists(st.tuples(decimal_text, decimal_text), min_size=1, max_size=25))
def test_float_levels_give_the_text_routes_units_or_go_the_text_route(levels: list[tuple[str, str]]) -> None:
    floats = [[float(p), float(q)] for p, q in levels]
    units = _units(floats, *SCALES)
    try:
        expected = text_route(floats)
    except ValueError:  # finer than the scale: refused by the text route
        assert units is None
        return
    if units is not None:
        assert units_route(units) == expected


@pytest.mark.parametrize(
    ("level", "taken"),
    [
        ([65000.12, 0.5], True),
        ([65000.125, 0.5], False),  # a price finer than the tick
        ([65000.12, 0.000000001], False),  # a size finer than the step
        ([0.1 + 0.2, 1.0], False),  # 0.30000000000000004: not a two-decimal number
        ([1e14, 1.0], False),  # too many units to be sure of the float arithmetic
        ([65000.12, 0.5, "0", 3], True),  # OKX's extra fields are ignored
    ],
)
def test_what_is_taken_directly(level: list[float], taken: bool) -> None:
    units = _units([level], *SCALES)
    assert (units is not None) is taken
    if taken:
        assert units_route(units) == text_route([level[:2]])


class ScriptedFeed:
    """A ccxt.pro stand-in: ``watch_order_book`` hands out the same book object after each
    scripted change (ccxt.pro changes its book, and its level lists, in place)."""

    id = "binance"

    def __init__(self, changes: list[Callable[[dict[str, Any]], None]]) -> None:
        bids = [[100.0 - i, 1.0] for i in range(30)]
        asks = [[101.0 + i, 1.0] for i in range(30)]
        self.ob: dict[str, Any] = {"bids": bids, "asks": asks, "nonce": 0}
        self.changes = changes
        self.seen: list[tuple[int, list[tuple[int, int]], list[tuple[int, int]]]] = []
        self.target: VenueBook | None = None

    async def watch_order_book(self, symbol: str, limit: int) -> dict[str, Any]:
        if self.target is not None and self.target.update_id >= 0:  # what the previous update left
            t = self.target
            self.seen.append((t.update_id, sorted(t.bids.levels.items()), sorted(t.asks.levels.items())))
        if self.ob["nonce"] >= len(self.changes):
            raise asyncio.CancelledError
        self.changes[self.ob["nonce"]](self.ob)
        self.ob["nonce"] += 1
        return self.ob


def expected_units(ob: dict[str, Any]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    def side(levels: list[list[float]]) -> list[tuple[int, int]]:
        return sorted((round(p * 100), round(q * 1000)) for p, q in levels[:DEPTH])

    return side(ob["bids"]), side(ob["asks"])


async def test_a_diff_below_the_top_levels_refreshes_the_book_and_one_within_them_is_copied() -> None:
    def nothing(ob: dict[str, Any]) -> None:
        pass

    def far_bid(ob: dict[str, Any]) -> None:  # a resting order 25 levels down: outside the top 20
        ob["bids"].insert(25, [74.5, 0.3])

    def top_qty_in_place(ob: dict[str, Any]) -> None:  # ccxt.pro-style: the level's list changed in place
        ob["bids"][0][1] = 2.0

    def new_best_ask(ob: dict[str, Any]) -> None:
        ob["asks"].insert(0, [100.5, 0.25])

    changes = [nothing, far_bid, top_qty_in_place, far_bid, new_best_ask]
    feed = ScriptedFeed(changes)
    book = ConsolidatedBook.covering(
        "BTC/USDT",
        [
            VenueMarket(
                "binance", VenueCosts(taker_bps=Decimal(0)), VenuePrecision(tick=Decimal("0.01"), step=Decimal("0.001"))
            )
        ],
    )
    feed.target = book.book("binance")
    health = HealthRecord(venue="binance")
    with pytest.raises(asyncio.CancelledError):
        await follow_book(feed, "BTC/USDT", book, "binance", health)
    assert [s[0] for s in feed.seen] == [1, 2, 3, 4, 5], "every update's id reaches the book"
    replay = ScriptedFeed(changes)
    for i, (_update_id, bids, asks) in enumerate(feed.seen):
        changes[i](replay.ob)
        assert (bids, asks) == expected_units(replay.ob), f"after update {i}"
    assert feed.seen[2][1][-1] == (10000, 2000), "the in-place change to the best bid was copied"
    assert not health.book_stale
