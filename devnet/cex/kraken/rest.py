"""Kraken spot REST (``/0/public/*``, ``/0/private/*``): the endpoints ccxt's ``kraken`` class calls.

Private calls are POSTs checked as Kraken checks them: ``API-Key`` must name a known key,
``API-Sign`` must be base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body)))
and the body's ``nonce`` must be above the last one this key used (a replayed or reordered
request is refused with ``EAPI:Invalid nonce`` and does nothing). Orders carry a client
reference as ``userref`` (an int32 shared by any number of orders) or ``cl_ord_id`` (unique
among the key's open orders); both find and cancel orders.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from devnet.cex.auth import ApiKey, kraken_signature, same
from devnet.cex.dialect import ORDER_ACCEPTED, RequestCost
from devnet.cex.engine import (
    EngineRejection,
    Order,
    OrderEvent,
    OrderNotFound,
    OrderNotOpen,
    OrderRequest,
    OrderType,
    Reject,
    Side,
    TimeInForce,
)
from devnet.cex.kraken import errors, wire
from devnet.cex.kraken.errors import KrakenError
from devnet.cex.kraken.profile import ALTNAMES, ASSET_IDS, PAIR_BY_NAME, PAIRS, PROFILE, Pair
from devnet.cex.kraken.ws import KrakenStreams
from devnet.cex.numbers import BadNumber, parse_decimal
from devnet.cex.ratelimit import Decision, Verdict
from devnet.cex.venue import Venue

PUBLIC = "/0/public/"
PRIVATE = "/0/private/"
USERREF_RANGE = range(-(2**31), 2**31)
# cl_ord_id: a UUID, long (with hyphens) or short (32 hex digits), or free text of at most 18 characters
_HEX = "[0-9a-fA-F]"
_CL_ORD_ID = re.compile(rf"^({_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}}|[ -~]{{1,18}})$")
TOKEN_TTL_S = 900
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Params = dict[str, Any]


def reply(result: Any, errors_: list[str] | None = None, status: int = 200) -> web.Response:
    body: dict[str, Any] = {"error": errors_ or []}
    if result is not None:
        body["result"] = result
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


class KrakenDialect:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.profile = PROFILE
        self.userrefs: dict[int, int] = {}  # order id → userref (0: none)
        self.nonces: dict[str, int] = {}  # API key → last nonce accepted
        self.tokens: dict[str, tuple[str, int]] = {}  # websocket token → (account, expiry ms)
        self._placing = 0  # the userref of the order being submitted, before its id is known
        self.streams = KrakenStreams(venue, self.userref_of, self.token_account)

    # --- server contract ----------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        public: dict[str, Handler] = {
            "Time": self.time,
            "SystemStatus": self.system_status,
            "Assets": self.assets,
            "AssetPairs": self.asset_pairs,
            "Ticker": self.ticker,
            "Depth": self.depth,
            "Trades": self.public_trades,
        }
        private: dict[str, Callable[[web.Request, ApiKey, Params], Awaitable[web.Response]]] = {
            "Balance": self.balance,
            "BalanceEx": self.balance_ex,
            "AddOrder": self.add_order,
            "CancelOrder": self.cancel_order,
            "CancelAll": self.cancel_all,
            "OpenOrders": self.open_orders,
            "ClosedOrders": self.closed_orders,
            "QueryOrders": self.query_orders,
            "TradesHistory": self.trades_history,
            "GetWebSocketsToken": self.websockets_token,
        }
        from devnet.cex.kraken import funding  # it uses this module's reply

        private.update(funding.routes(self))
        for name, handler in public.items():
            app.router.add_get(PUBLIC + name, self._guard(handler))
            app.router.add_post(PUBLIC + name, self._guard(handler))
        for name, private_handler in private.items():
            app.router.add_post(PRIVATE + name, self._guard(self._private(private_handler)))
        self.streams.install(app)

    def cost(self, request: web.Request) -> RequestCost | None:
        if not request.path.startswith("/0/"):
            return None
        api_key = request.headers.get("API-Key")
        order_account = None
        if request.path == PRIVATE + "AddOrder":
            key = self.venue.keys.get(api_key)
            order_account = key.account if key else None
        weight = 2 if request.path == PRIVATE + "TradesHistory" else 1
        return RequestCost(api_key or request.remote or "unknown", weight, order_account)

    def limited(self, decision: Decision) -> web.Response:
        message = errors.ORDER_RATE_LIMIT if decision.verdict is Verdict.ORDERS else errors.API_RATE_LIMIT
        return reply(None, [message])

    def unavailable(self) -> web.Response:
        return reply(None, [errors.UNAVAILABLE], 503)

    # --- plumbing ----------------------------------------------------------------------

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except KrakenError as exc:
                return reply(None, [exc.message], exc.status)

        return guarded

    def _private(self, handler: Callable[[web.Request, ApiKey, Params], Awaitable[web.Response]]) -> Handler:
        async def authenticated(request: web.Request) -> web.Response:
            key, params = await self.authenticate(request)
            return await handler(request, key, params)

        return authenticated

    async def authenticate(self, request: web.Request) -> tuple[ApiKey, Params]:
        """The key and the body's parameters of a correctly signed private call with a fresh nonce."""
        key = self.venue.keys.get(request.headers.get("API-Key"))
        if key is None:
            raise KrakenError(errors.INVALID_KEY)
        body = await request.text()
        try:
            if request.content_type == "application/json":
                parsed = json.loads(body) if body else {}
                params: Params = parsed if isinstance(parsed, dict) else {}
            else:
                params = dict(parse_qsl(body, keep_blank_values=True))
        except ValueError:
            raise KrakenError(errors.INVALID_ARGUMENTS) from None
        nonce_text = str(params.get("nonce", ""))
        if not nonce_text.isdigit():
            raise KrakenError(errors.INVALID_NONCE)
        try:
            expected = kraken_signature(key.secret, request.path, nonce_text, body)
        except ValueError:
            raise KrakenError(errors.INVALID_KEY) from None
        if not same(expected, request.headers.get("API-Sign", "")):
            raise KrakenError(errors.INVALID_KEY)
        nonce = int(nonce_text)
        if nonce <= self.nonces.get(key.api_key, 0):
            raise KrakenError(errors.INVALID_NONCE)
        self.nonces[key.api_key] = nonce
        params.pop("nonce", None)
        return key, params

    def userref_of(self, order_id: int) -> int:
        """An order's userref (0: none), also while its own submission's events are published."""
        return self.userrefs.get(order_id, self._placing)

    def token_account(self, token: str) -> str | None:
        """The account a websocket token was issued to, while it is valid."""
        entry = self.tokens.get(token)
        if entry is None or entry[1] < self.venue.now_ms():
            return None
        return entry[0]

    @staticmethod
    def _pair(name: Any) -> Pair:
        pair = PAIR_BY_NAME.get(str(name or ""))
        if pair is None:
            raise KrakenError(errors.UNKNOWN_PAIR)
        return pair

    def _pairs(self, params: Params | Any) -> list[Pair]:
        names = str(params.get("pair") or "")
        return [self._pair(n) for n in names.split(",")] if names else list(PAIRS)

    @staticmethod
    def _count(request: web.Request, default: int, maximum: int) -> int:
        try:
            return max(1, min(int(request.query.get("count", default)), maximum))
        except ValueError:
            raise errors.argument("count") from None

    # --- public ------------------------------------------------------------------------

    async def time(self, _request: web.Request) -> web.Response:
        now_s = self.venue.now_ms() // 1000
        return reply({"unixtime": now_s, "rfc1123": formatdate(now_s, usegmt=True)})

    async def system_status(self, _request: web.Request) -> web.Response:
        return reply({"status": "online", "timestamp": wire.rfc3339(self.venue.now_ms())[:19] + "Z"})

    async def assets(self, request: web.Request) -> web.Response:
        wanted = str(request.query.get("asset") or "")
        assets = self.profile.assets
        if wanted:
            by_name = {ASSET_IDS[a]: a for a in assets} | {ALTNAMES[a]: a for a in assets}
            if any(n not in by_name for n in wanted.split(",")):
                raise KrakenError(errors.UNKNOWN_ASSET)
            assets = [by_name[n] for n in wanted.split(",")]
        return reply({ASSET_IDS[a]: wire.asset_info(a) for a in assets})

    async def asset_pairs(self, request: web.Request) -> web.Response:
        fees = self.venue.engine.fees
        return reply({p.key: wire.asset_pair(p, fees.maker, fees.taker) for p in self._pairs(request.query)})

    async def ticker(self, request: web.Request) -> web.Response:
        engine = self.venue.engine
        rows = {
            p.key: wire.ticker(p, engine.books[p.symbol], engine.ticker(p.symbol)) for p in self._pairs(request.query)
        }
        return reply(rows)

    async def depth(self, request: web.Request) -> web.Response:
        pair = self._pair(request.query.get("pair"))
        count = self._count(request, 100, 500)
        book = self.venue.engine.books[pair.symbol]
        return reply({pair.key: wire.depth(pair, book, count, self.venue.now_ms() // 1000)})

    async def public_trades(self, request: web.Request) -> web.Response:
        pair = self._pair(request.query.get("pair"))
        count = self._count(request, 1000, 1000)
        trades = self.venue.engine.trades(pair.symbol, count)
        last = str(trades[-1].time_ms * 1_000_000) if trades else "0"
        return reply({pair.key: [wire.public_trade(pair, t) for t in trades], "last": last})

    # --- account -----------------------------------------------------------------------

    async def balance(self, _request: web.Request, key: ApiKey, _params: Params) -> web.Response:
        rows = wire.balance_ex(self.venue.engine.wallets(key.account), self.profile.assets)
        return reply({asset: row["balance"] for asset, row in rows.items()})

    async def balance_ex(self, _request: web.Request, key: ApiKey, _params: Params) -> web.Response:
        return reply(wire.balance_ex(self.venue.engine.wallets(key.account), self.profile.assets))

    async def websockets_token(self, _request: web.Request, key: ApiKey, _params: Params) -> web.Response:
        token = base64.b64encode(secrets.token_bytes(32)).decode()
        self.tokens[token] = (key.account, self.venue.now_ms() + TOKEN_TTL_S * 1000)
        return reply({"token": token, "expires": TOKEN_TTL_S})

    # --- trading -----------------------------------------------------------------------

    @staticmethod
    def _userref(params: Params) -> int | None:
        raw = params.get("userref")
        if raw in (None, ""):
            return None
        try:
            value = int(str(raw))
        except ValueError:
            raise errors.argument("userref") from None
        if value not in USERREF_RANGE:
            raise errors.argument("userref")
        return value

    @staticmethod
    def _cl_ord_id(params: Params) -> str:
        value = str(params.get("cl_ord_id") or "")
        if value and not _CL_ORD_ID.match(value):
            raise errors.argument("cl_ord_id")
        return value

    @staticmethod
    def _decimal(params: Params, name: str) -> Decimal:
        try:
            return parse_decimal(params[name])
        except (KeyError, BadNumber):
            raise errors.argument(name) from None

    def _order_request(self, key: ApiKey, params: Params) -> tuple[OrderRequest, Pair]:
        pair = self._pair(params.get("pair"))
        side_text = params.get("type")
        if side_text not in ("buy", "sell"):
            raise errors.argument("type")
        side = Side(side_text)
        flags = set(filter(None, str(params.get("oflags") or "").split(",")))
        if flags - {"post", "fcib", "fciq", "nompp", "viqc"}:
            raise errors.argument("oflags")
        userref = self._userref(params)
        client_id = self._cl_ord_id(params)
        if userref is not None and client_id:
            raise errors.argument("cl_ord_id")  # the two references are mutually exclusive
        tif_text = str(params.get("timeinforce") or "GTC").upper()
        if tif_text not in ("GTC", "IOC"):
            raise errors.argument("timeinforce")
        volume = self._decimal(params, "volume")
        common = {"account": key.account, "symbol": pair.symbol, "side": side, "client_order_id": client_id}
        ordertype = params.get("ordertype")
        if ordertype == "market":
            if "viqc" in flags:
                if side is not Side.BUY:
                    raise errors.argument("viqc")
                return OrderRequest(**common, type=OrderType.MARKET, quote_quantity=volume), pair
            return OrderRequest(**common, type=OrderType.MARKET, quantity=volume), pair
        if ordertype != "limit":
            raise errors.argument("ordertype")
        price = self._decimal(params, "price")
        if price.as_tuple().exponent < -pair.pair_decimals:  # type: ignore[operator]
            raise errors.price_decimals(pair.altname, pair.pair_decimals)
        request = OrderRequest(
            **common,
            type=OrderType.LIMIT,
            quantity=volume,
            price=price,
            time_in_force=TimeInForce(tif_text),
            post_only="post" in flags,
        )
        return request, pair

    @staticmethod
    def _reject(reason: Reject, request: OrderRequest, pair: Pair) -> KrakenError:
        quantity = request.quantity
        if reason in (Reject.LOT_SIZE, Reject.MARKET_LOT_SIZE) and not (
            quantity is not None and 0 < quantity < pair.spec.min_qty
        ):
            return errors.argument("volume")  # off the lot step, or above the maximum
        return errors.from_reject(reason, pair.altname, pair.pair_decimals)

    async def add_order(self, request: web.Request, key: ApiKey, params: Params) -> web.Response:
        order_request, pair = self._order_request(key, params)
        userref = self._userref(params) or 0
        if str(params.get("validate") or "").lower() == "true":
            return reply({"descr": {"order": f"{order_request.side.value} {params['volume']} {pair.altname}"}})
        self._placing = userref
        try:
            result = self.venue.execute(lambda engine: engine.submit(order_request))
        except EngineRejection as exc:
            raise self._reject(exc.reason, order_request, pair) from None
        finally:
            self._placing = 0
        assert result.order is not None
        self.userrefs[result.order.order_id] = userref
        request[ORDER_ACCEPTED] = True
        return reply(wire.add_order_result(result.order))

    def _orders_by_reference(self, key: ApiKey, params: Params, open_only: bool) -> list[Order]:
        """The key's orders that ``txid`` (ids, or a userref), ``userref`` or ``cl_ord_id`` name."""
        engine = self.venue.engine
        orders = engine.open_orders(key.account) if open_only else engine.orders(key.account)
        txids = [t for t in str(params.get("txid") or "").split(",") if t]
        userref = self._userref(params)
        client_id = self._cl_ord_id(params)
        numbers: set[int] = set()
        for text in txids:
            number = wire.txid_number(text)
            if number is not None:
                numbers.add(number)
            elif text.lstrip("-").isdigit():
                userref = int(text)  # CancelOrder's txid may be a userref
            else:
                raise errors.argument("txid")
        return [
            o
            for o in orders
            if (not numbers or o.order_id in numbers)
            and (userref is None or self.userrefs.get(o.order_id, 0) == userref)
            and (not client_id or o.client_order_id == client_id)
        ]

    async def cancel_order(self, _request: web.Request, key: ApiKey, params: Params) -> web.Response:
        if not params.get("txid") and not params.get("cl_ord_id") and params.get("userref") in (None, ""):
            raise errors.argument("txid")
        targets = self._orders_by_reference(key, params, open_only=True)
        if not targets:
            raise KrakenError(errors.UNKNOWN_ORDER)
        count = 0
        for order in targets:
            try:
                self.venue.execute(lambda e, o=order: e.cancel(key.account, o.symbol, o.order_id))
                count += 1
            except (OrderNotFound, OrderNotOpen):
                continue
        if not count:
            raise KrakenError(errors.UNKNOWN_ORDER)
        return reply({"count": count})

    async def cancel_all(self, _request: web.Request, key: ApiKey, _params: Params) -> web.Response:
        count = 0
        for pair in PAIRS:
            result = self.venue.execute(lambda e, p=pair: e.cancel_all(key.account, p.symbol))
            count += sum(isinstance(event, OrderEvent) for event in result.events)
        return reply({"count": count})

    def _trades_of(self, key: ApiKey) -> dict[int, list[str]]:
        by_order: dict[int, list[str]] = {}
        for fill in self.venue.engine.fills(key.account):
            by_order.setdefault(fill.order_id, []).append(wire.trade_txid(fill.trade))
        return by_order

    def _info(self, order: Order, trades: dict[int, list[str]] | None, *, queried: bool = True) -> dict[str, Any]:
        fills = trades.get(order.order_id) if trades is not None else None
        return wire.order_info(order, self.userrefs.get(order.order_id, 0), fills, queried=queried)

    @staticmethod
    def _wants_trades(params: Params) -> bool:
        return str(params.get("trades") or "").lower() == "true"

    async def open_orders(self, _request: web.Request, key: ApiKey, params: Params) -> web.Response:
        orders = self._orders_by_reference(key, params, open_only=True)
        trades = self._trades_of(key) if self._wants_trades(params) else None
        rows = {wire.txid(o.order_id): self._info(o, trades, queried=False) for o in reversed(orders)}
        return reply({"open": rows})

    def _time_bound(self, key: ApiKey, params: Params, name: str) -> float | None:
        """``start``/``end``: Unix seconds, or an order's txid (that order's opening time)."""
        raw = str(params.get(name) or "")
        if not raw:
            return None
        number = wire.txid_number(raw)
        if number is not None:
            order = next((o for o in self.venue.engine.orders(key.account) if o.order_id == number), None)
            return order.created_ms / 1000 if order else None
        try:
            return float(raw)
        except ValueError:
            raise errors.argument(name) from None

    async def closed_orders(self, _request: web.Request, key: ApiKey, params: Params) -> web.Response:
        start, end = self._time_bound(key, params, "start"), self._time_bound(key, params, "end")
        orders = [o for o in self._orders_by_reference(key, params, open_only=False) if not o.status.is_open]
        if start is not None:
            orders = [o for o in orders if o.updated_ms / 1000 >= start]
        if end is not None:
            orders = [o for o in orders if o.updated_ms / 1000 <= end]
        try:
            offset = int(params.get("ofs") or 0)
        except ValueError:
            raise errors.argument("ofs") from None
        orders.sort(key=lambda o: o.order_id, reverse=True)
        trades = self._trades_of(key) if self._wants_trades(params) else None
        page = orders[offset : offset + 50]
        return reply({"closed": {wire.txid(o.order_id): self._info(o, trades) for o in page}, "count": len(orders)})

    async def query_orders(self, _request: web.Request, key: ApiKey, params: Params) -> web.Response:
        txids = [t for t in str(params.get("txid") or "").split(",") if t]
        if not txids and params.get("userref") in (None, ""):
            raise errors.argument("txid")
        if any(wire.txid_number(t) is None for t in txids):
            raise KrakenError(errors.INVALID_ORDER)
        orders = self._orders_by_reference(key, params, open_only=False)
        if txids and len(orders) < len(set(txids)):
            raise KrakenError(errors.INVALID_ORDER)
        trades = self._trades_of(key) if self._wants_trades(params) else None
        return reply({wire.txid(o.order_id): self._info(o, trades) for o in orders})

    async def trades_history(self, _request: web.Request, key: ApiKey, params: Params) -> web.Response:
        start, end = self._time_bound(key, params, "start"), self._time_bound(key, params, "end")
        fills = [
            f
            for f in reversed(self.venue.engine.fills(key.account))
            if (start is None or f.trade.time_ms / 1000 >= start) and (end is None or f.trade.time_ms / 1000 <= end)
        ]
        rows = {wire.trade_txid(f.trade): wire.own_trade(f) for f in fills[:50]}
        return reply({"trades": rows, "count": len(fills)})


__all__ = ["KrakenDialect"]
