"""A spot limit order sent through ccxt's own signed endpoint, its request built here.

ccxt's ``create_order`` serves every market type and order kind: per order it re-reads its
options, resolves the market type, formats amount and price, and wraps the endpoint call; that
costs about as much CPU as the signed HTTP call itself (~80-170 us an order on this machine,
``bench/README.md``). For the shape the fast path sends (a spot limit order, GTC or IOC, under
our client id, already checked against the market's steps by ``check_order``) an ``OrderEntry``
builds the very request ccxt would and calls ccxt's implicit endpoint method with it, so ccxt's
signing, nonce, throttle, transport and error mapping are all still the ones used; the answer
is read by ccxt's ``parse_order`` as ``create_order`` reads it.

``DirectPlacement`` trusts no builder blindly: the first order of each (symbol, side, time in
force) is also built by ccxt's own code, and a difference (an option a user set, another ccxt
version) sends that shape through ``create_order`` from then on, with a warning.
``tests/unit/test_cex_order_entry.py`` proves the bytes on the wire and the parsed order equal
``create_order``'s for each venue.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from ccxt.base.decimal_to_precision import TICK_SIZE
from ccxt.base.errors import NullResponse

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LimitOrder:
    """A spot limit order whose amount and price are multiples of the market's steps."""

    symbol: str
    side: str  # buy | sell
    amount: Decimal
    price: Decimal
    client_id: str  # the venue's form (VenueProfile.client_id)
    time_in_force: str | None  # None: the venue's default (GTC); "IOC"
    params: dict[str, Any]  # what ``CexVenue.place`` would give ``create_order`` (ccxt's build of it is the check)


def plain(value: Decimal) -> str:
    """``value`` as ccxt's ``amount_to_precision``/``price_to_precision`` write a multiple of
    the step: positional, no trailing zeros."""
    return format(value.normalize(), "f")


class OrderEntry(Protocol):
    def endpoint(self, exchange: Any) -> str:
        """The ccxt implicit method ``create_order`` sends this venue's order with."""
        ...

    def request(self, exchange: Any, market: dict[str, Any], order: LimitOrder) -> Any:
        """The endpoint's argument, built directly."""
        ...

    def ccxt_request(self, exchange: Any, order: LimitOrder) -> Any:
        """The same argument built by ccxt's own code (the check)."""
        ...

    def parse(self, exchange: Any, response: Any, market: dict[str, Any], order: LimitOrder) -> dict[str, Any]:
        """The unified order ``create_order`` returns for ``response``."""
        ...


class BinanceEntry:
    def endpoint(self, exchange: Any) -> str:
        return "privatePostOrder"

    def request(self, exchange: Any, market: dict[str, Any], order: LimitOrder) -> dict[str, Any]:
        return {
            "symbol": market["id"],
            "side": order.side.upper(),
            "newClientOrderId": order.client_id,
            "newOrderRespType": exchange.options["newOrderRespType"].get("limit") or "FULL",
            "type": "LIMIT",
            "quantity": plain(order.amount),
            "price": plain(order.price),
            "timeInForce": order.time_in_force or exchange.handle_option("createOrder", "timeInForce"),
        }

    def ccxt_request(self, exchange: Any, order: LimitOrder) -> dict[str, Any]:
        params = {**order.params, "isAlgoOrder": False}  # as create_order adds it for a spot order
        return exchange.create_order_request(
            order.symbol, "limit", order.side, str(order.amount), str(order.price), params
        )

    def parse(self, exchange: Any, response: Any, market: dict[str, Any], order: LimitOrder) -> dict[str, Any]:
        if response is None:
            raise NullResponse(exchange.id + " parseOrder() returned empty response")
        return exchange.parse_order(response, market)


