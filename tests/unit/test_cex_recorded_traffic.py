"""Every seed venue's requests and answers as ccxt recorded them against the real venues
(``tests/fixtures/ccxt-static``), replayed through ccxt and our adapter: the client id goes
out in the venue's own field and format, find and cancel take the venue's route, recorded
balances and books parse to exact decimals, and nothing escapes the error taxonomy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from connectors.cex.client_order_id import client_order_id
from connectors.cex.errors import VenueCallFailed
from connectors.cex.profiles import CancelStrategy, FindStrategy
from tests.support.ccxt_replay import path_of, recorded, replay_venue, spot_market

# venue -> (the markets the recordings trade, the venue's own name for our client id)
VENUES: dict[str, tuple[list[dict[str, Any]], str]] = {
    "bybit": (
        [spot_market("ADAUSDT", "ADA/USDT"), spot_market("BTCUSDT", "BTC/USDT"), spot_market("LTCUSDT", "LTC/USDT")],
        "orderLinkId",
    ),
    "gate": ([spot_market("LTC_USDT", "LTC/USDT"), spot_market("BTC_USDT", "BTC/USDT")], "text"),
    "kraken": ([spot_market("LTCUSDT", "LTC/USDT"), spot_market("XBTUSDT", "BTC/USDT")], "cl_ord_id"),
    "kucoin": ([spot_market("LTC-USDT", "LTC/USDT"), spot_market("BTC-USDT", "BTC/USDT")], "clientOid"),
    "htx": ([spot_market("ltcusdt", "LTC/USDT")], "client-order-id"),
    "coinbase": ([spot_market("ADA-USDT", "ADA/USDT"), spot_market("BTC-USDT", "BTC/USDT")], "client_order_id"),
    "bitfinex": (
        [spot_market("tBTCUST", "BTC/USDT", amount_precision=8, price_precision=5)],
        "cid",
    ),
    "deribit": ([spot_market("BTC_USDT", "BTC/USDT")], "label"),
    "bitstamp": ([spot_market("btcusdt", "BTC/USDT")], "client_order_id"),
    "gemini": ([spot_market("btcusdt", "BTC/USDT")], "client_order_id"),
}
# Venues whose balance or book request is recorded but not its answer: the request is checked.
REQUEST_ONLY = [
    ("gate", "fetchBalance"), ("kraken", "fetchBalance"), ("bitfinex", "fetchBalance"), ("bitstamp", "fetchBalance"),
    ("gate", "fetchOrderBook"), ("kraken", "fetchOrderBook"), ("bitfinex", "fetchOrderBook"),
    ("bitstamp", "fetchOrderBook"), ("gemini", "fetchOrderBook"), ("htx", "fetchOrderBook"),
]


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize("name", sorted(set(VENUES) - {"gemini"}))  # no Gemini order is recorded
async def test_place_sends_our_client_id_in_the_venues_field_and_format(name: str) -> None:
    markets, field = VENUES[name]
    venue, transport = replay_venue(name, markets)
    request = recorded(name, "request", "createOrder")
    symbol, order_type, side, amount, *rest = request["input"]
    price = dec(rest[0]) if rest and order_type == "limit" else None
    if name == "bybit":
        transport.answer(path_of(request["url"]), recorded(name, "response", "createOrder")["httpResponse"])
    cid = client_order_id(f"{name}/replay")
    try:
        placed: dict[str, Any] | None = await venue.place(
            symbol, side, order_type, dec(amount), price, cid, reference_price=dec(rest[0]) if rest else Decimal(100)
        )
    except VenueCallFailed as exc:  # no recorded answer for this venue's createOrder
        assert "NotRecorded" in str(exc)
        placed = None
    finally:
        await venue.close()
    sent = transport.sent[0]
    assert sent.path == path_of(request["url"]), "the recorded endpoint"
    venue_id = venue.profile.client_id(cid)
    assert str(sent.fields()[field]) == venue_id, f"{name}: our id goes out as {field}"
    assert venue_id == venue.profile.client_id(cid), "the same id on a retry"
    if placed is not None:
        assert placed["id"] == recorded(name, "response", "createOrder")["parsedResponse"]["id"]
    assert len(transport.to(sent.path)) == 1, "placed once"


def test_venue_client_ids_fit_each_venues_rules() -> None:
    from connectors.cex.profiles import profile_for

    cid = client_order_id("wf-1/step-2")
    assert profile_for("binance").client_id(cid) == cid and profile_for("okx").client_id(cid) == cid
    gate = profile_for("gate").client_id(cid)
    assert gate.startswith("t-") and len(gate) <= 28
    assert 0 < int(profile_for("bitfinex").client_id(cid)) < 2**45
    assert len(profile_for("kraken").client_id(cid)) <= 18
    assert profile_for("gate").client_id(client_order_id("wf-1/step-3")) != gate


@pytest.mark.parametrize("name", ["bybit", "kraken", "kucoin"])
async def test_cancel_by_client_id_names_it_in_the_venues_field(name: str) -> None:
    markets, field = VENUES[name]
    venue, transport = replay_venue(name, markets)
    assert venue.profile.cancel is CancelStrategy.BY_CLIENT_ID
    request = recorded(name, "request", "cancelOrder")
    symbol = request["input"][1] if len(request["input"]) > 1 else "LTC/USDT"
    cid = client_order_id(f"{name}/cancel")
    with pytest.raises(VenueCallFailed, match="NotRecorded"):
        await venue.cancel(symbol, cid)
    await venue.close()
    sent, venue_id = transport.sent[0], venue.profile.client_id(cid)
    recorded_id = request["input"][2]["clientOrderId"] if len(request["input"]) > 2 else None
    expected = path_of(request["url"])  # KuCoin puts the client id in the path
    assert sent.path == (expected.replace(recorded_id, venue_id) if recorded_id else expected)
    assert str(sent.fields().get(field) or sent.path.rsplit("/", 1)[-1]) == venue_id


@pytest.mark.parametrize(
    "lost", [ccxt.RequestTimeout("answer lost"), TypeError("an answer ccxt could not parse")], ids=["timeout", "python"]
)
async def test_gate_lost_placement_is_found_in_open_orders_and_cancelled_by_the_venues_id(lost: Exception) -> None:
    """Gate has no find-by-client-id: after a lost (or unparseable) answer the order is found in
    the recorded open orders (its ``text`` being ours), never sent twice, then cancelled by
    Gate's own id."""
    markets, _ = VENUES["gate"]
    venue, transport = replay_venue("gate", markets)
    cid = client_order_id("gate/lost")
    venue_id = venue.profile.client_id(cid)
    open_orders = recorded("gate", "response", "fetchOpenOrders")["httpResponse"]
    open_orders[0]["orders"][0]["text"] = venue_id  # the recorded open order is the one we placed
    create = path_of(recorded("gate", "request", "createOrder")["url"])
    transport.answer(create, lost)
    transport.answer(path_of(recorded("gate", "request", "fetchOpenOrders")["url"]), open_orders)
    order = await venue.place("BTC/USDT", "sell", "limit", Decimal("0.00009"), Decimal("69662.3"), cid)
    assert order["id"] == "700604309511" and order["clientOrderId"] == venue_id
    assert len(transport.to(create)) == 1, "reconciled to exactly one order, never re-sent blind"
    with pytest.raises(VenueCallFailed, match="NotRecorded"):
        await venue.cancel("BTC/USDT", cid)
    await venue.close()
    cancel = recorded("gate", "request", "cancelOrder")
    assert transport.sent[-1].path == path_of(cancel["url"]).replace(cancel["input"][0], "700604309511")


