"""Unmodified ccxt ``kraken`` (REST and ccxt.pro) against the Kraken spot simulator.

One in-process simulator serves the module; each test trades from its own freshly funded
account. What is Kraken's own: nonce-signed private POSTs, ``AssetPairs`` naming and
precision, ``userref``/``cl_ord_id`` references, error strings, websocket v2 with checksums.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt.async_support as ccxt
import pytest

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.errors import VenueAuthFailed
from connectors.cex.venue import CexVenue
from devnet.anvil import REPO_ROOT
from devnet.cex.auth import ApiKey
from devnet.cex.clients import ccxt_client
from devnet.cex.market_maker import MarketMakerConfig
from devnet.cex.server import VenueServer
from tests.support.cex import pushed_order

pytestmark = pytest.mark.timeout(60)
SYMBOL = "BTC/USDT"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "ccxt-static" / "kraken-response.json"  # see SOURCE.md there


def d(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass
class Trader:
    key: ApiKey
    ex: Any  # ccxt.pro.kraken (REST methods included)


@pytest.fixture(scope="module")
async def sim() -> AsyncIterator[VenueServer]:
    # 12 levels a side, so the checksum's top 10 are all there
    server = VenueServer("kraken", seed=13, market_maker=MarketMakerConfig(interval_s=0.05, levels=12, running=False))
    await server.start()
    assert server.market_maker is not None
    server.market_maker.quote(step=0)
    try:
        yield server
    finally:
        await server.stop()


def client(sim: VenueServer, key: ApiKey | None = None, **overrides: str) -> Any:
    if key is None:
        return ccxt_client("kraken", sim.rest_url, sim.ws_url, pro=True)
    creds = {"api_key": key.api_key, "secret": key.secret, **overrides}
    return ccxt_client("kraken", sim.rest_url, sim.ws_url, pro=True, **creds)


@pytest.fixture
async def trader(sim: VenueServer) -> AsyncIterator[Trader]:
    key = sim.add_account(f"acct-{uuid.uuid4().hex[:8]}")
    ex = client(sim, key)
    try:
        yield Trader(key, ex)
    finally:
        await ex.close()


def signed(key: ApiKey, path: str, params: dict[str, Any], nonce: int) -> tuple[dict[str, str], str]:
    """Headers and body of a private call, signed as Kraken documents it (independently of ccxt)."""
    body = urlencode({"nonce": nonce, **params})
    digest = hashlib.sha256((str(nonce) + body).encode()).digest()
    mac = hmac.new(base64.b64decode(key.secret), path.encode() + digest, hashlib.sha512)
    headers = {
        "API-Key": key.api_key,
        "API-Sign": base64.b64encode(mac.digest()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return headers, body


async def private(sim: VenueServer, key: ApiKey, method: str, params: dict[str, Any], nonce: int) -> Any:
    path = f"/0/private/{method}"
    headers, body = signed(key, path, params, nonce)
    async with aiohttp.ClientSession() as http, http.post(sim.rest_url + path, data=body, headers=headers) as resp:
        return await resp.json()


async def test_markets_use_krakens_names_and_precision(trader: Trader) -> None:
    ex = trader.ex
    markets = await ex.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "BTC/USD", "ETH/USD", "BTC/USDC", "ETH/USDC"} <= set(markets)
    usd = markets["BTC/USD"]
    assert (usd["id"], usd["altname"], usd["wsId"], usd["baseId"]) == ("XXBTZUSD", "XBTUSD", "XBT/USD", "BTC")
    assert (usd["info"]["base"], usd["info"]["quote"]) == ("XXBT", "ZUSD")
    btc = markets[SYMBOL]
    assert (btc["id"], btc["precision"]["price"], btc["precision"]["amount"]) == ("XBTUSDT", 0.1, 1e-08)
    assert (btc["limits"]["amount"]["min"], btc["limits"]["cost"]["min"]) == (0.00005, 0.5)
    assert (btc["maker"], btc["taker"]) == (0.0016, 0.0026)
    currencies = await ex.fetch_currencies()
    assert currencies["BTC"]["id"] == "XXBT" and currencies["USD"]["id"] == "ZUSD"
    assert currencies["BTC"]["precision"] == 1e-10
    book = await ex.fetch_order_book(SYMBOL, 5)
    assert len(book["bids"]) == 5 and book["bids"][0][0] < book["asks"][0][0]
    assert abs(await ex.fetch_time() - time.time() * 1000) < 5_000


async def test_signature_nonce_and_key_are_checked(sim: VenueServer, trader: Trader) -> None:
    key = trader.key
    assert (await private(sim, key, "BalanceEx", {}, 1_000))["error"] == []
    forged = ApiKey(key.api_key, base64.b64encode(b"\x01" * 64).decode(), key.account)
    assert (await private(sim, forged, "BalanceEx", {}, 2_000)) == {"error": ["EAPI:Invalid key"]}
    stranger = ApiKey("unknown-key", key.secret, key.account)
    assert (await private(sim, stranger, "BalanceEx", {}, 2_001)) == {"error": ["EAPI:Invalid key"]}

    # a replayed order (same nonce, same signature) is refused and books nothing
    order = {"pair": "XBTUSDT", "type": "buy", "ordertype": "limit", "volume": "0.001", "price": "20000.0"}
    first = await private(sim, key, "AddOrder", order, 3_000)
    assert first["error"] == [] and len(first["result"]["txid"]) == 1
    assert (await private(sim, key, "AddOrder", order, 3_000)) == {"error": ["EAPI:Invalid nonce"]}
    assert (await private(sim, key, "AddOrder", order, 2_999)) == {"error": ["EAPI:Invalid nonce"]}
    assert len(sim.venue.engine.open_orders(key.account)) == 1

    # the same through ccxt and the connector: a bad secret is an authentication failure
    bad = client(sim, key, secret=base64.b64encode(b"\x02" * 64).decode())
    try:
        with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
            await bad.fetch_balance()
    finally:
        await bad.close()
    config = VenueConfig(name="kraken", exchange="kraken", rest_url=sim.rest_url, enable_rate_limit=False)
    connector = CexVenue(config, ApiCredentials(key.api_key, base64.b64encode(b"\x03" * 64).decode()))
    await connector.start()
    try:
        with pytest.raises(VenueAuthFailed, match="EAPI:Invalid key"):
            await connector.balances()
    finally:
        await connector.close()


async def test_order_errors_are_krakens_strings(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    with pytest.raises(ccxt.InvalidOrder, match="EOrder:Order minimum not met"):
        await ex.create_order(SYMBOL, "limit", "buy", 0.00004, 30000)
    with pytest.raises(ccxt.InsufficientFunds, match="EOrder:Insufficient funds"):
        await ex.create_order(SYMBOL, "limit", "buy", 100, 30000)
    with pytest.raises(ccxt.ExchangeError, match="EOrder:Cost minimum not met"):
        await ex.create_order("ETH/BTC", "limit", "buy", 0.002, 0.001)
    with pytest.raises(ccxt.OrderNotFound, match="EOrder:Unknown order"):
        await ex.cancel_order("OAAAAA-AAAAA-AAAAAA", SYMBOL)
    with pytest.raises(ccxt.ExchangeError, match="EQuery:Unknown asset pair"):
        await ex.publicGetDepth({"pair": "DOGEEUR"})
    refused = await private(
        sim,
        trader.key,
        "AddOrder",
        {"pair": "XBTUSDT", "type": "buy", "ordertype": "limit", "volume": "0.001", "price": "30000.05"},
        10**13,
    )
    assert refused == {"error": ["EOrder:Invalid price:XBTUSDT price can only be specified up to 1 decimals."]}
    assert sim.venue.engine.open_orders(trader.key.account) == []


async def test_userref_and_cl_ord_id_find_and_cancel_orders(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    first = await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30000, {"userref": 77})
    second = await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30100, {"userref": 77})
    other = await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30200, {"clientOrderId": "hedge-1"})
    assert first["status"] is None and first["clientOrderId"] is None  # AddOrder answers ids only
    tagged = await ex.fetch_open_orders(SYMBOL, params={"userref": 77})
    assert sorted(o["id"] for o in tagged) == sorted([first["id"], second["id"]])
    assert {o["clientOrderId"] for o in tagged} == {"77"}
    by_client = await ex.fetch_open_orders(SYMBOL, params={"clientOrderId": "hedge-1"})
    assert [(o["id"], o["clientOrderId"], o["price"]) for o in by_client] == [(other["id"], "hedge-1", 30200)]
    with pytest.raises(ccxt.ExchangeError, match="cl_ord_id"):  # unique among open orders
        await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30300, {"clientOrderId": "hedge-1"})
    with pytest.raises(ccxt.ExchangeError, match="EGeneral:Invalid arguments:userref"):
        await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30300, {"userref": 2**31})
    with pytest.raises(ccxt.ExchangeError, match="EGeneral:Invalid arguments:cl_ord_id"):  # text: 18 at most
        await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30300, {"clientOrderId": "x" * 19})
    uuid_id = str(uuid.uuid4())
    assert (await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30300, {"clientOrderId": uuid_id}))["id"]
    await ex.cancel_order(None, SYMBOL, {"clientOrderId": uuid_id})

    assert (await ex.cancel_order(None, SYMBOL, {"userref": 77}))["info"]["result"] == {"count": 2}
    assert (await ex.cancel_order(None, SYMBOL, {"clientOrderId": "hedge-1"}))["info"]["result"] == {"count": 1}
    assert await ex.fetch_open_orders(SYMBOL) == []
    closed = {o["id"]: o for o in await ex.fetch_closed_orders(SYMBOL)}
    assert {closed[o["id"]]["status"] for o in (first, second, other)} == {"canceled"}
    assert closed[other["id"]]["info"]["reason"] == "User requested"
    again = await ex.create_order(SYMBOL, "limit", "buy", 0.001, 30300, {"clientOrderId": "hedge-1"})
    assert (await ex.fetch_order(again["id"]))["clientOrderId"] == "hedge-1"  # free again once closed
    await ex.cancel_order(again["id"])


async def test_fills_fees_and_balances(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    engine = sim.venue.engine
    totals = engine.balances.totals()
    best_ask = engine.books[SYMBOL].best_ask()
    bought = await ex.fetch_order((await ex.create_order(SYMBOL, "market", "buy", 0.01))["id"])
    assert (bought["status"], bought["filled"], d(bought["average"])) == ("closed", 0.01, best_ask)
    fee = d("0.01") * d("0.0026")  # taker, charged in the asset received (oflags fcib)
    assert (bought["fee"]["currency"], d(bought["fee"]["cost"])) == ("BTC", fee)
    assert len(bought["trades"]) == 1
    trades = await ex.fetch_my_trades(SYMBOL)
    assert [(t["order"], t["takerOrMaker"], d(t["price"])) for t in trades] == [(bought["id"], "taker", best_ask)]
    balance = await ex.fetch_balance()
    assert d(balance["BTC"]["total"]) == 10 + d("0.01") - fee
    assert d(balance["USDT"]["total"]) == 1_000_000 - best_ask * d("0.01")
    resting = await ex.create_order(SYMBOL, "limit", "buy", 0.01, 40000, {"postOnly": True})
    assert d((await ex.fetch_balance())["USDT"]["used"]) == 400
    crossing = await ex.create_order(
        SYMBOL, "limit", "buy", 0.01, float(engine.books[SYMBOL].best_ask()), {"postOnly": True}
    )
    crossed = await ex.fetch_order(crossing["id"])  # accepted, then canceled: it would have taken
    assert (crossed["status"], crossed["filled"], crossed["info"]["reason"]) == ("canceled", 0, "Post only order")
    await ex.cancel_order(resting["id"])
    assert engine.balances.totals() == totals


def kraken_checksum(asks: list[list[Any]], bids: list[list[Any]], price_decimals: int, lot_decimals: int) -> int:
    """Kraken v2's checksum of a client's book, computed here from its definition."""

    def part(value: Any, places: int) -> str:
        return f"{d(value):.{places}f}".replace(".", "").lstrip("0")

    text = "".join(part(p, price_decimals) + part(q, lot_decimals) for p, q, *_ in asks[:10] + bids[:10])
    return zlib.crc32(text.encode())


async def test_book_channel_updates_keep_a_checksummed_top_ten(sim: VenueServer, trader: Trader) -> None:
    """ccxt.pro's kraken builds its book from the v2 ``book`` channel; after every update the
    book it holds hashes to the checksum the venue sent, and equals the venue's own top 10."""
    ex = client(sim)
    seen: list[tuple[str, int]] = []
    handle = ex.handle_order_book

    def recording(client_: Any, message: dict[str, Any]) -> None:
        handle(client_, message)
        data = message["data"][0]
        book = ex.orderbooks[data["symbol"]]
        ours = kraken_checksum(book["asks"], book["bids"], 1, 8)
        seen.append((message["type"], data["checksum"] - ours))

    ex.handle_order_book = recording
    try:
        book = await asyncio.wait_for(ex.watch_order_book(SYMBOL, 10), 5)
        assert seen == [("snapshot", 0)]
        # trade through the top and add inside the spread: levels leave and enter the top 10
        top_ask = sim.venue.engine.books[SYMBOL].best_ask()
        await trader.ex.create_order(SYMBOL, "market", "buy", 0.1)
        await trader.ex.create_order(SYMBOL, "limit", "sell", 0.002, float(top_ask - Decimal("0.1")))
        sim.market_maker.quote(step=7)
        sim.market_maker.quote(step=8)
        truth = sim.venue.engine.books[SYMBOL]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and [(d(p), d(q)) for p, q in book["asks"][:10]] != truth.asks.levels(10):
            book = await asyncio.wait_for(ex.watch_order_book(SYMBOL, 10), 5)
        assert [(d(p), d(q)) for p, q in book["asks"]] == truth.asks.levels(10)
        assert [(d(p), d(q)) for p, q in book["bids"]] == truth.bids.levels(10)
        assert len(seen) > 3 and {kind for kind, _ in seen[1:]} == {"update"}
        assert all(delta == 0 for _, delta in seen), seen
        # ccxt's own routine (crc32 of format_number over the fixed-decimal strings) agrees
        text = "".join(
            ex.format_number(f"{d(p):.1f}") + ex.format_number(f"{d(q):.8f}")
            for p, q, *_ in book["asks"][:10] + book["bids"][:10]
        )
        assert ex.crc32(text, False) == kraken_checksum(book["asks"], book["bids"], 1, 8)
    finally:
        await ex.close()


