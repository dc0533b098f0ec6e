"""The CEX connector's contract, run against every adapter (every exchange dialect): the same
behaviour is required of each venue, so a new venue is proven by these tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from connectors.cex.client_order_id import client_order_id
from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.errors import OrderRejected, VenueAuthFailed, VenueRateLimited
from connectors.cex.http_transport import FastHttp, install_fast_http
from connectors.cex.venue import CexVenue
from crosslane.errors import InvalidRequest
from devnet.cex import admin_client as admin
from devnet.cex.market_maker import MarketMakerConfig
from devnet.cex.server import VenueServer

SYMBOL = "BTC/USDT"
VENUES = ["binance", "okx", "kraken"]
# Each venue over ccxt's own aiohttp session and over the fast path's transport
# (connectors/cex/http_transport.py): the same contract for both.
TRANSPORTS = ["aiohttp", "fast_http"]


def connector_for(config: VenueConfig, credentials: ApiCredentials, transport: str) -> CexVenue:
    connector = CexVenue(config, credentials)
    if transport == "fast_http":
        install_fast_http(connector.exchange)
    return connector


@pytest.fixture(params=[(v, t) for v in VENUES for t in TRANSPORTS], ids=lambda p: f"{p[0]}-{p[1]}")
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[tuple[CexVenue, VenueServer]]:
    name, transport = request.param
    async with VenueServer(name, market_maker=MarketMakerConfig()) as server:
        key = server.add_account("trader")
        config = VenueConfig(
            name=name,
            exchange=name,
            rest_url=server.rest_url,
            ws_url=server.ws_url,
            enable_rate_limit=False,
        )
        connector = connector_for(config, ApiCredentials(key.api_key, key.secret, key.passphrase), transport)
        await connector.start()
        try:
            yield connector, server
        finally:
            await connector.close()


def far_below(connector: CexVenue) -> Decimal:
    tick = Decimal(str(connector.market(SYMBOL)["precision"]["price"]))
    return (Decimal(30000) / tick).to_integral_value() * tick


async def test_markets_are_loaded_once_with_exact_precision(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, _ = venue
    market = connector.market(SYMBOL)
    assert Decimal(str(market["precision"]["price"])) > 0 and Decimal(str(market["precision"]["amount"])) > 0
    with pytest.raises(InvalidRequest, match="has no market 'DOGE/EUR'"):
        connector.market("DOGE/EUR")


@pytest.mark.parametrize(
    ("amount", "price", "message"),
    [
        (Decimal("0"), Decimal("30000"), "amount must be positive"),
        (Decimal("-1"), Decimal("30000"), "amount must be positive"),
        (Decimal("0.0000000001"), Decimal("30000"), "is not a multiple of the step"),
        (Decimal("0.001"), Decimal("30000.00001"), "is not a multiple of the tick"),
        (Decimal("0.001"), None, "needs a positive price"),
    ],
)
async def test_orders_the_venue_would_refuse_are_refused_before_sending(
    venue: tuple[CexVenue, VenueServer], amount: Decimal, price: Decimal | None, message: str
) -> None:
    connector, server = venue
    before = (await admin.state(server.rest_url))["fault_stats"]["requests"]
    with pytest.raises(InvalidRequest, match=message):
        await connector.place(SYMBOL, "buy", "limit", amount, price, client_order_id("refused"))
    assert (await admin.state(server.rest_url))["fault_stats"]["requests"] == before, "nothing may reach the venue"


async def test_place_find_cancel_by_client_order_id(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, _ = venue
    cid = client_order_id(f"{connector.name}/rest")
    placed = await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), far_below(connector), cid)
    # the venue's form of our id: ours where it fits (Binance, OKX), derived from it where not (Kraken)
    assert placed["status"] == "open" and placed["clientOrderId"] == connector.profile.client_id(cid)
    found = await connector.find_order(SYMBOL, cid)
    assert found is not None and found["id"] == placed["id"]
    cancelled = await connector.cancel(SYMBOL, cid)
    assert cancelled["status"] == "canceled"
    assert await connector.find_order(SYMBOL, client_order_id("never-placed")) is None


async def test_a_resting_order_costs_one_call_when_the_caller_needs_no_read_back(
    venue: tuple[CexVenue, VenueServer],
) -> None:
    """The fast path places a leg it knows will rest with ``read_back=False``: one request even
    where the venue acknowledges with ids only (OKX, Kraken), and the order is live at the venue. By
    default an ids-only acknowledgement is read back (a second request) for the order's state."""
    connector, server = venue
    stats = server.venue.faults.stats
    ids_only = connector.name in ("okx", "kraken")  # they acknowledge a placement with its ids only
    before = stats.requests
    cid = client_order_id(f"{connector.name}/rests")
    placed = await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), far_below(connector), cid, read_back=False)
    assert stats.requests - before == 1
    assert placed["id"] and placed["status"] == (None if ids_only else "open")
    found = await connector.find_order(SYMBOL, cid)
    assert found is not None and (found["id"], found["status"]) == (placed["id"], "open")
    before = stats.requests
    cid = client_order_id(f"{connector.name}/read-back")
    placed = await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), far_below(connector), cid)
    assert stats.requests - before == (2 if ids_only else 1) and placed["status"] == "open"


