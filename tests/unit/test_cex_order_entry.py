"""A limit order sent directly (``connectors.cex.order_entry``) is, on the wire and as parsed,
the order ccxt's ``create_order`` sends and returns: same method, URL and body bytes (so the
same signature), same unified order from the venue's recorded answer; a shape whose request
differs from ccxt's (an option set) goes through ``create_order`` instead."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.cex.venue import CexVenue
from tests.support.ccxt_replay import ReplayTransport, path_of, recorded, replay_venue, spot_market

STEP, TICK = Decimal("0.00001"), Decimal("0.1")
NOW_MS = 1_796_650_000_000
# venue -> (market id, the endpoint's path)
VENUES: dict[str, tuple[str, str]] = {
    "binance": ("BTCUSDT", "/api/v3/order"),
    "okx": ("BTC-USDT", "/api/v5/trade/batch-orders"),
    "kraken": ("XBTUSDT", "/0/private/AddOrder"),
}


# No OKX order answer is recorded: its documented shape (ids only; "Place order" in OKX's v5 API).
OKX_ACK = {
    "code": "0", "msg": "", "inTime": "1796650000000100", "outTime": "1796650000000300",
    "data": [{"clOrdId": "cl0", "ordId": "312269865356374016", "tag": "", "ts": "1796650000000",
              "sCode": "0", "sMsg": "Order placed"}],
}


def answer(name: str) -> Any:
    return OKX_ACK if name == "okx" else recorded(name, "response", "createOrder")["httpResponse"]


def venue_for(name: str) -> tuple[CexVenue, ReplayTransport]:
    market = spot_market(VENUES[name][0], "BTC/USDT", amount_precision=str(STEP), price_precision=str(TICK))
    market["info"]["orderTypes"] = ["LIMIT", "LIMIT_MAKER", "MARKET"]  # Binance checks the order type
    venue, transport = replay_venue(name, [market])
    transport.answer(VENUES[name][1], answer(name))
    # One clock and nonce for both sends, so their signatures can be compared.
    venue.exchange.milliseconds = lambda: NOW_MS
    venue.exchange.nonce = venue.exchange.incrementing_nonce = lambda: NOW_MS  # Kraken signs with the latter
    return venue, transport


def sent_bytes(transport: ReplayTransport) -> list[tuple[str, str, str]]:
    return [(s.method, s.url, s.body) for s in transport.sent]


orders = st.tuples(
    st.sampled_from(["buy", "sell"]),
    st.integers(min_value=1, max_value=10**9).map(lambda k: k * STEP),
    st.integers(min_value=1, max_value=10**8).map(lambda j: j * TICK),
    st.sampled_from([None, "IOC"]),
    st.integers(min_value=0, max_value=10**6),
)


@pytest.mark.parametrize("name", sorted(VENUES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=orders)
async def test_direct_send_is_create_orders_request_and_answer(name: str, order: Any) -> None:
    side, amount, price, tif, n = order
    venue, transport = venue_for(name)
    canonical = f"cl{n:030d}"
    venue_id = venue.profile.client_id(canonical)
    try:
        placed = await venue.place("BTC/USDT", side, "limit", amount, price, canonical, time_in_force=tif,
                                   read_back=False)
        direct = sent_bytes(transport)
        assert venue._direct is not None and all(venue._direct._shapes.values()), "sent directly, not by create_order"
        transport.sent.clear()
        params: dict[str, Any] = {"clientOrderId": venue_id} | ({"timeInForce": tif} if tif else {})
        expected = await venue.exchange.create_order("BTC/USDT", "limit", side, str(amount), str(price), params)
    finally:
        await venue.close()
    assert direct == sent_bytes(transport), "the same request bytes as create_order's"
    assert path_of(direct[0][1]) == VENUES[name][1]
    assert placed == expected, "the same unified order as create_order's"


@pytest.mark.parametrize("name", sorted(VENUES))
async def test_formats_amounts_and_prices_as_ccxt_does(name: str) -> None:
    """Trailing zeros, whole numbers and tiny steps: written as ccxt's precision functions write them."""
    venue, transport = venue_for(name)
    cases = [
        (Decimal("0.00100"), Decimal("30000.0")), (Decimal("2"), Decimal("100")), (Decimal("1E-5"), Decimal("1E+5")),
    ]
    try:
        for i, (amount, price) in enumerate(cases):
            await venue.place("BTC/USDT", "buy", "limit", amount, price, f"cl{i:030d}", read_back=False)
            assert venue._direct is not None and venue._direct._shapes == {("BTC/USDT", "buy", None): True}
            direct = sent_bytes(transport)
            transport.sent.clear()
            venue_id = venue.profile.client_id(f"cl{i:030d}")
            await venue.exchange.create_order(
                "BTC/USDT", "limit", "buy", str(amount), str(price), {"clientOrderId": venue_id}
            )
            assert direct == sent_bytes(transport), (amount, price)
            transport.sent.clear()
    finally:
        await venue.close()


async def test_a_shape_ccxt_builds_differently_goes_through_create_order(caplog: pytest.LogCaptureFixture) -> None:
    """An option the direct request does not know (Binance self-trade prevention, set by a user)
    makes ccxt's request differ: that shape is sent by create_order, with the option."""
    venue, transport = venue_for("binance")
    venue.exchange.options["createOrder"]["selfTradePrevention"] = "expire_maker"
    try:
        with caplog.at_level(logging.WARNING, logger="connectors.cex.order_entry"):
            await venue.place("BTC/USDT", "buy", "limit", Decimal("0.001"), Decimal("30000"), "cl" + "0" * 30)
            await venue.place("BTC/USDT", "buy", "limit", Decimal("0.001"), Decimal("30000"), "cl" + "1" * 30)
    finally:
        await venue.close()
    assert [s.fields().get("selfTradePreventionMode") for s in transport.sent] == ["EXPIRE_MAKER"] * 2
    assert venue._direct is not None and venue._direct._shapes == {("BTC/USDT", "buy", None): False}
    assert sum("differs from ccxt's" in r.message for r in caplog.records) == 1, "warned once, for the shape"


async def test_market_orders_and_other_venues_go_through_create_order() -> None:
    venue, transport = venue_for("binance")
    try:
        await venue.place("BTC/USDT", "sell", "market", Decimal("0.001"), None, "cl" + "2" * 30,
                          reference_price=Decimal("30000"))
    finally:
        await venue.close()
    assert venue._direct is not None and venue._direct._shapes == {}, "a market order is not sent directly"
    assert transport.sent[0].fields()["type"] == "MARKET"
    gate, _ = replay_venue("gate", [spot_market("BTC_USDT", "BTC/USDT")])
    assert gate._direct is None, "no direct entry for Gate (text ids)"
    await gate.close()