async def test_book_subscription_errors(sim: VenueServer) -> None:
    ex = client(sim)
    try:
        with pytest.raises(ccxt.NotSupported):  # Kraken v2 offers depths 10, 25, 100, 500, 1000 only
            await ex.watch_order_book(SYMBOL, 20)
        async with aiohttp.ClientSession() as http, http.ws_connect(sim.rest_url + "/v2") as ws:
            assert (await ws.receive_json())["channel"] == "status"
            await ws.send_json(
                {"method": "subscribe", "params": {"channel": "book", "symbol": ["XBT/EUR"]}, "req_id": 5}
            )
            answer = await ws.receive_json()
            assert (answer["success"], answer["req_id"]) == (False, 5)
            assert answer["error"] == "Currency pair not supported XBT/EUR"
            await ws.send_json({"method": "ping", "req_id": 6})
            assert (await ws.receive_json())["method"] == "pong"
    finally:
        await ex.close()


async def test_executions_push_orders_after_token(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    watching = asyncio.ensure_future(ex.watch_orders(SYMBOL))
    deadline = time.monotonic() + 5
    while f"executions:{trader.key.account}" not in sim.venue.subscriptions.snapshot():
        assert time.monotonic() < deadline, "executions subscription never registered"
        await asyncio.sleep(0.01)
    order = await ex.create_order(SYMBOL, "limit", "buy", 0.001, 31000, {"userref": 5})
    opened = await pushed_order(ex, order["id"], "open")
    assert (opened["symbol"], opened["side"], opened["clientOrderId"], d(opened["price"])) == (
        SYMBOL,
        "buy",
        "5",
        31000,
    )
    await ex.cancel_order(order["id"])
    canceled = await pushed_order(ex, order["id"], "canceled")
    assert canceled["info"]["reason"] == "User requested"
    best_ask = sim.venue.engine.books[SYMBOL].best_ask()
    taken = await ex.create_order(SYMBOL, "market", "buy", 0.001)
    deadline = time.monotonic() + 5
    while not [t for t in ex.myTrades or [] if t["order"] == taken["id"]]:  # exec_type "trade" rows
        assert time.monotonic() < deadline, "no trade execution pushed"
        await asyncio.sleep(0.01)
    (fill,) = [t for t in ex.myTrades if t["order"] == taken["id"]]
    assert (fill["symbol"], fill["side"], fill["takerOrMaker"], d(fill["price"])) == (SYMBOL, "buy", "taker", best_ask)
    assert d(fill["amount"]) == Decimal("0.001") and fill["fee"]["currency"] == "BTC"
    assert (await pushed_order(ex, taken["id"], "closed"))["info"]["exec_type"] == "filled"  # after the trade
    watching.cancel()


async def test_lost_placement_is_found_once_by_cl_ord_id(sim: VenueServer, trader: Trader) -> None:
    ex = trader.ex
    await ex.load_markets()
    from devnet.cex.admin_client import set_faults

    await set_faults(sim.rest_url, lose_next_order_response=1)
    with pytest.raises(ccxt.NetworkError):
        await ex.create_order(SYMBOL, "limit", "buy", 0.001, 32000, {"clientOrderId": "lost-1"})
    mine = await ex.fetch_open_orders(SYMBOL, params={"clientOrderId": "lost-1"})
    assert len(mine) == 1
    with pytest.raises(ccxt.ExchangeError, match="cl_ord_id"):  # a blind retry is refused, never doubled
        await ex.create_order(SYMBOL, "limit", "buy", 0.001, 32000, {"clientOrderId": "lost-1"})
    assert [o["id"] for o in await ex.fetch_open_orders(SYMBOL)] == [mine[0]["id"]]


# --- fidelity with recorded Kraken answers ------------------------------------------------------

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def kind(value: Any) -> str:
    """A value's kind as Kraken's JSON and ccxt's recordings both spell it: recordings keep numbers
    as strings and Kraken's own decimals vary by field, so any number is a number."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        return "number"
    return type(value).__name__


def differences(ours: Any, theirs: Any, path: str = "$") -> list[str]:
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: expected an object, got {kind(ours)}"]
        out = [f"{path}.{k}: missing" for k in theirs if k not in ours]
        out += [f"{path}.{k}: not in the recording" for k in ours if k not in theirs]
        return out + [x for k in theirs.keys() & ours.keys() for x in differences(ours[k], theirs[k], f"{path}.{k}")]
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{path}: expected an array, got {kind(ours)}"]
        if not theirs or not ours:
            return []
        if all(not isinstance(t, dict | list) for t in theirs):  # a tuple-like row: position by position
            return [
                x for i, (o, t) in enumerate(zip(ours, theirs, strict=False)) for x in differences(o, t, f"{path}[{i}]")
            ]
        return [x for i, item in enumerate(ours) for x in differences(item, theirs[0], f"{path}[{i}]")]
    if kind(ours) != kind(theirs) and "null" not in (kind(ours), kind(theirs)) and None not in (ours, theirs):
        return [f"{path}: {ours!r} is {kind(ours)}, recorded {theirs!r} is {kind(theirs)}"]
    return []


def recorded(method: str, description: str) -> dict[str, Any]:
    cases = json.loads(FIXTURES.read_text())["methods"][method]
    return next(c for c in cases if c["description"] == description)


async def test_answers_have_the_recorded_shapes(sim: VenueServer, trader: Trader) -> None:
    """Each recorded Kraken answer is compared with ours for the same scenario: the same keys at
    every level, values of the same kind; ccxt's parse of ours fills the fields the recording's does."""
    ex = trader.ex
    await ex.load_markets()
    bodies: list[str] = []
    fetch = ex.fetch

    async def keeping(*args: Any, **kwargs: Any) -> Any:
        result = await fetch(*args, **kwargs)
        bodies.append(ex.last_http_response)
        return result

    ex.fetch = keeping
    placed = await ex.create_order(SYMBOL, "market", "buy", 0.001)
    post = await ex.create_order(SYMBOL, "limit", "buy", 0.001, 40000, {"postOnly": True})
    scenarios = [
        ("createOrder", "create order", placed, lambda: None),
        ("fetchOrder", "fetch spot limit order", None, lambda: ex.fetch_order(post["id"])),
        ("fetchOrder", "closed market order", None, lambda: ex.fetch_order(placed["id"])),
        ("fetchOpenOrders", "open take-profit market order", None, lambda: ex.fetch_open_orders()),
        ("fetchTicker", "public spot ticker", None, lambda: ex.fetch_ticker(SYMBOL)),
        ("fetchTrades", "spot trade", None, lambda: ex.fetch_trades(SYMBOL, None, 1)),
    ]
    problems: list[str] = []
    for method, description, parsed, call in scenarios:
        case = recorded(method, description)
        if parsed is None:
            parsed = await call()
            body = json.loads(bodies[-1])
        else:
            body = json.loads(bodies[0])
        theirs = case["httpResponse"]
        if method in ("fetchOrder",):  # one order, under its own txid
            body = {"error": [], "result": {"ID": next(iter(body["result"].values()))}}
            theirs = {"error": [], "result": {"ID": next(iter(theirs["result"].values()))}}
        elif method == "fetchOpenOrders":
            body = {"error": [], "result": {"open": {"ID": next(iter(body["result"]["open"].values()))}}}
            theirs = {"error": [], "result": {"open": {"ID": next(iter(theirs["result"]["open"].values()))}}}
        problems += [f"{method} '{description}': {x}" for x in differences(body, theirs)]
        ours = parsed[0] if isinstance(parsed, list) else parsed
        want = case["parsedResponse"][0] if isinstance(case["parsedResponse"], list) else case["parsedResponse"]
        problems += [
            f"{method} '{description}': ccxt parsed no {k}"
            for k, v in want.items()
            if v is not None and v != [] and ours.get(k) is None and k not in ("takeProfitPrice", "stopPrice")
        ]
    await ex.cancel_order(post["id"])
    assert problems == []


async def test_fast_path_consolidated_book_follows_kraken_beside_binance(sim: VenueServer) -> None:
    """The fast path's feed (``follow_book``, ccxt.pro, the venue profile's depth) copies Kraken's
    v2 book into the consolidated book next to Binance's, level for level."""
    from connectors.cex.factory import build_exchange
    from crosslane.routing import ConsolidatedBook
    from workers.fastpath.engine import venue_market
    from workers.fastpath.feeds import DEPTH, follow_book

    async with VenueServer("binance", market_maker=MarketMakerConfig(running=False)) as binance:
        assert binance.market_maker is not None
        binance.market_maker.quote(step=0)
        servers = {"kraken": sim, "binance": binance}
        venues = {
            name: CexVenue(
                VenueConfig(name=name, exchange=name, rest_url=s.rest_url, ws_url=s.ws_url, enable_rate_limit=False),
                None,
            )
            for name, s in servers.items()
        }
        pros = [build_exchange(v.config, None, pro=True) for v in venues.values()]
        tasks: list[asyncio.Task[None]] = []
        try:
            await asyncio.gather(*(v.start() for v in venues.values()))
            book = ConsolidatedBook.covering(SYMBOL, [venue_market(v, SYMBOL) for v in venues.values()])
            for pro, (name, venue) in zip(pros, venues.items(), strict=True):
                tasks.append(asyncio.create_task(follow_book(pro, SYMBOL, book, name, venue.health)))

            def matches() -> bool:
                return all(
                    book.book(name).depth(True, DEPTH) == s.venue.engine.books[SYMBOL].bids.levels(DEPTH)
                    and book.book(name).depth(False, DEPTH) == s.venue.engine.books[SYMBOL].asks.levels(DEPTH)
                    for name, s in servers.items()
                )

            deadline = time.monotonic() + 10
            while not matches():
                assert time.monotonic() < deadline, "the consolidated book never held both venues' books"
                await asyncio.sleep(0.02)
            assert set(book.venues) == {"kraken", "binance"}
            assert not venues["kraken"].health.book_stale and venues["kraken"].health.ws_reconnects == 0
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for closing in [*pros, *venues.values()]:
                await closing.close()


