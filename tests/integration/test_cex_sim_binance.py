"""Unmodified ccxt ``binance`` (REST and ccxt.pro) against the Binance spot simulator.

One in-process simulator serves the module; each test trades from its own freshly funded
account. Only ``urls['api']`` origins and the spot options differ from production use.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from devnet.cex import admin_client as admin
from devnet.cex.admin_client import set_faults, set_rate_limits
from devnet.cex.auth import ApiKey
from devnet.cex.clients import ccxt_client
from devnet.cex.market_maker import MarketMakerConfig
from devnet.cex.server import VenueServer
from tests.support.cex import pushed_order

pytestmark = pytest.mark.timeout(60)
SYMBOL = "BTC/USDT"


def d(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass
class Trader:
    key: ApiKey
    ex: Any  # ccxt.pro.binance (REST methods included)


@pytest.fixture(scope="module")
async def sim() -> AsyncIterator[VenueServer]:
    server = VenueServer("binance", seed=7, market_maker=MarketMakerConfig(interval_s=0.05, running=False))
    await server.start()
    assert server.market_maker is not None
    server.market_maker.quote(step=0)  # a deterministic book; tests resume the bot when they want motion
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def trader(sim: VenueServer) -> AsyncIterator[Trader]:
    key = sim.add_account(f"acct-{uuid.uuid4().hex[:8]}")
    ex = ccxt_client("binance", sim.rest_url, sim.ws_url, api_key=key.api_key, secret=key.secret, pro=True)
    try:
        yield Trader(key, ex)
    finally:
        await ex.close()


async def test_markets_book_ticker_and_time(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    markets = await ex.load_markets()
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "ETH/BTC", "ETH/USDC"}
    btc = markets[SYMBOL]
    assert (btc["precision"]["price"], btc["precision"]["amount"]) == (0.01, 0.00001)
    assert (btc["limits"]["amount"]["min"], btc["limits"]["cost"]["min"]) == (0.00001, 5)
    book = await ex.fetch_order_book(SYMBOL, 10)
    truth = sim.venue.engine.books[SYMBOL]
    assert book["nonce"] == truth.sequence
    assert [(d(p), d(q)) for p, q in book["bids"]] == truth.bids.levels(10)
    assert [(d(p), d(q)) for p, q in book["asks"]] == truth.asks.levels(10)
    ticker = await ex.fetch_ticker(SYMBOL)
    assert (d(ticker["bid"]), d(ticker["ask"])) == (truth.best_bid(), truth.best_ask())
    assert abs(await ex.fetch_time() - time.time() * 1000) < 5000


async def test_limit_order_lifecycle_and_reservation(trader: Trader) -> None:
    ex = trader.ex
    client_id = f"life{uuid.uuid4().hex[:12]}"
    order = await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50000, {"clientOrderId": client_id})
    assert (order["status"], order["clientOrderId"], order["price"], order["amount"]) == (
        "open",
        client_id,
        50000,
        0.01,
    )
    balance = await ex.fetch_balance()
    assert (balance["USDT"]["used"], balance["USDT"]["free"]) == (500, 1_000_000 - 500)
    assert (await ex.fetch_order(order["id"], SYMBOL))["status"] == "open"
    by_client_id = await ex.fetch_order(None, SYMBOL, {"clientOrderId": client_id})
    assert by_client_id["id"] == order["id"]
    assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [order["id"]]
    canceled = await ex.cancel_order(order["id"], SYMBOL)
    assert canceled["status"] == "canceled"
    assert (await ex.fetch_order(order["id"], SYMBOL))["status"] == "canceled"
    balance = await ex.fetch_balance()
    assert (balance["USDT"]["used"], balance["USDT"]["free"]) == (0, 1_000_000)
    assert await ex.fetch_open_orders(SYMBOL) == []


async def test_market_ioc_post_only_fees_and_conservation(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    engine = sim.venue.engine
    totals = engine.balances.totals()
    book = engine.books[SYMBOL]
    best_ask, first_size = book.asks.levels(1)[0]

    bought = await ex.create_order(SYMBOL, "market", "buy", 0.01)
    assert (bought["status"], bought["filled"], d(bought["average"])) == ("closed", 0.01, best_ask)
    assert bought["fee"] == {"currency": "BTC", "cost": 0.00001}  # 0.1 %, in the asset received

    level_price, level_size = book.asks.levels(1)[0]
    ioc = await ex.create_order(
        SYMBOL, "limit", "buy", float(level_size + Decimal("0.001")), float(level_price), {"timeInForce": "IOC"}
    )
    assert (ioc["status"], d(ioc["filled"])) == ("expired", level_size)

    with pytest.raises(ccxt.OrderImmediatelyFillable):
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, float(book.best_ask()), {"postOnly": True})
    maker = await ex.create_order(SYMBOL, "limit", "buy", 0.01, 40000, {"postOnly": True})
    assert maker["status"] == "open" and maker["postOnly"] is True
    assert maker["info"]["type"] == "LIMIT_MAKER"

    trades = await ex.fetch_my_trades(SYMBOL)
    assert len(trades) == 2 and all(t["fee"]["currency"] == "BTC" and t["takerOrMaker"] == "taker" for t in trades)
    got = sum(d(t["amount"]) - d(t["fee"]["cost"]) for t in trades)
    spent = sum(d(t["cost"]) for t in trades)
    balance = await ex.fetch_balance()
    assert d(balance["BTC"]["total"]) == 10 + got
    assert d(balance["USDT"]["total"]) == 1_000_000 - spent
    assert d(balance["USDT"]["used"]) == 400  # the resting post-only order
    assert engine.balances.totals() == totals  # every fee went to the venue, nothing created or lost
    assert first_size > Decimal("0.01")


async def test_errors_map_to_ccxt_exceptions(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        await ex.create_order(SYMBOL, "limit", "buy", 100, 50000)
    with pytest.raises(ccxt.OrderNotFound):
        await ex.fetch_order("123", SYMBOL)
    with pytest.raises(ccxt.OrderNotFound):
        await ex.cancel_order("123", SYMBOL)
    # ccxt rounds to precision before sending, so off-step sizes and off-tick prices go raw.
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        await ex.private_post_order({**order, "quantity": "0.000011", "price": "50000"})
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        await ex.private_post_order({**order, "quantity": "0.001", "price": "50000.001"})
    # -1013 NOTIONAL: ccxt maps the code to BadRequest unless the host is api.binance.com.
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await ex.create_order(SYMBOL, "limit", "buy", 0.0001, 10000)
    with pytest.raises(ccxt.BadSymbol):
        await ex.public_get_depth({"symbol": "DOGEUSDT"})
    with pytest.raises(ccxt.InvalidNonce):  # -1021: outside recvWindow
        await ex.private_get_account({"timestamp": int(time.time() * 1000) - 120_000})
    for api_key, secret in ((trader.key.api_key, "wrong-secret"), ("no-such-key", "x")):
        stranger = ccxt_client("binance", sim.rest_url, sim.ws_url, api_key=api_key, secret=secret)
        try:
            with pytest.raises(ccxt.AuthenticationError):
                await stranger.fetch_balance()
        finally:
            await stranger.close()


async def test_rate_limits_429_then_418(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    await set_rate_limits(sim.rest_url, request_weight=20, weight_window_s=2, ban_after=2, ban_s=1)
    seen: list[int] = []
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(60):
                async with session.get(
                    sim.rest_url + "/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "5"}
                ) as resp:
                    seen.append(resp.status)
                    if resp.status in (429, 418):
                        assert int(resp.headers["Retry-After"]) >= 1
                        assert (await resp.json())["code"] == -1003
                    if resp.status == 418:
                        break
        assert 429 in seen and seen[-1] == 418, seen
        with pytest.raises(ccxt.DDoSProtection):  # ccxt's binance raises DDoSProtection for both 429 and 418
            await ex.fetch_order_book(SYMBOL, 5)
        await set_rate_limits(sim.rest_url, reset=True)
        await set_rate_limits(sim.rest_url, orders=2, orders_window_s=2)
        statuses = []
        for _ in range(6):
            try:
                await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30000)
                statuses.append("ok")
            except ccxt.DDoSProtection as exc:
                statuses.append("limited")
                assert "-1015" in str(exc)
        assert "limited" in statuses
    finally:
        await set_rate_limits(sim.rest_url, reset=True)
        await ex.cancel_all_orders(SYMBOL)


async def test_lost_order_response_leaves_exactly_one_order(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    client_id = f"lost{uuid.uuid4().hex[:12]}"
    await set_faults(sim.rest_url, lose_next_order_response=1)
    with pytest.raises(ccxt.NetworkError):
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 45000, {"clientOrderId": client_id})
    found = await ex.fetch_order(None, SYMBOL, {"clientOrderId": client_id})
    assert (found["clientOrderId"], found["status"], found["amount"]) == (client_id, "open", 0.01)
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):  # a blind retry is refused, not doubled
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 45000, {"clientOrderId": client_id})
    mine = [o for o in await ex.fetch_open_orders(SYMBOL) if o["clientOrderId"] == client_id]
    assert [o["id"] for o in mine] == [found["id"]]
    faults = await set_faults(sim.rest_url)
    assert faults["faults"]["lose_next_order_response"] == 0 and faults["stats"]["lost_order_responses"] >= 1


async def test_injected_5xx_and_latency(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    try:
        await set_faults(sim.rest_url, error_rate=1.0)
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await ex.fetch_time()
        await set_faults(sim.rest_url, error_rate=0.0, latency_ms=120)
        started = time.monotonic()
        await ex.fetch_time()
        assert time.monotonic() - started >= 0.12
    finally:
        await set_faults(sim.rest_url, reset=True)


async def _in_sync(sim: VenueServer, ex: Any, symbol: str, timeout: float = 5.0) -> None:
    """Once the bot is paused: ccxt's local book reaches the server's sequence and equals its book."""
    truth = sim.venue.engine.books[symbol]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        local = ex.orderbooks.get(symbol)
        if local is not None and local["nonce"] == truth.sequence:
            break
        await asyncio.sleep(0.01)
    local = ex.orderbooks[symbol]
    assert local["nonce"] == truth.sequence
    assert [(d(p), d(q)) for p, q in local["bids"]] == truth.bids.levels()
    assert [(d(p), d(q)) for p, q in local["asks"]] == truth.asks.levels()


async def test_watch_order_book_stays_in_sync_and_resyncs_after_drop(sim: VenueServer) -> None:
    maker = sim.market_maker
    assert maker is not None
    ex = ccxt_client("binance", sim.rest_url, sim.ws_url, pro=True)
    try:
        maker.resume()
        nonces = [(await asyncio.wait_for(ex.watch_order_book(SYMBOL), 5))["nonce"] for _ in range(15)]
        assert nonces == sorted(nonces) and nonces[-1] - nonces[0] >= 14
        await maker.pause()
        await _in_sync(sim, ex, SYMBOL)

        dropped = await set_faults(sim.rest_url, drop_ws=True)
        assert dropped["dropped_websockets"] >= 1
        maker.resume()
        for _ in range(10):  # the first watch may see the drop; ccxt then reconnects and resnapshots
            try:
                book = await asyncio.wait_for(ex.watch_order_book(SYMBOL), 5)
            except ccxt.NetworkError:
                continue
        assert book["nonce"] > nonces[-1]
        await maker.pause()
        await _in_sync(sim, ex, SYMBOL)
    finally:
        await maker.pause()
        await ex.close()


async def test_watch_orders_over_the_websocket_api(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    first = asyncio.create_task(ex.watch_orders(SYMBOL))
    # subscribed through userDataStream.subscribe.signature
    await admin.wait_subscribed(sim.rest_url, f"user:{trader.key.account}")
    order = await ex.create_order(SYMBOL, "limit", "sell", 0.01, 99000)
    update = await asyncio.wait_for(first, 5)
    assert [(o["id"], o["status"]) for o in update] == [(order["id"], "open")]
    taker = sim.add_account(f"taker-{uuid.uuid4().hex[:6]}")
    assert sim.market_maker is not None
    sim.venue.execute(lambda engine: engine.cancel_all("__market_maker__", SYMBOL))  # let the taker reach our ask
    buyer = ccxt_client("binance", sim.rest_url, sim.ws_url, api_key=taker.api_key, secret=taker.secret)
    try:
        await buyer.create_order(SYMBOL, "market", "buy", 0.01)
    finally:
        await buyer.close()
        sim.market_maker.quote(step=0)
    filled = await pushed_order(ex, order["id"], "closed")
    assert (filled["filled"], filled["price"]) == (0.01, 99000)


async def test_raw_streams_listen_key_and_combined(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    listen_key = (await ex.public_post_userdatastream())["listenKey"]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{sim.ws_url}/ws/{listen_key}") as user,
        session.ws_connect(f"{sim.rest_url.replace('http', 'ws')}/stream?streams=btcusdt@trade") as trades,
    ):
        await admin.wait_subscribed(sim.rest_url, f"user:{trader.key.account}")
        await admin.wait_subscribed(sim.rest_url, "btcusdt@trade")
        await ex.create_order(SYMBOL, "market", "buy", 0.001)
        events = [(await user.receive_json(timeout=5))["e"] for _ in range(3)]
        assert events[0] == "executionReport" and "outboundAccountPosition" in events
        wrapped = await trades.receive_json(timeout=5)
        assert wrapped["stream"] == "btcusdt@trade" and wrapped["data"]["e"] == "trade"
        assert (
            isinstance(wrapped["data"]["t"], int) and wrapped["data"]["p"].endswith("0") and "." in wrapped["data"]["p"]
        )


async def test_admin_endpoints(sim: VenueServer) -> None:
    created = await admin.add_account(sim.rest_url, "admin-made", balances={"USDT": "100"})
    assert (await admin.balances(sim.rest_url, api_key=created["api_key"]))["balances"]["USDT"]["free"] == "100"
    ex = ccxt_client(
        "binance", sim.rest_url, sim.ws_url, api_key=created["api_key"], secret=created["secret"], pro=True
    )
    try:
        await ex.load_markets()
        pending = asyncio.create_task(ex.watch_balance())
        await admin.wait_subscribed(sim.rest_url, "user:admin-made")
        credited = await admin.credit(sim.rest_url, "BTC", "0.5", api_key=created["api_key"])
        assert credited["balances"]["BTC"]["free"] == "0.5"
        balance = await asyncio.wait_for(pending, 5)  # balanceUpdate / outboundAccountPosition pushed
        assert balance["BTC"]["free"] == 0.5
    finally:
        await ex.close()
    with pytest.raises(ValueError):
        await admin.credit(sim.rest_url, "BTC", "-5", account="admin-made")  # cannot go below zero
    book = await admin.book(sim.rest_url, SYMBOL, depth=3)
    assert book["sequence"] == sim.venue.engine.books[SYMBOL].sequence and len(book["bids"]) == 3
    state = await admin.state(sim.rest_url)
    assert state["venue"] == "binance" and "admin-made" in state["accounts"]
    assert state["market_maker"]["running"] is False
    maker = await admin.market_maker(sim.rest_url, offset_bps="25")
    try:
        assert sim.market_maker is not None
        assert Decimal(maker["offset_bps"]) == 25
        shifted = sim.market_maker.mid(SYMBOL, 0)
        await admin.market_maker(sim.rest_url, offset_bps="0")
        assert shifted / sim.market_maker.mid(SYMBOL, 0) - 1 == pytest.approx(Decimal("0.0025"), rel=Decimal("0.01"))
    finally:
        await admin.market_maker(sim.rest_url, offset_bps="0")
    reference = sim.venue.profile.reference_prices[SYMBOL]
    await admin.market_maker(sim.rest_url, common_vol_bps="0", venue_vol_bps="0")  # a calm mid: the reference
    try:
        assert sim.market_maker.mid(SYMBOL, 12_345) == reference
    finally:
        await admin.market_maker(sim.rest_url, common_vol_bps="6", venue_vol_bps="1.5")
    with pytest.raises(ValueError, match="common_vol_bps must not be negative"):
        await admin.market_maker(sim.rest_url, common_vol_bps="-1")
    with pytest.raises(ValueError):
        await admin.set_faults(sim.rest_url, error_rate=2)
