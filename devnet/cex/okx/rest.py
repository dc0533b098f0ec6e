"""OKX v5 REST: the endpoints ccxt's ``okx`` class calls for spot.

Private calls are checked as OKX checks them: ``OK-ACCESS-KEY`` must name a known key,
``OK-ACCESS-PASSPHRASE`` must match it, ``OK-ACCESS-TIMESTAMP`` (ISO 8601) must be within
30 s of the server clock, and ``OK-ACCESS-SIGN`` must be base64(HMAC-SHA256(secret,
timestamp + METHOD + path[?query] + body)).
"""

from __future__ import annotations

import itertools
import json
import re
import time
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web

from devnet.cex.auth import ApiKey, hmac_sha256_b64, same
from devnet.cex.dialect import ORDER_ACCEPTED, RequestCost
from devnet.cex.engine import (
    EngineRejection,
    MarketSpec,
    OrderNotFound,
    OrderNotOpen,
    OrderRequest,
    OrderType,
    Reject,
    Side,
    TimeInForce,
)
from devnet.cex.numbers import BadNumber, parse_decimal
from devnet.cex.okx import errors, wire
from devnet.cex.okx.errors import OkxError
from devnet.cex.okx.profile import PROFILE, SYMBOL_BY_INST
from devnet.cex.okx.ws import OkxStreams
from devnet.cex.ratelimit import Decision
from devnet.cex.venue import Venue

API = "/api/v5"
_CLIENT_ID = re.compile(r"^[a-zA-Z0-9]{1,32}$")
_ORD_TYPES = {
    "limit": (OrderType.LIMIT, TimeInForce.GTC, False),
    "post_only": (OrderType.LIMIT, TimeInForce.GTC, True),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC, False),
    "fok": (OrderType.LIMIT, TimeInForce.FOK, False),
    "market": (OrderType.MARKET, TimeInForce.IOC, False),
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(payload), status=status, content_type="application/json", headers=headers
    )


