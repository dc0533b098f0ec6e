"""Fills of resting orders reach the fast path through each venue's private stream (Binance
``executionReport`` over the WebSocket API, OKX ``orders`` after login, Kraken ``executions``
with a token), not a REST poll; a
dropped stream and a restart never count a fill twice.

One in-process simulator per dialect (no market-maker motion); the fast path runs as its own
process against it; counter-orders are matched directly in the simulator's engine, so every
REST request the simulator counts is the fast path's.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import ChildOrder, OrderKind, VenueHealthView
from crosslane.routing import Side
from devnet.cex import admin_client as admin
from devnet.cex.engine import OrderRequest, OrderType
from devnet.cex.engine import Side as SimSide
from devnet.cex.market_maker import MarketMakerConfig
from devnet.cex.server import VenueServer
from tests.support.fastpath import FastPathProcess
from workers.fastpath.server import FastPathConfig

pytestmark = pytest.mark.timeout(120)
SYMBOL = "BTC/USDT"
ACCOUNT = "fastpath"
QTY = Decimal("0.004")


@dataclass
class Venue:
    sim: VenueServer
    config: FastPathConfig
    home: Path

    @property
    def name(self) -> str:
        return self.sim.name

    @property
    def stream_key(self) -> str:
        """The simulator's name for the fast path's private subscription."""
        return {"binance": f"user:{ACCOUNT}", "kraken": f"executions:{ACCOUNT}"}.get(self.name, f"orders:{ACCOUNT}")

    @property
    def rest_requests(self) -> int:
        return self.sim.venue.faults.stats.requests

    def inside_bid(self) -> Decimal:
        """One tick above the best bid: a buy there rests, and is the first a sell meets."""
        book = self.sim.venue.engine.books[SYMBOL]
        best_bid, best_ask = book.best_bid(), book.best_ask()
        assert best_bid is not None and best_ask is not None
        price = best_bid + self.sim.venue.engine.markets[SYMBOL].tick_size
        assert price < best_ask
        return price

    def sell_into(self, price: Decimal, qty: Decimal) -> None:
        """Another account's sell at ``price``, matched in the simulator (no REST involved)."""
        self.sim.venue.execute(
            lambda engine: engine.submit(
                OrderRequest("taker", SYMBOL, SimSide.SELL, OrderType.LIMIT, quantity=qty, price=price)
            )
        )


@pytest.fixture(params=["binance", "okx", "kraken"])
async def venue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Venue]:
    sim = VenueServer(request.param, seed=7, market_maker=MarketMakerConfig(interval_s=0.05, running=False))
    await sim.start()
    assert sim.market_maker is not None
    sim.market_maker.quote(step=0)  # a still book: nothing but our counter-orders trades
    key = sim.add_account(ACCOUNT)
    sim.add_account("taker")
    secrets = tmp_path / "secrets.json"
    secrets.write_text(
        json.dumps({sim.name: {"api_key": key.api_key, "secret": key.secret, "password": key.passphrase}})
    )
    secrets.chmod(0o600)
    venue = {"name": sim.name, "exchange": sim.name, "rest_url": sim.rest_url, "ws_url": sim.ws_url}
    config = FastPathConfig.model_validate(  # as CROSSLANE_FASTPATH_CONFIG would give it
        {
            "venues": [{**venue, "secrets_file": str(secrets), "enable_rate_limit": False}],
            "symbols": [SYMBOL],
            "socket_path": str(tmp_path / "fp.sock"),
            "journal_path": str(tmp_path / "fp.journal"),
            "latency_penalty_bps_per_ms": "0",
        }
    )
    try:
        yield Venue(sim, config, tmp_path)
    finally:
        await sim.stop()


@pytest.fixture
async def fastpath(venue: Venue) -> AsyncIterator[FastPathProcess]:
    process = FastPathProcess(venue.config, venue.home, dict(os.environ))
    try:
        yield process
    finally:
        process.stop()