@pytest.mark.parametrize("name", ["bybit", "kucoin", "coinbase"])
async def test_recorded_balances_parse_to_exact_decimals(name: str) -> None:
    markets, _ = VENUES[name]
    venue, transport = replay_venue(name, markets)
    answer = recorded(name, "response", "fetchBalance")
    path = path_of(recorded(name, "request", "fetchBalance")["url"])
    transport.answer(path, answer["httpResponse"])
    if name == "coinbase":  # the recorded v2 answer: ccxt's v2 accounts endpoint
        transport.answer("/v2/accounts", answer["httpResponse"])
    held = await venue.balances()
    await venue.close()
    expected = {k: v for k, v in answer["parsedResponse"]["total"].items() if v is not None}
    assert expected and {k: dec(held["total"][k]) for k in expected} == {k: dec(v) for k, v in expected.items()}
    assert all(isinstance(v, str) for v in held["total"].values() if v is not None), "no float on the way"


@pytest.mark.parametrize("name", ["bybit", "kucoin"])
async def test_recorded_books_parse(name: str) -> None:
    markets, _ = VENUES[name]
    venue, transport = replay_venue(name, markets)
    answer = recorded(name, "response", "fetchOrderBook")
    # Bybit's book request is not recorded: its documented v5 path.
    path = "/v5/market/orderbook" if name == "bybit" else path_of(recorded(name, "request", "fetchOrderBook")["url"])
    transport.answer(path, answer["httpResponse"])
    book = await venue.order_book("BTC/USDT", 20)
    await venue.close()
    assert [list(map(dec, level[:2])) for level in book["bids"]] == [
        list(map(dec, level[:2])) for level in answer["parsedResponse"]["bids"]
    ]


