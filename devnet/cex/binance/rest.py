"""Binance spot REST (``/api/v3``): the endpoints ccxt's ``binance`` class calls for spot.

Private calls are checked the way Binance checks them: ``X-MBX-APIKEY`` must name a known
key, ``timestamp`` must fall inside ``recvWindow`` (default 5000 ms, at most 60000), and
``signature`` must be the hex HMAC-SHA256, under the key's secret, of the query string
followed by the form body, both without the signature parameter.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from devnet.cex.auth import ApiKey, hmac_sha256_hex, same
from devnet.cex.binance import errors, wire
from devnet.cex.binance.errors import BinanceError
from devnet.cex.binance.profile import PROFILE, SYMBOL_BY_ID, market_id
from devnet.cex.binance.ws import BinanceStreams, ListenKeys
from devnet.cex.dialect import ORDER_ACCEPTED, USED_WEIGHT, RequestCost
from devnet.cex.engine import (
    EngineRejection,
    ExecType,
    MarketSpec,
    OrderEvent,
    OrderNotFound,
    OrderNotOpen,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)
from devnet.cex.numbers import BadNumber, parse_decimal
from devnet.cex.ratelimit import Decision, Verdict
from devnet.cex.venue import Venue

API = "/api/v3"
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_ALPHABET = string.ascii_letters + string.digits
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(payload), status=status, content_type="application/json", headers=headers
    )


def error_reply(exc: BinanceError) -> web.Response:
    return reply({"code": exc.code, "msg": exc.msg}, exc.status)


@dataclass
class Params:
    values: dict[str, str]

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value not in (None, "") else None

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise errors.mandatory(name)
        return value

    def decimal(self, name: str) -> Decimal | None:
        value = self.get(name)
        if value is None:
            return None
        try:
            return parse_decimal(value)
        except BadNumber:
            raise errors.bad_value(name) from None

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise errors.bad_value(name) from None


class BinanceDialect:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.profile = PROFILE
        self.listen_keys = ListenKeys()
        self.streams = BinanceStreams(venue, self.listen_keys, self._verify_ws_signature)
        self._ids = itertools.count(1)
        # icebergQty is accepted and echoed, but the engine shows the whole quantity.
        self.iceberg: dict[int, Decimal] = {}

    # --- server contract ----------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        get, post, put, delete = app.router.add_get, app.router.add_post, app.router.add_put, app.router.add_delete
        routes: list[tuple[Callable[..., Any], str, Handler]] = [
            (get, "/ping", self.ping),
            (get, "/time", self.time),
            (get, "/exchangeInfo", self.exchange_info),
            (get, "/depth", self.depth),
            (get, "/trades", self.trades),
            (get, "/aggTrades", self.agg_trades),
            (get, "/ticker/24hr", self.ticker_24hr),
            (get, "/ticker", self.ticker_24hr),
            (get, "/ticker/price", self.ticker_price),
            (get, "/ticker/bookTicker", self.book_ticker),
            (get, "/avgPrice", self.avg_price),
            (post, "/order", self.new_order),
            (post, "/order/test", self.test_order),
            (get, "/order", self.query_order),
            (delete, "/order", self.cancel_order),
            (get, "/openOrders", self.open_orders),
            (delete, "/openOrders", self.cancel_open_orders),
            (get, "/allOrders", self.all_orders),
            (get, "/myTrades", self.my_trades),
            (get, "/account", self.account),
            (get, "/account/commission", self.commission),
            (post, "/userDataStream", self.listen_key_new),
            (put, "/userDataStream", self.listen_key_keepalive),
            (delete, "/userDataStream", self.listen_key_close),
        ]
        for add, path, handler in routes:
            add(API + path, self._guard(handler))
        from devnet.cex.binance import funding  # it uses this module's reply

        for method, path, handler in funding.routes(self):
            app.router.add_route(method, path, self._guard(handler))
        self.streams.install(app)

    def cost(self, request: web.Request) -> RequestCost | None:
        if not request.path.startswith(API):
            return None
        path = request.path[len(API) :]
        query = request.query
        client = request.remote or "unknown"
        weight = _weight(request.method, path, query)
        order_account = None
        if request.method == "POST" and path == "/order":
            key = self.venue.keys.get(request.headers.get("X-MBX-APIKEY"))
            order_account = key.account if key else None
        return RequestCost(client, weight, order_account)

    def limited(self, decision: Decision) -> web.Response:
        headers = {"Retry-After": str(decision.retry_after_s), "X-MBX-USED-WEIGHT-1M": str(decision.used_weight)}
        limits = self.venue.limiter.limits
        if decision.verdict is Verdict.BANNED:
            body = {
                "code": -1003,
                "msg": f"Way too much request weight used; IP banned until {decision.banned_until_ms}. "
                "Please use WebSocket Streams for live updates to avoid bans.",
            }
            return reply(body, 418, headers)
        if decision.verdict is Verdict.ORDERS:
            body = {
                "code": -1015,
                "msg": f"Too many new orders; current limit is {limits.orders} orders per "
                f"{limits.orders_window_s:g} SECOND.",
            }
            return reply(body, 429, headers)
        body = {
            "code": -1003,
            "msg": f"Too much request weight used; current limit is {limits.request_weight} request weight per "
            f"{limits.weight_window_s:g} SECOND. "
            "Please use WebSocket Streams for live updates to avoid polling the API.",
        }
        return reply(body, 429, headers)

    def unavailable(self) -> web.Response:
        # What Binance's edge answers when the backend is down: an HTML 503, not a JSON error.
        html = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"
        return web.Response(text=html, status=503, content_type="text/html")

    # --- plumbing ----------------------------------------------------------------------

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                response = await handler(request)
            except BinanceError as exc:
                response = error_reply(exc)
            if USED_WEIGHT in request and isinstance(response, web.Response):
                response.headers["X-MBX-USED-WEIGHT-1M"] = str(request[USED_WEIGHT])
            return response

        return guarded

    @staticmethod
    async def _params(request: web.Request) -> tuple[Params, str, str]:
        raw_query = request.rel_url.raw_query_string
        raw_body = (await request.read()).decode() if request.body_exists else ""
        values = dict(parse_qsl(raw_body, keep_blank_values=True))
        values.update(parse_qsl(raw_query, keep_blank_values=True))  # the query string wins, as on Binance
        return Params(values), raw_query, raw_body

    def _key(self, request: web.Request) -> ApiKey:
        header = request.headers.get("X-MBX-APIKEY")
        if not header:
            raise errors.API_KEY_FORMAT
        key = self.venue.keys.get(header)
        if key is None:
            raise errors.API_KEY_INVALID
        return key

    def _check_time(self, params: Params) -> None:
        timestamp = params.integer("timestamp")
        if timestamp is None:
            raise errors.mandatory("timestamp")
        recv_window = params.integer("recvWindow", 5000)
        assert recv_window is not None
        if recv_window > 60_000:
            raise errors.RECV_WINDOW_TOO_LARGE
        now = self.venue.now_ms()
        if timestamp >= now + 1000 or now - timestamp > recv_window:
            raise errors.OUTSIDE_RECV_WINDOW

    async def _signed(self, request: web.Request) -> tuple[ApiKey, Params]:
        key = self._key(request)
        params, raw_query, raw_body = await self._params(request)
        signature = params.get("signature")
        if signature is None:
            raise errors.mandatory("signature")
        self._check_time(params)
        payload = _without_signature(raw_query) + _without_signature(raw_body)
        if not same(hmac_sha256_hex(key.secret, payload.encode()), signature):
            raise errors.BAD_SIGNATURE
        return key, params

    def _verify_ws_signature(self, params: dict[str, Any]) -> ApiKey:
        """WebSocket API: the signature covers every other param, sorted by name, unencoded."""
        key = self.venue.keys.get(str(params.get("apiKey") or ""))
        if key is None:
            raise errors.API_KEY_INVALID
        signature = str(params.get("signature") or "")
        fields = {k: v for k, v in params.items() if k != "signature"}
        self._check_time(Params({k: _ws_value(v) for k, v in fields.items()}))
        payload = "&".join(f"{k}={_ws_value(fields[k])}" for k in sorted(fields))
        if not signature or not same(hmac_sha256_hex(key.secret, payload.encode()), signature):
            raise errors.BAD_SIGNATURE
        return key

    def _market(self, params: Params, name: str = "symbol") -> MarketSpec:
        symbol = SYMBOL_BY_ID.get(params.require(name).upper())
        if symbol is None:
            raise errors.invalid_symbol()
        return self.venue.engine.markets[symbol]

    def _markets(self, params: Params) -> list[MarketSpec]:
        """``symbol=X``, ``symbols=["X","Y"]`` or every market."""
        if params.get("symbol"):
            return [self._market(params)]
        raw = params.get("symbols")
        if raw is None:
            return list(self.venue.engine.markets.values())
        try:
            ids = json.loads(raw)
        except ValueError:
            raise errors.bad_value("symbols") from None
        out = []
        for item in ids if isinstance(ids, list) else []:
            symbol = SYMBOL_BY_ID.get(str(item).upper())
            if symbol is None:
                raise errors.invalid_symbol()
            out.append(self.venue.engine.markets[symbol])
        return out

    def _new_client_id(self) -> str:
        digest = hashlib.blake2b(f"binance:{next(self._ids)}".encode(), digest_size=22).digest()
        return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest)

    def _order_ref(self, params: Params) -> tuple[int | None, str | None]:
        order_id = params.integer("orderId")
        client_id = params.get("origClientOrderId")
        if order_id is None and client_id is None:
            raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        return order_id, client_id

    # --- public ------------------------------------------------------------------------

    async def ping(self, _request: web.Request) -> web.Response:
        return reply({})

    async def time(self, _request: web.Request) -> web.Response:
        return reply({"serverTime": self.venue.now_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        specs = self._markets(params)
        return reply(wire.exchange_info(specs, self.venue.limiter.limits, self.venue.now_ms()))

    async def depth(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        spec = self._market(params)
        limit = params.integer("limit", 100)
        assert limit is not None
        if not 1 <= limit <= 5000:
            raise BinanceError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1-5000'.")
        return reply(wire.depth(self.venue.engine.books[spec.symbol], limit))

    async def trades(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        spec = self._market(params)
        limit = min(params.integer("limit", 500) or 500, 1000)
        return reply([wire.public_trade(t) for t in self.venue.engine.trades(spec.symbol, limit)])

    async def agg_trades(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        spec = self._market(params)
        limit = min(params.integer("limit", 500) or 500, 1000)
        trades = self.venue.engine.trades(spec.symbol)
        from_id, start, end = params.integer("fromId"), params.integer("startTime"), params.integer("endTime")
        trades = [
            t
            for t in trades
            if (from_id is None or t.trade_id >= from_id)
            and (start is None or t.time_ms >= start)
            and (end is None or t.time_ms <= end)
        ]
        trades = trades[:limit] if (from_id is not None or start is not None) else trades[-limit:]
        return reply([wire.agg_trade(t) for t in trades])

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        engine = self.venue.engine
        rows = [wire.ticker_24hr(s, engine.books[s.symbol], engine.ticker(s.symbol)) for s in self._markets(params)]
        return reply(rows[0] if params.get("symbol") else rows)

    async def ticker_price(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        rows = []
        for spec in self._markets(params):
            stats = self.venue.engine.ticker(spec.symbol)
            rows.append({"symbol": market_id(spec.symbol), "price": wire.fixed(stats.last or Decimal(0))})
        return reply(rows[0] if params.get("symbol") else rows)

    async def book_ticker(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        rows = [wire.book_ticker(s, self.venue.engine.books[s.symbol]) for s in self._markets(params)]
        return reply(rows[0] if params.get("symbol") else rows)

    async def avg_price(self, request: web.Request) -> web.Response:
        params, _, _ = await self._params(request)
        spec = self._market(params)
        stats = self.venue.engine.ticker(spec.symbol, window_ms=300_000)
        average = stats.quote_volume / stats.volume if stats.volume else Decimal(0)
        return reply({"mins": 5, "price": wire.fixed(average), "closeTime": stats.close_ms})

    # --- orders ------------------------------------------------------------------------

    def _order_request(self, key: ApiKey, params: Params) -> tuple[OrderRequest, str, Decimal | None]:
        spec = self._market(params)
        side_text = params.require("side").upper()
        if side_text not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        side = Side.BUY if side_text == "BUY" else Side.SELL
        kind = params.require("type").upper()
        client_id = params.get("newClientOrderId") or self._new_client_id()
        if not _CLIENT_ID.match(client_id):
            raise BinanceError(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; "
                "legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        resp_type = (params.get("newOrderRespType") or "FULL").upper()
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
        quantity = params.decimal("quantity")
        price = params.decimal("price")
        common = {"account": key.account, "symbol": spec.symbol, "side": side, "client_order_id": client_id}
        if kind == "LIMIT":
            tif = params.require("timeInForce").upper()
            if tif not in ("GTC", "IOC", "FOK"):
                raise BinanceError(-1115, "Invalid timeInForce.")
            request = OrderRequest(
                **common, type=OrderType.LIMIT, quantity=quantity, price=price, time_in_force=TimeInForce(tif)
            )
        elif kind == "LIMIT_MAKER":
            request = OrderRequest(**common, type=OrderType.LIMIT, quantity=quantity, price=price, post_only=True)
        elif kind == "MARKET":
            quote_qty = params.decimal("quoteOrderQty")
            if quantity is not None and quote_qty is not None:
                raise BinanceError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
            if quantity is None and quote_qty is None:
                raise BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            if quote_qty is not None and side is Side.SELL:
                raise BinanceError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
            request = OrderRequest(**common, type=OrderType.MARKET, quantity=quantity, quote_quantity=quote_qty)
        else:
            raise BinanceError(-1116, "Invalid orderType.")
        iceberg = params.decimal("icebergQty")
        if iceberg is not None and (
            request.type is not OrderType.LIMIT or quantity is None or not 0 < iceberg < quantity
        ):
            raise BinanceError(-1013, "Filter failure: ICEBERG_PARTS")
        return request, resp_type, iceberg

    async def new_order(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        order_request, resp_type, iceberg = self._order_request(key, params)
        try:
            result = self.venue.execute(lambda engine: engine.submit(order_request))
        except EngineRejection as exc:
            raise errors.from_reject(exc.reason) from None
        request[ORDER_ACCEPTED] = True
        order = result.order
        assert order is not None
        if iceberg is not None:
            self.iceberg[order.order_id] = iceberg
        fills = [f for f in result.fills if f.order_id == order.order_id]
        body = wire.new_order(order, fills, resp_type, order.created_ms, iceberg)
        return reply(body)

    async def test_order(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        self._order_request(key, params)
        return reply({})

    async def query_order(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        spec = self._market(params)
        order_id, client_id = self._order_ref(params)
        try:
            order = self.venue.engine.order(key.account, spec.symbol, order_id, client_id)
        except OrderNotFound:
            raise errors.order_missing() from None
        return reply(wire.query_order(order, self.iceberg.get(order.order_id)))

    async def cancel_order(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        spec = self._market(params)
        order_id, client_id = self._order_ref(params)
        try:
            result = self.venue.execute(lambda engine: engine.cancel(key.account, spec.symbol, order_id, client_id))
        except (OrderNotFound, OrderNotOpen):
            raise errors.cancel_rejected() from None
        assert result.order is not None
        cancel_id = params.get("newClientOrderId") or self._new_client_id()
        return reply(wire.canceled_order(result.order, cancel_id, self.venue.now_ms()))

    async def open_orders(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        symbol = self._market(params).symbol if params.get("symbol") else None
        orders = sorted(self.venue.engine.open_orders(key.account, symbol), key=lambda o: o.order_id)
        return reply([wire.query_order(o, self.iceberg.get(o.order_id)) for o in orders])

    async def cancel_open_orders(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        spec = self._market(params)
        if not self.venue.engine.open_orders(key.account, spec.symbol):
            raise errors.cancel_rejected()
        result = self.venue.execute(lambda engine: engine.cancel_all(key.account, spec.symbol))
        now = self.venue.now_ms()
        canceled = [e.order for e in result.events if isinstance(e, OrderEvent) and e.exec_type is ExecType.CANCELED]
        return reply([wire.canceled_order(o, self._new_client_id(), now) for o in canceled])

    async def all_orders(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        spec = self._market(params)
        from_id, start, end = params.integer("orderId"), params.integer("startTime"), params.integer("endTime")
        limit = min(params.integer("limit", 500) or 500, 1000)
        orders = [
            o
            for o in self.venue.engine.orders(key.account, spec.symbol)
            if (from_id is None or o.order_id >= from_id)
            and (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
        ]
        orders = orders[:limit] if from_id is not None or start is not None else orders[-limit:]
        return reply([wire.query_order(o, self.iceberg.get(o.order_id)) for o in orders])

    async def my_trades(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        spec = self._market(params)
        order_id, from_id = params.integer("orderId"), params.integer("fromId")
        start, end = params.integer("startTime"), params.integer("endTime")
        limit = min(params.integer("limit", 500) or 500, 1000)
        fills = [
            f
            for f in self.venue.engine.fills(key.account, spec.symbol)
            if (order_id is None or f.order_id == order_id)
            and (from_id is None or f.trade.trade_id >= from_id)
            and (start is None or f.trade.time_ms >= start)
            and (end is None or f.trade.time_ms <= end)
        ]
        fills = fills[:limit] if from_id is not None or start is not None else fills[-limit:]
        return reply([wire.my_trade(f) for f in fills])

    async def account(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        omit_zero = (params.get("omitZeroBalances") or "false").lower() == "true"
        engine = self.venue.engine
        body = wire.account(
            key.account,
            engine.fees_for(key.account),
            engine.wallets(key.account),
            self.profile.assets,
            self.venue.now_ms(),
            omit_zero,
        )
        return reply(body)

    async def commission(self, request: web.Request) -> web.Response:
        key, params = await self._signed(request)
        spec = self._market(params)
        fees = self.venue.engine.fees_for(key.account)
        rates = {
            "maker": wire.fixed(fees.maker),
            "taker": wire.fixed(fees.taker),
            "buyer": wire.fixed(Decimal(0)),
            "seller": wire.fixed(Decimal(0)),
        }
        zero = {k: wire.fixed(Decimal(0)) for k in rates}
        return reply(
            {
                "symbol": market_id(spec.symbol),
                "standardCommission": rates,
                "specialCommission": zero,
                "taxCommission": zero,
                "discount": {
                    "enabledForAccount": False,
                    "enabledForSymbol": False,
                    "discountAsset": "BNB",
                    "discount": "0.75000000",
                },
            }
        )

    # --- user data stream (listenKey) ----------------------------------------------------

    async def listen_key_new(self, request: web.Request) -> web.Response:
        key = self._key(request)
        return reply({"listenKey": self.listen_keys.create(key.account)})

    async def listen_key_keepalive(self, request: web.Request) -> web.Response:
        self._key(request)
        params, _, _ = await self._params(request)
        if not self.listen_keys.exists(params.require("listenKey")):
            raise BinanceError(-1125, "This listenKey does not exist.")
        return reply({})

    async def listen_key_close(self, request: web.Request) -> web.Response:
        self._key(request)
        params, _, _ = await self._params(request)
        self.listen_keys.close(params.require("listenKey"))
        return reply({})


def _without_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if part and not part.startswith("signature="))


def _ws_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _weight(method: str, path: str, query: Any) -> int:
    """Request weights as documented for Binance spot."""
    if path == "/depth":
        limit = int(query.get("limit", "100") or 100) if str(query.get("limit", "100")).isdigit() else 100
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if path in ("/ticker/24hr", "/ticker"):
        return 2 if "symbol" in query else 80
    if path in ("/ticker/price", "/ticker/bookTicker"):
        return 2 if "symbol" in query else 4
    if path == "/openOrders" and method == "GET":
        return 6 if "symbol" in query else 80
    return {
        "/exchangeInfo": 20,
        "/trades": 25,
        "/aggTrades": 4,
        "/avgPrice": 2,
        "/allOrders": 20,
        "/myTrades": 20,
        "/account": 20,
        "/account/commission": 20,
        "/userDataStream": 2,
    }.get(path, 4 if (path == "/order" and method == "GET") else 1)