async def until(what: str, check: Callable[[], Awaitable[object]], timeout_s: float = 15.0) -> object:
    """``check()``'s first truthy value, polled; fails naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s}s")
        await asyncio.sleep(0.02)


async def stream_live(fp: FastPathClient, venue: Venue, drops: int = 0) -> VenueHealthView:
    async def live() -> VenueHealthView | None:
        (health,) = await fp.health()
        return health if health.user_stream == "live" and health.user_stream_drops >= drops else None

    health = await until(f"{venue.name} user stream live after {drops} drop(s)", live)
    assert isinstance(health, VenueHealthView)
    return health


async def connected(fastpath: FastPathProcess, venue: Venue) -> FastPathClient:
    """A client of ``fastpath`` once its user stream is live, the venue holds the subscription
    and the router has a book (under load the book feed's first book can come after the rest)."""
    fp = await fastpath.client()
    await stream_live(fp, venue)
    await admin.wait_subscribed(venue.sim.rest_url, venue.stream_key)

    async def booked() -> bool:
        book = await fp.book(SYMBOL)
        return bool(book.bids and book.asks)

    await until(f"{venue.name} book in the fast path", booked)
    return fp


async def child_with(fp: FastPathClient, parent_id: str, filled: Decimal) -> ChildOrder:
    """The parent's only child, once the fast path reports ``filled`` for it."""

    async def reported() -> ChildOrder | None:
        ((child,),) = [p.children for p in await fp.status(parent_id)]
        return child if child.filled >= filled else None

    child = await until(f"{parent_id} filled {filled}", reported)
    assert isinstance(child, ChildOrder)
    return child


async def rest(fp: FastPathClient, venue: Venue, parent_id: str) -> tuple[Decimal, ChildOrder]:
    """A buy of QTY resting one tick above the best bid; its price and child."""
    price = venue.inside_bid()
    parent = await fp.route(parent_id, SYMBOL, Side.BUY, QTY, kind=OrderKind.LIMIT, limit_price=price)
    ((child,),) = [parent.children]
    assert (child.state, child.filled, child.limit_price) == ("open", 0, price)
    return price, child


async def test_a_resting_fill_is_pushed_not_polled(venue: Venue, fastpath: FastPathProcess) -> None:
    fp = await connected(fastpath, venue)
    try:
        price, _ = await rest(fp, venue, "ud-push")
        requests = venue.rest_requests
        venue.sell_into(price, QTY / 2)
        partial = await child_with(fp, "ud-push", QTY / 2)
        assert (partial.state, partial.filled, partial.cost) == ("partially_filled", QTY / 2, price * QTY / 2)
        assert venue.rest_requests == requests, "the partial fill was learned without one REST request"
        venue.sell_into(price, QTY / 2)
        await child_with(fp, "ud-push", QTY)

        async def fee_known() -> ChildOrder | None:
            ((child,),) = [p.children for p in await fp.status("ud-push")]
            return child if child.fee_currency is not None else None

        filled = await until("the fee of the filled child", fee_known)
        assert isinstance(filled, ChildOrder)
        # Kraken's executions value the fees in USD (``fee_usd_equiv``), which is not the fee
        # charged: once filled, the fee is read by REST; the others push it with the fills.
        fee_read = venue.rest_requests - requests
        assert fee_read > 0 if venue.name == "kraken" else fee_read == 0
        (parent,) = await fp.status("ud-push")
    finally:
        await fp.close()
    assert (filled.state, filled.filled, filled.cost, filled.avg_price) == ("filled", QTY, price * QTY, price)
    assert filled.fee > 0 and filled.fee_currency == "BTC", "the maker fees, in the asset charged"
    assert parent.filled == QTY and not parent.open


async def test_a_cancel_by_the_venue_is_pushed(venue: Venue, fastpath: FastPathProcess) -> None:
    fp = await connected(fastpath, venue)
    try:
        _, placed = await rest(fp, venue, "ud-venue-cancel")
        requests = venue.rest_requests
        venue.sim.venue.execute(lambda engine: engine.cancel_all(ACCOUNT, SYMBOL))  # not through the fast path

        async def cancelled() -> bool:
            ((child,),) = [p.children for p in await fp.status("ud-venue-cancel")]
            return child.state == "cancelled"

        await until("the venue's cancel reported", cancelled)
        assert venue.rest_requests == requests
        assert await fp.status() == [], "nothing left open"
    finally:
        await fp.close()
    assert placed.venue_order_id


async def test_a_dropped_stream_reconnects_and_counts_each_fill_once(venue: Venue, fastpath: FastPathProcess) -> None:
    fp = await connected(fastpath, venue)
    try:
        price, _ = await rest(fp, venue, "ud-drop")
        venue.sell_into(price, QTY / 4)
        await child_with(fp, "ud-drop", QTY / 4)  # pushed before the drop

        await admin.set_faults(venue.sim.rest_url, drop_ws=True)
        venue.sell_into(price, QTY / 4)  # while the stream is down: caught up once it is back
        health = await stream_live(fp, venue, drops=1)
        assert health.user_stream_drops >= 1
        await child_with(fp, "ud-drop", QTY / 2)

        await admin.wait_subscribed(venue.sim.rest_url, venue.stream_key)
        venue.sell_into(price, QTY / 2)  # pushed on the new stream
        child = await child_with(fp, "ud-drop", QTY)
        sold = venue.sim.venue.engine.open_orders("taker", SYMBOL)
    finally:
        await fp.close()
    assert (child.state, child.filled, child.cost) == ("filled", QTY, price * QTY), "no fill counted twice"
    assert sold == [], "every counter-order met the resting buy"


async def test_a_restart_after_a_pushed_fill_reconciles_to_the_same_quantity(
    venue: Venue, fastpath: FastPathProcess
) -> None:
    fp = await connected(fastpath, venue)
    try:
        price, _ = await rest(fp, venue, "ud-restart")
        venue.sell_into(price, QTY / 4)
        pushed = await child_with(fp, "ud-restart", QTY / 4)
    finally:
        await fp.close()
        fastpath.kill()
    venue.sell_into(price, QTY / 4)  # while the fast path is down: only REST can tell it
    second = FastPathProcess(venue.config, venue.home, dict(os.environ))
    try:
        fp = await second.client()
        (recovered,) = [c for p in await fp.status("ud-restart") for c in p.children]
        await stream_live(fp, venue)
        venue.sell_into(price, QTY / 4)
        after = await child_with(fp, "ud-restart", QTY * 3 / 4)
        cancelled = (await fp.cancel("ud-restart")).children[0]
        await fp.close()
    finally:
        second.stop()
    assert (pushed.filled, pushed.cost) == (QTY / 4, price * QTY / 4)
    assert (recovered.state, recovered.filled, recovered.cost) == ("partially_filled", QTY / 2, price * QTY / 2)
    assert (after.filled, after.cost) == (QTY * 3 / 4, price * QTY * 3 / 4)
    assert (cancelled.state, cancelled.filled) == ("cancelled", QTY * 3 / 4)