@pytest.mark.parametrize(("name", "method"), REQUEST_ONLY)
async def test_balance_and_book_requests_take_the_recorded_endpoint(name: str, method: str) -> None:
    markets, _ = VENUES[name]
    venue, transport = replay_venue(name, markets)
    request = recorded(name, "request", method)
    with pytest.raises(VenueCallFailed, match="NotRecorded"):
        if method == "fetchBalance":
            await venue.balances()
        else:
            await venue.order_book(request["input"][0])
    await venue.close()
    assert transport.sent[0].path == path_of(request["url"])


async def test_htx_starts_on_its_own_options_and_python_errors_stay_in_the_taxonomy() -> None:
    venue, transport = replay_venue("htx", [])
    with pytest.raises(VenueCallFailed, match="NotRecorded"):
        await venue.start()  # the profile's options: ccxt asks for HTX's spot markets
    assert venue.health.failures == 1
    await venue.close()
    assert path_of(transport.sent[0].url).startswith("/v"), "HTX's own endpoints were asked"
    broken, broken_transport = replay_venue("htx", [])
    broken_transport.answer(transport.sent[0].path, AttributeError("'list' object has no attribute 'get'"))
    with pytest.raises(VenueCallFailed, match="AttributeError") as failed:
        await broken.start()  # a Python error inside ccxt, as HTX's start raised with Binance's options
    assert not failed.value.retryable
    assert broken.health.failures == 1, "counted in health, not escaped raw"
    await broken.close()


async def test_bybit_ack_is_read_back_past_what_ccxt_refuses_never_rejected() -> None:
    """Bybit acknowledges with ids only; ccxt refuses fetch_order by orderLinkId on unified
    accounts (ArgumentsRequired). A profile that tries it first falls through to open orders;
    the live order is never reported as rejected."""
    markets, _ = VENUES["bybit"]
    venue, transport = replay_venue("bybit", markets)
    venue.profile = venue.profile.model_copy(update={"find": (FindStrategy.BY_CLIENT_ID, FindStrategy.OPEN_ORDERS)})
    create = recorded("bybit", "request", "createOrder")
    transport.answer(path_of(create["url"]), recorded("bybit", "response", "createOrder")["httpResponse"])
    cid = client_order_id("bybit/ack")
    placed = await venue.place("ADA/USDT", "buy", "limit", Decimal("50"), Decimal("0.1"), cid)
    await venue.close()
    assert placed["id"] == recorded("bybit", "response", "createOrder")["parsedResponse"]["id"]
    open_orders = path_of(recorded("bybit", "request", "fetchOpenOrders")["url"])
    assert [s.path for s in transport.sent] == [path_of(create["url"]), open_orders], "fell through to open orders"
    assert transport.sent[1].fields()["symbol"] == "ADAUSDT"


async def test_kraken_order_is_found_by_our_id_in_the_recorded_open_orders() -> None:
    """Kraken: found in its open orders by cl_ord_id (the recorded order carrying ours)."""
    markets, _ = VENUES["kraken"]
    venue, transport = replay_venue("kraken", markets)
    cid = client_order_id("kraken/find")
    answer = recorded("kraken", "response", "fetchOpenOrders")["httpResponse"]
    (order_id, order), = answer["result"]["open"].items()
    order["cl_ord_id"] = venue.profile.client_id(cid)
    transport.answer(path_of(recorded("kraken", "request", "fetchOpenOrders")["url"]), answer)
    found = await venue.find_order("LTC/USDT", cid)
    assert found is not None and found["id"] == order_id
    with pytest.raises(VenueCallFailed, match="NotRecorded"):  # ClosedOrders' answer is not recorded
        await venue.find_order("LTC/USDT", client_order_id("kraken/never-placed"))
    await venue.close()
    recent = path_of(recorded("kraken", "request", "fetchClosedOrders")["url"])
    asked = [s.path for s in transport.sent[-2:]]
    assert asked == ["/0/private/OpenOrders", recent], "recent orders asked before concluding absent"


async def test_bybit_market_buy_is_sized_in_quote_at_the_reference_price() -> None:
    """Bybit spot market buys are sized by cost: the profile sends amount x the expected price."""
    markets, _ = VENUES["bybit"]
    venue, transport = replay_venue("bybit", markets)
    create = recorded("bybit", "request", "createOrder")
    transport.answer(path_of(create["url"]), recorded("bybit", "response", "createOrder")["httpResponse"])
    await venue.place("ADA/USDT", "buy", "market", Decimal("50"), None, client_order_id("bybit/mkt"),
                      reference_price=Decimal("0.1"))
    await venue.close()
    sent = transport.to(path_of(create["url"]))[0].fields()
    assert (sent["orderType"], Decimal(sent["qty"])) == ("Market", Decimal("5"))