class OkxEntry:
    def endpoint(self, exchange: Any) -> str:
        return exchange.safe_string(exchange.options, "createOrder", "privatePostTradeBatchOrders")

    def request(self, exchange: Any, market: dict[str, Any], order: LimitOrder) -> Any:
        request = {
            "instId": market["id"],
            "side": order.side,
            "ordType": "ioc" if order.time_in_force == "IOC" else "limit",
            "sz": plain(order.amount),
            "tdMode": "cash",
            "tgtCcy": exchange.options.get("tgtCcy") or "base_ccy",
            "px": plain(order.price),
            "clOrdId": order.client_id,
        }
        return [request] if self.endpoint(exchange) == "privatePostTradeBatchOrders" else request

    def ccxt_request(self, exchange: Any, order: LimitOrder) -> Any:
        request = exchange.create_order_request(
            order.symbol, "limit", order.side, str(order.amount), str(order.price), order.params
        )
        return [request] if self.endpoint(exchange) == "privatePostTradeBatchOrders" else request

    def parse(self, exchange: Any, response: Any, market: dict[str, Any], order: LimitOrder) -> dict[str, Any]:
        first = exchange.safe_dict(exchange.safe_list(response, "data", []), 0, {})
        parsed = exchange.parse_order(first, market)
        parsed["type"] = "limit"
        parsed["side"] = order.side
        return parsed


class KrakenEntry:
    def endpoint(self, exchange: Any) -> str:
        return "privatePostAddOrder"

    def request(self, exchange: Any, market: dict[str, Any], order: LimitOrder) -> dict[str, Any]:
        request = {
            "pair": market["id"],
            "type": order.side,
            "ordertype": "limit",
            "volume": plain(order.amount),
            "cl_ord_id": order.client_id,
            "price": plain(order.price),
        }
        if order.time_in_force:
            request["timeinforce"] = order.time_in_force
        return request

    def ccxt_request(self, exchange: Any, order: LimitOrder) -> dict[str, Any]:
        base = {
            "pair": exchange.market(order.symbol)["id"],
            "type": order.side,
            "ordertype": "limit",
            "volume": exchange.amount_to_precision(order.symbol, str(order.amount)),
        }
        built, rest = exchange.order_request(
            "createOrder", order.symbol, "limit", base, str(order.amount), str(order.price), order.params
        )
        return exchange.extend(built, rest)

    def parse(self, exchange: Any, response: Any, market: dict[str, Any], order: LimitOrder) -> dict[str, Any]:
        result = exchange.safe_dict(response, "result", {})
        result["usingCost"] = False  # no viqc flag on a limit order
        return exchange.parse_order(result)


ENTRIES: dict[str, OrderEntry] = {"binance": BinanceEntry(), "okx": OkxEntry(), "kraken": KrakenEntry()}


class DirectPlacement:
    """One exchange instance's direct sends: a shape goes direct once its first request matched
    ccxt's own, and through ``create_order`` for good if it did not."""

    def __init__(self, exchange: Any, entry: OrderEntry) -> None:
        self.exchange = exchange
        self.entry = entry
        self._shapes: dict[tuple[str, str, str | None], bool] = {}

    @classmethod
    def for_exchange(cls, exchange: Any, client_id_param: str) -> DirectPlacement | None:
        """None when this venue has no entry, or ccxt's precision or our id field differs from
        what the entries build (TICK_SIZE steps; the id given to ccxt as ``clientOrderId``)."""
        entry = ENTRIES.get(exchange.id)
        if entry is None or exchange.precisionMode != TICK_SIZE or client_id_param != "clientOrderId":
            return None
        return cls(exchange, entry)

    def covers(self, order_type: str, time_in_force: str | None) -> bool:
        return order_type == "limit" and time_in_force in (None, "IOC")

    async def place(self, order: LimitOrder) -> dict[str, Any] | None:
        """The unified order ``create_order`` would return; None when this shape must go through
        ``create_order`` (the caller sends it there)."""
        market = self.exchange.market(order.symbol)
        if not market.get("spot"):
            return None
        request = self.entry.request(self.exchange, market, order)
        shape = (order.symbol, order.side, order.time_in_force)
        trusted = self._shapes.get(shape)
        if trusted is None:
            try:
                expected = self.entry.ccxt_request(self.exchange, order)
            except Exception:  # ccxt refuses the order: create_order raises it in its own words
                return None
            # Same fields in the same order: the same bytes signed and sent.
            trusted = self._shapes[shape] = json.dumps(request) == json.dumps(expected)
            if not trusted:
                log.warning(
                    "%s: direct %s request differs from ccxt's (%s vs %s); using create_order for it",
                    self.exchange.id, shape, request, expected,
                )
        if not trusted:
            return None
        response = await getattr(self.exchange, self.entry.endpoint(self.exchange))(request)
        return self.entry.parse(self.exchange, response, market, order)
