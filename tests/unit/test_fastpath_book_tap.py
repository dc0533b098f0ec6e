"""The book feed watches once per (re)subscription and takes every later update from
ccxt.pro's resolve of the book (``_tap``), applying only the levels that changed (``_patch``):
the router's book stays exactly the top ``DEPTH`` levels of ccxt.pro's, a rejection on the
connection marks it stale and watches again, and a lost connection counts as a reconnect."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import ccxt
from ccxt.async_support.base.ws.client import Client
from ccxt.async_support.base.ws.order_book import OrderBook
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.cex.health import HealthRecord
from crosslane.routing import SymbolScale
from crosslane.routing.book import VenueBook
from workers.fastpath.feeds import DEPTH, _patch, _top, _units, follow_book

SYMBOL = "BTC/USDT"
HASH = "orderbook::" + SYMBOL
SCALE = SymbolScale(SYMBOL, 2, 8)
SCALES = (100.0, 1e8)


def full_copy(ob: Any) -> VenueBook:
    book = VenueBook("v", SCALE)
    bids, asks = _units(ob["bids"], *SCALES), _units(ob["asks"], *SCALES)
    assert bids is not None and asks is not None
    book.replace(bids, asks, update_id=1, ts_ms=1)
    return book


def levels(book: VenueBook) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    return book.bids.top(10**6), book.asks.top(10**6)


side_changes = st.lists(
    st.tuples(st.integers(1, 60), st.sampled_from([0.0, 0.5, 1.25, 2.0, 0.00000001])), min_size=1, max_size=8
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(side_changes, side_changes), min_size=1, max_size=30))
def test_patching_changed_levels_gives_the_full_copy(steps: list[tuple[Any, Any]]) -> None:
    """Random diffs into a ccxt.pro book (bids 1-60 below 100, asks above): after each, the book
    patched from the previous top levels equals a full copy of the new top levels."""
    ob = OrderBook({"bids": [[99.0 - i, 1.0] for i in range(25)], "asks": [[101.0 + i, 1.0] for i in range(25)]})
    patched = full_copy(ob)
    held = (_top(ob["bids"]), _top(ob["asks"]))
    for bid_changes, ask_changes in steps:
        for offset, size in bid_changes:
            ob["bids"].store(100.0 - offset, size)
        for offset, size in ask_changes:
            ob["asks"].store(100.0 + offset, size)
        top = (_top(ob["bids"]), _top(ob["asks"]))
        assert _patch(patched, held, top, SCALES)
        held = top
        assert levels(patched) == levels(full_copy(ob))
        assert len(patched.bids) <= DEPTH and len(patched.asks) <= DEPTH


def test_a_change_finer_than_the_scale_is_refused_whole() -> None:
    ob = OrderBook({"bids": [[99.0, 1.0]], "asks": [[101.0, 1.0]]})
    book = full_copy(ob)
    held = (_top(ob["bids"]), _top(ob["asks"]))
    ob["bids"].store(98.0, 2.0)
    ob["asks"].store(101.005, 1.0)  # finer than the price scale
    assert not _patch(book, held, (_top(ob["bids"]), _top(ob["asks"])), SCALES)
    assert levels(book) == ([(9900, 10**8)], [(10100, 10**8)])  # nothing applied


class FakePro:
    """ccxt.pro's watch_order_book over a real ccxt.pro ``Client`` that never connects: the test
    resolves and rejects on it as ccxt.pro's message handlers do."""

    id = "binance"

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.watches = 0

    @property
    def client(self) -> Client:
        if "ws" not in self.clients:
            noop = lambda *_: None  # noqa: E731
            self.clients["ws"] = Client("wss://venue.invalid/ws", noop, noop, noop, noop, {})
        return self.clients["ws"]

    async def watch_order_book(self, symbol: str, limit: int) -> Any:
        self.watches += 1
        return await self.client.future("orderbook::" + symbol)


async def started() -> tuple[FakePro, OrderBook, VenueBook, HealthRecord, asyncio.Task[None]]:
    pro, health = FakePro(), HealthRecord("v")
    book = VenueBook("v", SCALE)
    consolidated: Any = SimpleNamespace(book={"v": book}.__getitem__)  # what follow_book reads of it
    task = asyncio.create_task(follow_book(pro, SYMBOL, consolidated, "v", health))
    await asyncio.sleep(0)
    ob = OrderBook({"bids": [[99.0, 1.0]], "asks": [[101.0, 1.0]], "nonce": 1, "symbol": SYMBOL})
    pro.client.resolve(ob, HASH)
    await asyncio.sleep(0.01)
    return pro, ob, book, health, task


async def test_updates_reach_the_book_from_the_resolve_without_a_watch_each() -> None:
    pro, ob, book, health, task = await started()
    assert levels(book) == ([(9900, 10**8)], [(10100, 10**8)]) and book.update_id == 1
    for nonce in range(2, 6):
        ob["bids"].store(99.0 - nonce, 0.5)
        ob["nonce"] = nonce
        pro.client.resolve(ob, HASH)
        assert book.update_id == nonce  # in the handler, before any task runs
    assert levels(book) == levels(full_copy(ob))
    await asyncio.sleep(0.01)
    assert pro.watches == 1 and health.ws_reconnects == 0 and not health.book_stale
    task.cancel()


async def test_a_lost_connection_marks_the_book_stale_counts_and_watches_again() -> None:
    pro, ob, book, health, task = await started()
    pro.client.reject(ccxt.NetworkError("closed"))  # no future waiting: ccxt.pro tells nobody else
    assert health.book_stale
    await asyncio.sleep(0.01)
    assert health.ws_reconnects == 1 and pro.watches == 2
    ob["nonce"] = 7
    pro.client.resolve(ob, HASH)
    await asyncio.sleep(0.01)
    assert not health.book_stale and book.update_id == 7 and pro.watches == 2
    task.cancel()


async def test_a_rejected_book_raises_on_the_next_watch_and_resubscribes() -> None:
    pro, ob, book, health, task = await started()
    pro.client.reject(ccxt.ChecksumError("gap"), HASH)  # kept by ccxt.pro for the next watch
    await asyncio.sleep(0.01)
    assert health.book_stale and health.ws_reconnects == 1
    await asyncio.sleep(0.15)  # the loop's first backoff
    assert pro.watches == 3
    fresh = OrderBook({"bids": [[98.0, 3.0]], "asks": [[102.0, 1.0]], "nonce": 9, "symbol": SYMBOL})
    pro.client.resolve(fresh, HASH)
    await asyncio.sleep(0.01)
    assert not health.book_stale and levels(book) == ([(9800, 3 * 10**8)], [(10200, 10**8)])
    task.cancel()


async def test_a_crossed_book_is_stale_until_a_clean_update() -> None:
    pro, ob, book, health, task = await started()
    ob["bids"].store(102.0, 1.0)
    ob["nonce"] = 2
    pro.client.resolve(ob, HASH)
    assert health.book_stale and book.update_id == 1  # not copied
    ob["bids"].store(102.0, 0.0)
    ob["nonce"] = 3
    pro.client.resolve(ob, HASH)
    assert not health.book_stale and book.update_id == 3 and levels(book) == levels(full_copy(ob))
    task.cancel()
