"""Unmodified ccxt ``okx`` (REST and ccxt.pro) against the OKX v5 simulator.

One in-process simulator serves the module; each test trades from its own freshly funded
account. Only ``urls['api']`` origins and the spot options differ from production use.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from devnet.anvil import REPO_ROOT
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


def cid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:16]


@dataclass
class Trader:
    key: ApiKey
    ex: Any  # ccxt.pro.okx (REST methods included)


@pytest.fixture(scope="module")
async def sim() -> AsyncIterator[VenueServer]:
    server = VenueServer("okx", seed=11, market_maker=MarketMakerConfig(interval_s=0.05, running=False))
    await server.start()
    assert server.market_maker is not None
    server.market_maker.quote(step=0)
    try:
        yield server
    finally:
        await server.stop()


def client(sim: VenueServer, key: ApiKey | None = None, **overrides: str) -> Any:
    if key is None:
        return ccxt_client("okx", sim.rest_url, sim.ws_url, pro=True)
    creds = {"api_key": key.api_key, "secret": key.secret, "password": key.passphrase, **overrides}
    return ccxt_client("okx", sim.rest_url, sim.ws_url, pro=True, **creds)


@pytest.fixture
async def trader(sim: VenueServer) -> AsyncIterator[Trader]:
    key = sim.add_account(f"acct-{uuid.uuid4().hex[:8]}")
    ex = client(sim, key)
    try:
        yield Trader(key, ex)
    finally:
        await ex.close()


async def test_markets_currencies_book_and_time(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    markets = await ex.load_markets()  # signed /asset/currencies, then /public/instruments?instType=SPOT
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "ETH/BTC", "ETH/USDC"}
    assert {"BTC", "ETH", "SOL", "USDT"} <= set(ex.currencies)
    btc = markets[SYMBOL]
    assert (btc["precision"]["price"], btc["precision"]["amount"], btc["limits"]["amount"]["min"]) == (
        0.1,
        1e-08,
        1e-05,
    )
    book = await ex.fetch_order_book(SYMBOL, 10)
    truth = sim.venue.engine.books[SYMBOL]
    assert [(d(p), d(q)) for p, q, *_ in book["bids"]] == truth.bids.levels(10)
    assert [(d(p), d(q)) for p, q, *_ in book["asks"]] == truth.asks.levels(10)
    assert abs(await ex.fetch_time() - time.time() * 1000) < 5000


async def test_limit_order_lifecycle_and_reservation(trader: Trader) -> None:
    ex = trader.ex
    client_id = cid("life")
    order = await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50000, {"clientOrderId": client_id})
    assert order["clientOrderId"] == client_id and order["id"]
    fetched = await ex.fetch_order(order["id"], SYMBOL)
    assert (fetched["status"], fetched["price"], fetched["amount"], fetched["type"]) == ("open", 50000, 0.01, "limit")
    assert (await ex.fetch_order(None, SYMBOL, {"clientOrderId": client_id}))["id"] == order["id"]
    balance = await ex.fetch_balance()
    assert (balance["USDT"]["used"], balance["USDT"]["free"]) == (500, 1_000_000 - 500)
    assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [order["id"]]
    canceled = await ex.cancel_order(order["id"], SYMBOL)
    assert canceled["id"] == order["id"]
    assert (await ex.fetch_order(order["id"], SYMBOL))["status"] == "canceled"
    balance = await ex.fetch_balance()
    assert (balance["USDT"]["used"], balance["USDT"]["free"]) == (0, 1_000_000)


async def test_market_ioc_post_only_fees_and_conservation(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    engine = sim.venue.engine
    totals = engine.balances.totals()
    book = engine.books[SYMBOL]
    best_ask = book.best_ask()

    bought = await ex.fetch_order((await ex.create_order(SYMBOL, "market", "buy", 0.01))["id"], SYMBOL)
    assert (bought["status"], bought["filled"], d(bought["average"])) == ("closed", 0.01, best_ask)
    assert bought["fee"] == {"currency": "BTC", "cost": 0.00001}  # taker 0.1 %, in the asset received

    level_price, level_size = book.asks.levels(1)[0]
    ioc_id = (
        await ex.create_order(SYMBOL, "limit", "buy", float(level_size + 1), float(level_price), {"timeInForce": "IOC"})
    )["id"]
    ioc = await ex.fetch_order(ioc_id, SYMBOL)
    assert (ioc["status"], d(ioc["filled"]), ioc["info"]["ordType"]) == ("canceled", level_size, "ioc")

    crossing = await ex.create_order(SYMBOL, "limit", "buy", 0.01, float(book.best_ask()), {"postOnly": True})
    crossed = await ex.fetch_order(crossing["id"], SYMBOL)  # OKX accepts, then cancels it (cancelSource 31)
    assert (crossed["status"], crossed["filled"], crossed["info"]["cancelSource"]) == ("canceled", 0, "31")
    maker = await ex.fetch_order(
        (await ex.create_order(SYMBOL, "limit", "buy", 0.01, 40000, {"postOnly": True}))["id"], SYMBOL
    )
    assert (maker["status"], maker["postOnly"]) == ("open", True)

    trades = await ex.fetch_my_trades(SYMBOL)
    assert len(trades) == 2 and all(t["fee"]["currency"] == "BTC" and t["takerOrMaker"] == "taker" for t in trades)
    got = sum(d(t["amount"]) - d(t["fee"]["cost"]) for t in trades)
    spent = sum(d(t["price"]) * d(t["amount"]) for t in trades)
    balance = await ex.fetch_balance()
    assert d(balance["BTC"]["total"]) == 10 + got
    assert d(balance["USDT"]["total"]) == 1_000_000 - spent
    assert d(balance["USDT"]["used"]) == 400
    assert engine.balances.totals() == totals


async def test_errors_map_to_ccxt_exceptions(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        await ex.create_order(SYMBOL, "limit", "buy", 100, 50000)
    with pytest.raises(ccxt.OrderNotFound):
        await ex.fetch_order("123", SYMBOL)
    with pytest.raises(ccxt.OrderNotFound):
        await ex.cancel_order("123", SYMBOL)
    order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "50000"}
    with pytest.raises(ccxt.InvalidOrder):  # 51020: below minSz
        await ex.private_post_trade_order({**order, "sz": "0.000001"})
    with pytest.raises(ccxt.InvalidOrder):  # 51121: not a multiple of lotSz
        await ex.private_post_trade_order({**order, "sz": "0.000010001"})
    with pytest.raises(ccxt.BadSymbol):
        await ex.public_get_market_books({"instId": "DOGE-USDT"})
    for overrides in ({"secret": "wrong"}, {"password": "wrong"}, {"api_key": "no-such-key"}):
        stranger = client(sim, trader.key, **overrides)
        try:
            with pytest.raises(ccxt.AuthenticationError):
                await stranger.fetch_balance()
        finally:
            await stranger.close()


async def test_rate_limit_429(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    await set_rate_limits(sim.rest_url, request_weight=5, weight_window_s=2)
    try:
        with pytest.raises(ccxt.RateLimitExceeded):
            for _ in range(30):
                await ex.fetch_balance()
        async with aiohttp.ClientSession() as session:
            for _ in range(30):
                async with session.get(sim.rest_url + "/api/v5/market/books", params={"instId": "BTC-USDT"}) as resp:
                    if resp.status == 429:
                        assert int(resp.headers["Retry-After"]) >= 1
                        assert (await resp.json())["code"] == "50011"
                        break
            else:
                pytest.fail("never limited")
    finally:
        await set_rate_limits(sim.rest_url, reset=True)


async def test_lost_order_response_leaves_exactly_one_order(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    client_id = cid("lost")
    await set_faults(sim.rest_url, lose_next_order_response=1)
    with pytest.raises(ccxt.NetworkError):
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 45000, {"clientOrderId": client_id})
    found = await ex.fetch_order(None, SYMBOL, {"clientOrderId": client_id})
    assert (found["clientOrderId"], found["status"]) == (client_id, "open")
    with pytest.raises(ccxt.InvalidOrder):  # 51016 duplicated clOrdId: a blind retry is refused
        await ex.create_order(SYMBOL, "limit", "buy", 0.01, 45000, {"clientOrderId": client_id})
    mine = [o for o in await ex.fetch_open_orders(SYMBOL) if o["clientOrderId"] == client_id]
    assert [o["id"] for o in mine] == [found["id"]]


async def _in_sync(sim: VenueServer, ex: Any, symbol: str, timeout: float = 5.0) -> None:
    truth = sim.venue.engine.books[symbol]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        local = ex.orderbooks.get(symbol)
        if local is not None and local["nonce"] == truth.sequence:
            break
        await asyncio.sleep(0.01)
    local = ex.orderbooks[symbol]
    assert local["nonce"] == truth.sequence
    assert [(d(p), d(q)) for p, q, *_ in local["bids"]] == truth.bids.levels(400)
    assert [(d(p), d(q)) for p, q, *_ in local["asks"]] == truth.asks.levels(400)


async def test_watch_order_book_stays_in_sync_and_resyncs_after_drop(sim: VenueServer) -> None:
    maker = sim.market_maker
    assert maker is not None
    ex = client(sim)
    try:
        maker.resume()
        nonces = [(await asyncio.wait_for(ex.watch_order_book(SYMBOL), 5))["nonce"] for _ in range(15)]
        assert nonces == sorted(nonces) and nonces[-1] - nonces[0] >= 14
        await maker.pause()
        await _in_sync(sim, ex, SYMBOL)
        await set_faults(sim.rest_url, drop_ws=True)
        maker.resume()
        for _ in range(10):
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


def _okx_checksum(bids: dict[str, str], asks: dict[str, str]) -> int:
    """OKX's documented algorithm, written independently of the simulator's."""
    top_bids = sorted(bids.items(), key=lambda kv: -Decimal(kv[0]))[:25]
    top_asks = sorted(asks.items(), key=lambda kv: Decimal(kv[0]))[:25]
    parts: list[str] = []
    for i in range(25):
        if i < len(top_bids):
            parts += list(top_bids[i])
        if i < len(top_asks):
            parts += list(top_asks[i])
    value = zlib.crc32(":".join(parts).encode())
    return value - 2**32 if value >= 2**31 else value


async def test_books_channel_checksums_and_sequence(sim: VenueServer) -> None:
    maker = sim.market_maker
    assert maker is not None
    bids: dict[str, str] = {}
    asks: dict[str, str] = {}
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{sim.ws_url}/ws/v5/public") as ws:
        await ws.send_str(json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}))
        assert (await ws.receive_json(timeout=5))["event"] == "subscribe"
        maker.resume()
        try:
            previous = None
            for _ in range(30):
                message = await ws.receive_json(timeout=5)
                data = message["data"][0]
                if message["action"] == "snapshot":
                    assert data["prevSeqId"] == -1
                else:
                    assert data["prevSeqId"] == previous
                previous = data["seqId"]
                for side, levels in ((bids, data["bids"]), (asks, data["asks"])):
                    for price, size, _, _ in levels:
                        if Decimal(size) == 0:
                            side.pop(price, None)
                        else:
                            side[price] = size
                assert data["checksum"] == _okx_checksum(bids, asks)
        finally:
            await maker.pause()
        await ws.send_str("ping")
        while (reply := await ws.receive(timeout=5)).data != "pong":
            assert reply.type == aiohttp.WSMsgType.TEXT


async def test_watch_orders_after_login(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    pending = asyncio.create_task(ex.watch_orders(SYMBOL))
    await admin.wait_subscribed(sim.rest_url, f"orders:{trader.key.account}")  # login, then the orders channel
    order = await ex.create_order(SYMBOL, "limit", "sell", 0.01, 99000)
    update = await asyncio.wait_for(pending, 5)
    assert [(o["id"], o["status"]) for o in update] == [(order["id"], "open")]
    await ex.cancel_order(order["id"], SYMBOL)
    await pushed_order(ex, order["id"], "canceled")


def _recorded_request(method: str, description: str) -> dict[str, Any]:
    """The body ccxt sent for a recorded call (tests/fixtures/ccxt-static/okx-request.json, see SOURCE.md)."""
    data = json.loads((REPO_ROOT / "tests" / "fixtures" / "ccxt-static" / "okx-request.json").read_text())
    case = next(c for c in data["methods"][method] if c["description"] == description)
    return json.loads(case["output"])[0]  # type: ignore[no-any-return]


async def test_market_sell_by_cost_sells_until_the_quote_amount(sim: VenueServer, trader: Trader) -> None:
    """``tgtCcy: quote_ccy`` on a market sell: ``sz`` is the USDT to receive, as ccxt's
    ``create_market_sell_order_with_cost`` sends it (its recorded request: same keys)."""
    ex = trader.ex
    await ex.load_markets()
    engine = sim.venue.engine
    totals = engine.balances.totals()
    sent: list[dict[str, Any]] = []
    original = ex.fetch2

    async def spy(path: str, api: Any = "public", method: str = "GET", params: Any = None, *rest: Any) -> Any:
        if path in ("trade/order", "trade/batch-orders"):
            sent.append(params)
        return await original(path, api, method, params, *rest)

    ex.fetch2 = spy
    placed = await ex.create_market_sell_order_with_cost(SYMBOL, 500)
    recorded = _recorded_request("createMarketSellOrderWithCost", "Market sell")
    body = sent[0][0] if isinstance(sent[0], list) else sent[0]
    assert (body["tgtCcy"], body["sz"], body["side"], body["ordType"]) == ("quote_ccy", "500", "sell", "market")
    assert {k for k in recorded if k not in ("clOrdId", "tag")} <= set(body)
    order = await ex.fetch_order(placed["id"], SYMBOL)
    info = order["info"]
    assert (info["tgtCcy"], info["sz"], info["side"], order["status"]) == ("quote_ccy", "500", "sell", "closed")
    fills = [f for f in engine.fills(trader.key.account, SYMBOL) if str(f.order_id) == placed["id"]]
    sold = sum((f.trade.quantity for f in fills), Decimal(0))
    received = sum((f.trade.quote_quantity for f in fills), Decimal(0))
    assert fills and d(info["accFillSz"]) == sold
    assert received <= 500 and 500 - received < fills[-1].trade.price * Decimal("0.00000001")  # one more step: > 500
    wallets = engine.wallets(trader.key.account)
    assert wallets["BTC"].total == 10 - sold and wallets["BTC"].locked == 0
    assert wallets["USDT"].total == 1_000_000 + received + d(info["fee"])  # OKX's fee is negative
    assert engine.balances.totals() == totals


async def test_endpoints_it_does_not_serve_answer_in_okx_envelope(sim: VenueServer, trader: Trader) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(sim.rest_url + "/api/v5/public/no-such-endpoint") as resp:
            assert (resp.status, resp.content_type) == (410, "application/json")
            assert await resp.json() == {"code": "50005", "msg": "API is offline or unavailable.", "data": []}
        async with session.post(sim.rest_url + "/api/v5/public/time", json={}) as resp:  # a GET-only path
            assert resp.status == 400
            assert await resp.json() == {"code": "50115", "msg": "Invalid request method.", "data": []}
    with pytest.raises(ccxt.ExchangeNotAvailable, match="50005"):  # ccxt reads OKX's code, not an HTTP 404
        await trader.ex.private_get_account_positions({"instType": "SWAP"})