def _micros() -> str:
    return str(time.time_ns() // 1000)


def parse_timestamp(text: str) -> int:
    """OKX ``2020-12-08T09:08:57.715Z`` → epoch milliseconds (raises ValueError)."""
    if not text.endswith("Z"):
        raise ValueError(text)
    return int(datetime.fromisoformat(text[:-1] + "+00:00").timestamp() * 1000)


class OkxDialect:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.profile = PROFILE
        self.tags: dict[int, str] = {}
        self.streams = OkxStreams(venue, self.tags, self.authenticate_login)
        self._ids = itertools.count(1)
        self._paths: set[str] = set()  # every path served, for telling a wrong method from a missing path

    # --- server contract ----------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        get, post = app.router.add_get, app.router.add_post
        routes: list[tuple[Callable[..., Any], str, Handler]] = [
            (get, "/public/time", self.time),
            (get, "/public/instruments", self.instruments),
            (get, "/market/books", self.books),
            (get, "/market/ticker", self.ticker),
            (get, "/market/tickers", self.tickers),
            (get, "/market/trades", self.public_trades),
            (get, "/account/balance", self.balance),
            (get, "/account/config", self.account_config),
            (get, "/asset/currencies", self.currencies),
            (get, "/asset/balances", self.funding_balances),
            (post, "/trade/order", self.place_order),
            (post, "/trade/batch-orders", self.place_batch),
            (get, "/trade/order", self.get_order),
            (post, "/trade/cancel-order", self.cancel_order),
            (post, "/trade/cancel-batch-orders", self.cancel_batch),
            (get, "/trade/orders-pending", self.orders_pending),
            (get, "/trade/orders-history", self.orders_history),
            (get, "/trade/orders-history-archive", self.orders_history),
            (get, "/trade/fills", self.fills),
            (get, "/trade/fills-history", self.fills),
        ]
        for add, path, handler in routes:
            add(API + path, self._guard(handler))
        from devnet.cex.okx import funding  # it uses this module's reply

        funding_routes = funding.routes(self)
        for method, path, handler in funding_routes:
            app.router.add_route(method, path, self._guard(handler))
        self._paths = {API + path for _, path, _ in routes} | {path for _, path, _ in funding_routes}
        self.streams.install(app)
        app.router.add_route("*", API + "/{tail:.*}", self._guard(self.missing))  # after every real route

    async def missing(self, request: web.Request) -> web.Response:
        """A path or method the simulator does not serve, answered as OKX answers one it does
        not offer: its JSON envelope (HTTP 410, 50005; a known path with the wrong method:
        HTTP 400, 50115), never a plain-text 404, so a client sees OKX's error shape."""
        if request.path in self._paths:
            raise errors.METHOD_INVALID
        raise errors.ENDPOINT_UNAVAILABLE

    def cost(self, request: web.Request) -> RequestCost | None:
        if not request.path.startswith(API):
            return None
        api_key = request.headers.get("OK-ACCESS-KEY")
        client = api_key or request.remote or "unknown"
        order_account = None
        if request.method == "POST" and request.path in (API + "/trade/order", API + "/trade/batch-orders"):
            key = self.venue.keys.get(api_key)
            order_account = key.account if key else None
        return RequestCost(client, 1, order_account)

    def limited(self, decision: Decision) -> web.Response:
        return reply({"msg": "Too Many Requests", "code": "50011"}, 429, {"Retry-After": str(decision.retry_after_s)})

    def unavailable(self) -> web.Response:
        return reply(wire.envelope([], "50013", "Systems are busy. Please try again later."), 503)

    # --- plumbing ----------------------------------------------------------------------

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except OkxError as exc:
                body: dict[str, Any] = {"msg": exc.msg, "code": exc.code}
                if exc.status != 401:
                    body = wire.envelope([], exc.code, exc.msg)
                return reply(body, exc.status)

        return guarded

    async def _authenticate(self, request: web.Request) -> tuple[ApiKey, str]:
        headers = request.headers
        api_key = headers.get("OK-ACCESS-KEY")
        if not api_key:
            raise errors.KEY_EMPTY
        key = self.venue.keys.get(api_key)
        if key is None:
            raise errors.KEY_INVALID
        sign = headers.get("OK-ACCESS-SIGN")
        if not sign:
            raise errors.SIGN_EMPTY
        stamp = headers.get("OK-ACCESS-TIMESTAMP")
        if not stamp:
            raise errors.TIMESTAMP_EMPTY
        passphrase = headers.get("OK-ACCESS-PASSPHRASE")
        if not passphrase:
            raise errors.PASSPHRASE_EMPTY
        try:
            stamp_ms = parse_timestamp(stamp)
        except ValueError:
            raise errors.TIMESTAMP_INVALID from None
        if abs(self.venue.now_ms() - stamp_ms) > 30_000:
            raise errors.TIMESTAMP_EXPIRED
        if key.passphrase is None or not same(key.passphrase, passphrase):
            raise errors.PASSPHRASE_WRONG
        body = await request.text() if request.body_exists else ""
        path = request.rel_url.raw_path
        if request.rel_url.raw_query_string:
            path += "?" + request.rel_url.raw_query_string
        if not same(hmac_sha256_b64(key.secret, (stamp + request.method + path + body).encode()), sign):
            raise errors.SIGN_INVALID
        return key, body

    def authenticate_login(self, args: dict[str, Any]) -> ApiKey:
        """Websocket login: sign = base64(HMAC(secret, timestamp + 'GET' + '/users/self/verify')), timestamp in s."""
        key = self.venue.keys.get(str(args.get("apiKey") or ""))
        if key is None:
            raise OkxError("60005", "Invalid OK-ACCESS-KEY")
        if key.passphrase is None or not same(key.passphrase, str(args.get("passphrase") or "")):
            raise OkxError("60024", "Wrong passphrase")
        stamp = str(args.get("timestamp") or "")
        try:
            seconds = float(stamp)
        except ValueError:
            raise OkxError("60004", "Invalid timestamp") from None
        if abs(self.venue.now_ms() / 1000 - seconds) > 30:
            raise OkxError("60006", "Timestamp request expired")
        expected = hmac_sha256_b64(key.secret, (stamp + "GET" + "/users/self/verify").encode())
        if not same(expected, str(args.get("sign") or "")):
            raise OkxError("60007", "Invalid sign")
        return key

    @staticmethod
    async def _json(body: str) -> Any:
        try:
            return json.loads(body) if body else {}
        except ValueError:
            raise OkxError("50002", "JSON syntax error") from None

    def _spec(self, inst: str | None) -> MarketSpec:
        symbol = SYMBOL_BY_INST.get(inst or "")
        if symbol is None:
            raise errors.instrument_missing()
        return self.venue.engine.markets[symbol]

    def _specs(self, request: web.Request) -> list[MarketSpec]:
        inst = request.query.get("instId")
        return [self._spec(inst)] if inst else list(self.venue.engine.markets.values())

    @staticmethod
    def _limit(request: web.Request, default: int, maximum: int) -> int:
        try:
            return max(1, min(int(request.query.get("limit", default)), maximum))
        except ValueError:
            raise errors.parameter("limit") from None

    # --- public ------------------------------------------------------------------------

    async def time(self, _request: web.Request) -> web.Response:
        return reply(wire.envelope([{"ts": str(self.venue.now_ms())}]))

    async def instruments(self, request: web.Request) -> web.Response:
        inst_type = request.query.get("instType")
        if not inst_type:
            raise OkxError("50014", "Parameter instType can not be empty.")
        if inst_type != "SPOT":
            return reply(wire.envelope([]))
        return reply(wire.envelope([wire.instrument(s) for s in self._specs(request)]))

    async def books(self, request: web.Request) -> web.Response:
        spec = self._spec(request.query.get("instId"))
        try:
            depth = max(1, min(int(request.query.get("sz", "1")), 400))
        except ValueError:
            raise errors.parameter("sz") from None
        book = self.venue.engine.books[spec.symbol]
        return reply(wire.envelope([wire.books(book, depth, self.venue.now_ms())]))

    async def ticker(self, request: web.Request) -> web.Response:
        spec = self._spec(request.query.get("instId"))
        engine = self.venue.engine
        row = wire.ticker(spec, engine.books[spec.symbol], engine.ticker(spec.symbol), self.venue.now_ms())
        return reply(wire.envelope([row]))

    async def tickers(self, request: web.Request) -> web.Response:
        if request.query.get("instType") != "SPOT":
            return reply(wire.envelope([]))
        engine = self.venue.engine
        now = self.venue.now_ms()
        rows = [wire.ticker(s, engine.books[s.symbol], engine.ticker(s.symbol), now) for s in engine.markets.values()]
        return reply(wire.envelope(rows))

    async def public_trades(self, request: web.Request) -> web.Response:
        spec = self._spec(request.query.get("instId"))
        trades = self.venue.engine.trades(spec.symbol, self._limit(request, 100, 500))
        return reply(wire.envelope([wire.public_trade(t) for t in reversed(trades)]))

    # --- account -----------------------------------------------------------------------

    async def balance(self, request: web.Request) -> web.Response:
        key, _ = await self._authenticate(request)
        only = set(request.query["ccy"].split(",")) if request.query.get("ccy") else None
        wallets = self.venue.engine.wallets(key.account)
        return reply(wire.envelope([wire.balance(wallets, self.profile.assets, self.venue.now_ms(), only)]))

    async def funding_balances(self, request: web.Request) -> web.Response:
        await self._authenticate(request)
        return reply(wire.envelope([]))

    async def account_config(self, request: web.Request) -> web.Response:
        key, _ = await self._authenticate(request)
        uid = str(10**16 + zlib.crc32(key.account.encode()))
        row = {
            "acctLv": "1",
            "acctStpMode": "cancel_maker",
            "autoLoan": False,
            "ctIsoMode": "automatic",
            "enableSpotBorrow": False,
            "greeksType": "PA",
            "ip": "",
            "kycLv": "2",
            "label": "devnet",
            "level": "Lv1",
            "levelTmp": "",
            "liquidationGear": "-1",
            "mainUid": uid,
            "mgnIsoMode": "automatic",
            "opAuth": "0",
            "perm": "read_only,trade",
            "posMode": "net_mode",
            "roleType": "0",
            "spotBorrowAutoRepay": False,
            "spotOffsetType": "",
            "spotRoleType": "0",
            "spotTraderInsts": [],
            "traderInsts": [],
            "uid": uid,
        }
        return reply(wire.envelope([row]))

    async def currencies(self, request: web.Request) -> web.Response:
        await self._authenticate(request)
        wanted = set(request.query["ccy"].split(",")) if request.query.get("ccy") else None
        from devnet.cex.okx.funding import currency_rows

        return reply(wire.envelope(currency_rows(self, wanted)))

    # --- trading -----------------------------------------------------------------------

    def _order_request(self, key: ApiKey, item: dict[str, Any]) -> tuple[OrderRequest, MarketSpec]:
        spec = self._spec(item.get("instId"))
        side_text = item.get("side")
        if side_text not in ("buy", "sell"):
            raise errors.parameter("side")
        side = Side(side_text)
        if item.get("tdMode") != "cash":
            raise errors.parameter("tdMode")
        ord_type = item.get("ordType")
        if ord_type not in _ORD_TYPES:
            raise errors.parameter("ordType")
        kind, tif, post_only = _ORD_TYPES[ord_type]
        client_id = str(item.get("clOrdId") or "")
        if client_id and not _CLIENT_ID.match(client_id):
            raise errors.parameter("clOrdId")
        try:
            size = parse_decimal(item["sz"])
        except (KeyError, BadNumber):
            raise errors.parameter("sz") from None
        common = {"account": key.account, "symbol": spec.symbol, "side": side, "client_order_id": client_id}
        if kind is OrderType.MARKET:
            default_target = "quote_ccy" if side is Side.BUY else "base_ccy"
            target = item.get("tgtCcy") or default_target
            if target not in ("base_ccy", "quote_ccy"):
                raise errors.parameter("tgtCcy")
            if target == "quote_ccy":  # sz in the quote currency, for a buy or a sell
                return OrderRequest(**common, type=kind, quote_quantity=size), spec
            return OrderRequest(**common, type=kind, quantity=size), spec
        try:
            price = parse_decimal(item["px"])
        except (KeyError, BadNumber):
            raise errors.parameter("px") from None
        return OrderRequest(
            **common, type=kind, quantity=size, price=price, time_in_force=tif, post_only=post_only
        ), spec

    def _place_one(self, request: web.Request, key: ApiKey, item: Any) -> dict[str, Any]:
        now = str(self.venue.now_ms())
        client_id = str(item.get("clOrdId") or "") if isinstance(item, dict) else ""
        tag = str(item.get("tag") or "") if isinstance(item, dict) else ""
        row = {"clOrdId": client_id, "ordId": "", "tag": tag, "ts": now}
        try:
            if not isinstance(item, dict):
                raise errors.parameter("body")
            order_request, spec = self._order_request(key, item)
        except OkxError as exc:
            return {**row, "sCode": exc.code, "sMsg": exc.msg}
        try:
            result = self.venue.execute(lambda engine: engine.submit(order_request))
        except EngineRejection as exc:
            code, msg = self._reject(exc.reason, order_request, spec)
            return {**row, "sCode": code, "sMsg": msg}
        assert result.order is not None
        self.tags[result.order.order_id] = tag
        request[ORDER_ACCEPTED] = True
        return {**row, "ordId": str(result.order.order_id), "sCode": "0", "sMsg": "Order placed"}

    @staticmethod
    def _reject(reason: Reject, order_request: OrderRequest, spec: MarketSpec) -> tuple[str, str]:
        quantity = order_request.quantity
        if reason in (Reject.LOT_SIZE, Reject.MARKET_LOT_SIZE) and quantity is not None and quantity < spec.min_qty:
            return "51020", "Your order should meet or exceed the minimum order amount."
        return errors.from_reject(reason, spec.base, spec.quote, order_request.side is Side.BUY)

    async def place_order(self, request: web.Request) -> web.Response:
        key, body = await self._authenticate(request)
        in_time = _micros()
        row = self._place_one(request, key, await self._json(body))
        failed = row["sCode"] != "0"
        payload = wire.envelope([row], "1" if failed else "0", "All operations failed" if failed else "")
        return reply({**payload, "inTime": in_time, "outTime": _micros()})

    async def place_batch(self, request: web.Request) -> web.Response:
        key, body = await self._authenticate(request)
        in_time = _micros()
        items = await self._json(body)
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            raise errors.parameter("body")
        rows = [self._place_one(request, key, item) for item in items]
        failures = sum(r["sCode"] != "0" for r in rows)
        if failures == 0:
            payload = wire.envelope(rows)
        elif failures == len(rows):
            payload = wire.envelope(rows, "1", "All operations failed")
        else:
            payload = wire.envelope(rows, "2", "Batch operation partially succeeded")
        return reply({**payload, "inTime": in_time, "outTime": _micros()})

    def _lookup(self, key: ApiKey, params: dict[str, Any]) -> tuple[MarketSpec, int | None, str | None]:
        spec = self._spec(params.get("instId"))
        raw_id = params.get("ordId")
        client_id = params.get("clOrdId") or None
        if not raw_id and not client_id:
            raise OkxError("51003", "Either client order ID or order ID is required.")
        try:
            order_id = int(raw_id) if raw_id else None
        except ValueError:
            raise errors.parameter("ordId") from None
        return spec, order_id, client_id

    async def get_order(self, request: web.Request) -> web.Response:
        key, _ = await self._authenticate(request)
        spec, order_id, client_id = self._lookup(key, dict(request.query))
        try:
            order = self.venue.engine.order(key.account, spec.symbol, order_id, client_id)
        except OrderNotFound:
            raise errors.order_missing() from None
        return reply(wire.envelope([wire.order(order, spec, self.tags.get(order.order_id, ""))]))

    def _cancel_one(self, key: ApiKey, item: Any) -> dict[str, Any]:
        params = item if isinstance(item, dict) else {}
        row = {
            "clOrdId": str(params.get("clOrdId") or ""),
            "ordId": str(params.get("ordId") or ""),
            "ts": str(self.venue.now_ms()),
        }
        try:
            spec, order_id, client_id = self._lookup(key, params)
            result = self.venue.execute(lambda engine: engine.cancel(key.account, spec.symbol, order_id, client_id))
        except OkxError as exc:
            return {**row, "sCode": exc.code, "sMsg": exc.msg}
        except (OrderNotFound, OrderNotOpen) as exc:
            code, msg = errors.CANCEL_MISSING
            if isinstance(exc, OrderNotOpen):
                code = "51401" if exc.order.status.value != "filled" else "51402"
            return {**row, "sCode": code, "sMsg": msg}
        assert result.order is not None
        return {
            **row,
            "clOrdId": result.order.client_order_id,
            "ordId": str(result.order.order_id),
            "sCode": "0",
            "sMsg": "",
        }

    async def cancel_order(self, request: web.Request) -> web.Response:
        key, body = await self._authenticate(request)
        in_time = _micros()
        row = self._cancel_one(key, await self._json(body))
        failed = row["sCode"] != "0"
        payload = wire.envelope([row], "1" if failed else "0", "All operations failed" if failed else "")
        return reply({**payload, "inTime": in_time, "outTime": _micros()})

    async def cancel_batch(self, request: web.Request) -> web.Response:
        key, body = await self._authenticate(request)
        items = await self._json(body)
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            raise errors.parameter("body")
        rows = [self._cancel_one(key, item) for item in items]
        failures = sum(r["sCode"] != "0" for r in rows)
        code, msg = (
            ("0", "") if not failures else ("1", "All operations failed") if failures == len(rows) else ("2", "")
        )
        return reply(wire.envelope(rows, code, msg))

    def _orders(self, request: web.Request, key: ApiKey, open_only: bool) -> list[dict[str, Any]]:
        inst_type = request.query.get("instType")
        if not open_only and not inst_type:
            raise OkxError("50014", "Parameter instType can not be empty.")
        if inst_type not in (None, "", "SPOT"):
            return []
        inst = request.query.get("instId")
        symbol = self._spec(inst).symbol if inst else None
        engine = self.venue.engine
        orders = engine.open_orders(key.account, symbol) if open_only else engine.orders(key.account, symbol)
        if not open_only:
            orders = [o for o in orders if not o.status.is_open]
        ord_type = request.query.get("ordType")
        rows = []
        for order in sorted(orders, key=lambda o: o.order_id, reverse=True):
            row = wire.order(order, engine.markets[order.symbol], self.tags.get(order.order_id, ""))
            if ord_type and row["ordType"] != ord_type:
                continue
            if request.query.get("state") and row["state"] != request.query["state"]:
                continue
            rows.append(row)
        return rows[: self._limit(request, 100, 100)]

    async def orders_pending(self, request: web.Request) -> web.Response:
        key, _ = await self._authenticate(request)
        return reply(wire.envelope(self._orders(request, key, open_only=True)))

    async def orders_history(self, request: web.Request) -> web.Response:
        key, _ = await self._authenticate(request)
        return reply(wire.envelope(self._orders(request, key, open_only=False)))

    async def fills(self, request: web.Request) -> web.Response:
        key, _ = await self._authenticate(request)
        if request.query.get("instType") not in (None, "", "SPOT"):
            return reply(wire.envelope([]))
        inst = request.query.get("instId")
        symbol = self._spec(inst).symbol if inst else None
        order_id = request.query.get("ordId")
        try:
            begin = int(request.query.get("begin") or 0)
            end = int(request.query.get("end") or 2**63)
        except ValueError:
            raise errors.parameter("begin/end") from None
        rows = [
            wire.fill_row(f, self.tags.get(f.order_id, ""))
            for f in reversed(self.venue.engine.fills(key.account, symbol))
            if (not order_id or str(f.order_id) == order_id) and begin <= f.trade.time_ms <= end
        ]
        return reply(wire.envelope(rows[: self._limit(request, 100, 100)]))


__all__ = ["OkxDialect"]