async def test_lost_response_is_reconciled_to_exactly_one_order(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, server = venue
    lost_before = (await admin.state(server.rest_url))["fault_stats"]["lost_order_responses"]
    await admin.set_faults(server.rest_url, lose_next_order_response=1)
    cid = client_order_id(f"{connector.name}/lost")
    order = await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), far_below(connector), cid)
    venue_state = await admin.state(server.rest_url)
    assert venue_state["fault_stats"]["lost_order_responses"] == lost_before + 1, "the placement's response was lost"
    assert venue_state["faults"]["lose_next_order_response"] == 0
    venue_id = connector.profile.client_id(cid)
    assert order["clientOrderId"] == venue_id and order["status"] == "open"
    opened = await connector.exchange.fetch_open_orders(SYMBOL)
    assert [o["clientOrderId"] for o in opened].count(venue_id) == 1
    await connector.cancel(SYMBOL, cid)


async def test_business_failures_are_not_retryable(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, _ = venue
    with pytest.raises(OrderRejected) as rejected:
        await connector.place(SYMBOL, "buy", "limit", Decimal("100"), far_below(connector), client_order_id("big"))
    assert not rejected.value.retryable
    fast = isinstance(getattr(connector.exchange.fetch, "__self__", None), FastHttp)
    wrong = connector_for(connector.config, ApiCredentials("nope", "nope", "nope"), "fast_http" if fast else "aiohttp")
    wrong.markets = connector.markets
    try:
        with pytest.raises(VenueAuthFailed):
            await wrong.balances()
    finally:
        await wrong.close()


async def test_rate_limit_backs_off_without_sending(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, server = venue
    await admin.set_rate_limits(server.rest_url, orders=1, orders_window_s=30, request_weight=10**6)
    price = far_below(connector)
    await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), price, client_order_id("rl-1"))
    with pytest.raises(VenueRateLimited):
        await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), price, client_order_id("rl-2"))
    sent = (await admin.state(server.rest_url))["fault_stats"]["requests"]
    with pytest.raises(VenueRateLimited, match="backing off"):
        await connector.place(SYMBOL, "buy", "limit", Decimal("0.001"), price, client_order_id("rl-3"))
    assert (await admin.state(server.rest_url))["fault_stats"]["requests"] == sent, "not hammered"
    assert connector.health.for_router().status == "down"


async def test_balances_are_exact_decimals(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, _ = venue
    held = await connector.balances()
    assert Decimal(str(held["total"]["USDT"])) == Decimal("1000000")
    assert isinstance(held["total"]["USDT"], str), "ccxt precise mode: no float on the way"


async def test_size_below_the_venue_minimum_is_refused(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, _ = venue
    market = connector.market(SYMBOL)
    step = Decimal(str(market["precision"]["amount"]))
    min_amount = Decimal(str(market["limits"]["amount"]["min"]))
    if step < min_amount:  # OKX: a fine lot size under a minimum size
        amount, message = step, "is below the venue minimum"
    else:  # Binance: the minimum notional
        amount, message = min_amount, "notional .* is below the venue minimum"
    with pytest.raises(InvalidRequest, match=message):
        await connector.place(SYMBOL, "buy", "limit", amount, far_below(connector), client_order_id("tiny"))


# OKX has no notional floor (a minimum size only)
@pytest.mark.parametrize("venue", [("binance", t) for t in TRANSPORTS], indirect=True)
async def test_below_minimum_market_order_is_refused_before_sending(venue: tuple[CexVenue, VenueServer]) -> None:
    connector, server = venue
    market = connector.market(SYMBOL)
    min_cost, step = Decimal(str(market["limits"]["cost"]["min"])), Decimal(str(market["precision"]["amount"]))
    ask = await connector.expected_price(SYMBOL, "buy")
    assert ask is not None
    amount = max((min_cost / ask / 2 / step).to_integral_value() * step, step)
    assert amount * ask < min_cost
    held = (await admin.state(server.rest_url))["accounts"]["trader"]
    before = (await admin.state(server.rest_url))["fault_stats"]["requests"]
    with pytest.raises(InvalidRequest, match="notional .* is below the venue minimum"):
        await connector.place(SYMBOL, "buy", "market", amount, None, client_order_id("tiny-mkt"), reference_price=ask)
    assert (await admin.state(server.rest_url))["fault_stats"]["requests"] == before, "nothing may reach the venue"
    with pytest.raises(InvalidRequest, match="notional .* is below the venue minimum"):
        await connector.place(SYMBOL, "buy", "market", amount, None, client_order_id("tiny-mkt"))  # at the book
    venue_state = await admin.state(server.rest_url)
    assert venue_state["fault_stats"]["requests"] == before + 1, "only the book was read"
    assert venue_state["accounts"]["trader"] == held, "no order filled"


def test_unknown_exchange_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="ccxt has no exchange 'nosuchex'"):
        CexVenue(VenueConfig(name="x", exchange="nosuchex"), None)
