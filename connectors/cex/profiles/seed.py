"""The seed venues' profiles, one declarative entry each (see README "CEX venues")."""

from __future__ import annotations

from typing import Any

from connectors.cex.config import SPOT_ONLY_OPTIONS
from connectors.cex.profiles.model import (
    CancelStrategy,
    ClientIdKind,
    FindStrategy,
    PrecisionMode,
    VenueProfile,
    WithdrawalLookup,
)

_SPOT_MARKETS: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}}
_BY_LISTS = (FindStrategy.OPEN_ORDERS, FindStrategy.CLOSED_ORDERS)
# ccxt.pro parses Kraken's v2 `executions` push with clientOrderId = order_userref and no filled
_KRAKEN_EXECUTIONS = {"clientOrderId": "cl_ord_id", "filled": "cum_qty", "cost": "cum_cost", "average": "avg_price"}

SEED_PROFILES: dict[str, VenueProfile] = {
    p.exchange: p
    for p in [
        VenueProfile(
            exchange="binance",
            options=SPOT_ONLY_OPTIONS,
            withdrawal_ref_param="withdrawOrderId",
        ),
        VenueProfile(
            exchange="okx",  # ids: alphanumeric, at most 32
            required_credentials=("apiKey", "secret", "password"),
            options=SPOT_ONLY_OPTIONS,
            withdrawal_ref_param="clientId",
        ),
        VenueProfile(exchange="kucoin", required_credentials=("apiKey", "secret", "password"), options=_SPOT_MARKETS),
        VenueProfile(
            exchange="bybit",  # fetch_order by orderLinkId is refused by ccxt (ArgumentsRequired) on unified accounts
            client_id_param="orderLinkId",
            find=_BY_LISTS,
            market_buy_by_cost=True,
            options={"fetchMarkets": {"types": ["spot"]}},
        ),
        VenueProfile(
            exchange="gate",  # `text`: "t-" then at most 28 characters in all (ccxt refuses longer)
            client_id_param="text",
            client_id_prefix="t-",
            client_id_length=28,
            find=_BY_LISTS,
            cancel=CancelStrategy.BY_VENUE_ID,
            market_buy_by_cost=True,
            options=_SPOT_MARKETS,
        ),
        VenueProfile(
            exchange="kraken",  # cl_ord_id: free text up to 18 characters (userref would be int32)
            client_id_length=18,
            find=_BY_LISTS,
            book_depths=(10, 25, 100, 500, 1000),  # websocket v2 `book` refuses any other depth
            lists_filter_by_client_id=True,  # OpenOrders/ClosedOrders take cl_ord_id: one order, not the book
            nonce_per_key=True,  # EAPI:Invalid nonce for a nonce not above the key's last
            user_stream={"info_fields": _KRAKEN_EXECUTIONS, "fills_as_trades": True, "fees_pushed": False},  # type: ignore[arg-type]
            withdrawal_lookup=WithdrawalLookup.RECENT_MATCH,  # a withdrawal carries no client reference
            funding_methods=True,  # Withdraw takes a withdrawal key name; networks are methods
        ),
        VenueProfile(
            exchange="coinbase",  # ccxt substitutes its own id unless client_order_id is passed through
            client_id_param="client_order_id",
            find=_BY_LISTS,
            cancel=CancelStrategy.BY_VENUE_ID,
            market_buy_by_cost=True,
        ),
        VenueProfile(
            exchange="bitfinex",  # cid: an integer (cancel by cid also needs its date: cancel by id)
            client_id_param="cid",
            client_id_kind=ClientIdKind.INTEGER,
            client_id_bits=45,
            find=_BY_LISTS,
            cancel=CancelStrategy.BY_VENUE_ID,
            precision_mode=PrecisionMode.SIGNIFICANT_DIGITS,
        ),
        VenueProfile(
            exchange="deribit",  # the venue's own field is `label`; ccxt does not parse it back
            client_id_param="label",
            find=_BY_LISTS,
            cancel=CancelStrategy.BY_VENUE_ID,
        ),
        VenueProfile(
            exchange="bitstamp",  # fetch/cancel by client id send a null order id: go by lists and venue id
            find=(FindStrategy.OPEN_ORDERS,),
            cancel=CancelStrategy.BY_VENUE_ID,
        ),
        VenueProfile(exchange="gemini", find=(FindStrategy.OPEN_ORDERS,), cancel=CancelStrategy.BY_VENUE_ID),
        VenueProfile(
            exchange="htx",  # its fetchMarkets types are a dict, not a list
            market_buy_by_cost=True,
            options={"fetchMarkets": {"types": {"spot": True, "linear": False, "inverse": False}}},
        ),
    ]
}