async def test_book_resyncs_from_a_fresh_snapshot_after_a_dropped_socket(sim: VenueServer) -> None:
    from devnet.cex.admin_client import set_faults

    ex = client(sim)
    truth = sim.venue.engine.books[SYMBOL]

    async def in_sync() -> None:
        deadline = time.monotonic() + 5
        while True:
            try:
                book = await asyncio.wait_for(ex.watch_order_book(SYMBOL, 25), 5)
            except ccxt.NetworkError:  # the dropped socket, seen by this watch
                continue
            if [(d(p), d(q)) for p, q in book["bids"]] == truth.bids.levels(25) and [
                (d(p), d(q)) for p, q in book["asks"]
            ] == truth.asks.levels(25):
                return
            assert time.monotonic() < deadline, "the book never matched the venue's"
            sim.market_maker.quote(step=int(time.monotonic() * 10))  # an update to wake the watch

    try:
        await in_sync()
        await set_faults(sim.rest_url, drop_ws=True)
        sim.market_maker.quote(step=99)  # changes the book while no socket is there to hear it
        await in_sync()
    finally:
        await ex.close()


async def test_connector_reads_back_one_order_not_the_whole_list(sim: VenueServer) -> None:
    """Kraken acknowledges a placement with ids only; the connector reads it back asking OpenOrders
    for our cl_ord_id, so the answer holds that order alone however many others are open."""
    from connectors.cex.client_order_id import client_order_id

    key = sim.add_account(f"acct-{uuid.uuid4().hex[:8]}")
    config = VenueConfig(name="kraken", exchange="kraken", rest_url=sim.rest_url, enable_rate_limit=False)
    connector = CexVenue(config, ApiCredentials(key.api_key, key.secret))
    await connector.start()
    try:
        for i in range(5):
            cid = client_order_id(f"readback/{i}")
            placed = await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), Decimal(30000 + i), cid)
            assert placed["status"] == "open" and placed["clientOrderId"] == connector.profile.client_id(cid)
            answer = json.loads(connector.exchange.last_http_response)["result"]["open"]
            assert list(answer) == [placed["id"]], "the read-back names our order only"
    finally:
        await connector.close()
    assert len(sim.venue.engine.open_orders(key.account)) == 5
