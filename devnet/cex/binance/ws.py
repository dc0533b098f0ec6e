"""Binance spot websockets: market streams, listenKey user streams and the WebSocket API.

- ``/ws[/<stream>|/<listenKey>]`` raw streams, ``/stream?streams=a/b`` combined streams
  (payloads wrapped as ``{"stream", "data"}``), both also under a ``/stream`` prefix
  (``/stream/ws/0``), because ccxt.pro's binance recognises spot sockets by ``/stream``
  in their URL. ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS`` as on Binance.
- Streams: ``<sym>@depth[@100ms|@1000ms]`` (diffs with ``U``/``u`` = the book's update ids,
  gap-free, so a client syncs against ``/api/v3/depth``'s ``lastUpdateId``),
  ``<sym>@depth5|10|20``, ``<sym>@trade``, ``<sym>@aggTrade``, ``<sym>@bookTicker`` and a
  listenKey (``executionReport``, ``outboundAccountPosition``, ``balanceUpdate``).
- ``/ws-api/v3``: ``ping``, ``time``, ``userDataStream.subscribe.signature`` (how ccxt.pro
  watches spot orders and balances), ``userDataStream.unsubscribe``; events arrive as
  ``{"subscriptionId", "event"}``.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from devnet.cex.auth import ApiKey
from devnet.cex.binance import wire
from devnet.cex.binance.errors import BinanceError
from devnet.cex.binance.profile import SYMBOL_BY_ID
from devnet.cex.bus import Outbox
from devnet.cex.engine import BalanceEvent, BookDelta, Event, OrderEvent, TradeEvent
from devnet.cex.venue import Venue

_DIFF_SUFFIXES = ("", "@100ms", "@1000ms")


class ListenKeys:
    """listenKey → account, for REST-created user data streams."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def create(self, account: str) -> str:
        for key, owner in self._keys.items():
            if owner == account:
                return key  # Binance hands out the same key while it is alive
        key = secrets.token_urlsafe(45)[:60]
        self._keys[key] = account
        return key

    def exists(self, key: str) -> bool:
        return key in self._keys

    def account(self, key: str) -> str | None:
        return self._keys.get(key)

    def close(self, key: str) -> None:
        self._keys.pop(key, None)


@dataclass(frozen=True)
class _Stream:
    kind: str  # diff | partial | trade | agg | ticker | user
    target: str  # unified symbol, or the account of a user stream
    depth: int = 0


def _encode(payload: Any) -> str:
    return msgspec.json.encode(payload).decode()


class _StreamConnection:
    """One market/user stream socket: what it subscribed to, and the frames it is owed."""

    def __init__(self, venue: Venue, keys: ListenKeys, outbox: Outbox, combined: bool) -> None:
        self.venue = venue
        self.keys = keys
        self.outbox = outbox
        self.combined = combined
        self.streams: dict[str, _Stream] = {}
        self.unsubscribe = venue.bus.subscribe(self.on_event)

    def parse(self, name: str) -> _Stream | None:
        account = self.keys.account(name)
        if account is not None:
            return _Stream("user", account)
        market, _, rest = name.partition("@")
        symbol = SYMBOL_BY_ID.get(market.upper())
        if symbol is None:
            return None
        if rest in tuple("depth" + s for s in _DIFF_SUFFIXES):
            return _Stream("diff", symbol)
        for depth in (5, 10, 20):
            if rest in tuple(f"depth{depth}{s}" for s in _DIFF_SUFFIXES):
                return _Stream("partial", symbol, depth)
        kinds = {"trade": "trade", "aggtrade": "agg", "bookticker": "ticker"}
        kind = kinds.get(rest.lower())
        return _Stream(kind, symbol) if kind else None

    def add(self, name: str) -> None:
        stream = self.parse(name)
        if stream is not None and name not in self.streams:
            self.streams[name] = stream
            self.venue.subscriptions.add(self._key(name))

    def remove(self, name: str) -> None:
        if name in self.streams:
            key = self._key(name)  # named from the stream, so before it is dropped
            del self.streams[name]
            self.venue.subscriptions.remove(key)

    def close(self) -> None:
        self.unsubscribe()
        for name in list(self.streams):
            self.remove(name)

    def _key(self, name: str) -> str:
        stream = self.streams[name]
        return f"user:{stream.target}" if stream.kind == "user" else name

    def send(self, name: str, payload: Any) -> None:
        self.outbox.send(_encode({"stream": name, "data": payload} if self.combined else payload))

    def on_event(self, event: Event) -> None:
        now = self.venue.now_ms()
        engine = self.venue.engine
        for name, stream in self.streams.items():
            if isinstance(event, BookDelta) and event.symbol == stream.target:
                if stream.kind == "diff":
                    self.send(name, wire.depth_update(event))
                elif stream.kind == "partial":
                    self.send(name, wire.partial_depth(engine.books[stream.target], stream.depth))
                elif stream.kind == "ticker":
                    spec = engine.markets[stream.target]
                    self.send(name, wire.book_ticker_event(spec, engine.books[stream.target]))
            elif isinstance(event, TradeEvent) and event.trade.symbol == stream.target:
                if stream.kind == "trade":
                    self.send(name, wire.trade_event(event.trade, now))
                elif stream.kind == "agg":
                    self.send(name, wire.agg_trade_event(event.trade, now))
            elif stream.kind == "user":
                for payload in user_payloads(event, stream.target, now):
                    self.send(name, payload)


def user_payloads(event: Event, account: str, now: int) -> list[dict[str, Any]]:
    """The user-data events ``event`` means for ``account`` (none if it is someone else's)."""
    if isinstance(event, OrderEvent) and event.order.account == account:
        return [wire.execution_report(event, now)]
    if isinstance(event, BalanceEvent) and event.account == account:
        out = [wire.account_position(event.assets, now)]
        if event.deposit is not None:
            out.insert(0, wire.balance_update(event.deposit[0], event.deposit[1], now))
        return out
    return []


class BinanceStreams:
    def __init__(self, venue: Venue, keys: ListenKeys, verify: Callable[[dict[str, Any]], ApiKey]) -> None:
        self.venue = venue
        self.keys = keys
        self.verify = verify
        self._subscription_ids = itertools.count(0)

    def install(self, app: web.Application) -> None:
        for prefix in ("", "/stream"):
            app.router.add_get(prefix + "/ws-api/v3", self.ws_api)
        for path in ("/ws", "/ws/{tail:.*}", "/stream", "/stream/{tail:.*}"):
            app.router.add_get(path, self.market)

    async def market(self, request: web.Request) -> web.WebSocketResponse:
        path = request.path
        if path.startswith("/stream/") and path[len("/stream") :].startswith(("/ws", "/stream")):
            path = path[len("/stream") :]
        combined = path.startswith("/stream") or "streams" in request.query
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        outbox = self.venue.open_outbox(ws, request)
        conn = _StreamConnection(self.venue, self.keys, outbox, combined)
        initial = request.query.get("streams", "").split("/") if "streams" in request.query else path.split("/")[2:]
        for name in initial:
            if name:
                conn.add(name)
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                self._command(conn, msg.data)
        finally:
            conn.close()
            await self.venue.close_outbox(outbox)
        return ws

    @staticmethod
    def _command(conn: _StreamConnection, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            conn.outbox.send(_encode({"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}}))
            return
        if not isinstance(request, dict):
            conn.outbox.send(_encode({"error": {"code": 3, "msg": "Invalid JSON: expected an object"}}))
            return
        request_id = request.get("id")
        method = request.get("method")
        params = request.get("params") or []
        if not isinstance(params, list):
            conn.outbox.send(
                _encode({"error": {"code": 2, "msg": "Invalid request: params must be a list"}, "id": request_id})
            )
            return
        if method == "SUBSCRIBE":
            for name in params:
                conn.add(str(name))
            result: Any = None
        elif method == "UNSUBSCRIBE":
            for name in params:
                conn.remove(str(name))
            result = None
        elif method == "LIST_SUBSCRIPTIONS":
            result = list(conn.streams)
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            result = conn.combined if method == "GET_PROPERTY" else None
        else:
            conn.outbox.send(
                _encode({"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"}, "id": request_id})
            )
            return
        conn.outbox.send(_encode({"result": result, "id": request_id}))

    async def ws_api(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        outbox = self.venue.open_outbox(ws, request)
        subscriptions: dict[int, str] = {}

        def on_event(event: Event) -> None:
            now = self.venue.now_ms()
            for subscription_id, account in subscriptions.items():
                for payload in user_payloads(event, account, now):
                    outbox.send(_encode({"subscriptionId": subscription_id, "event": payload}))

        unsubscribe = self.venue.bus.subscribe(on_event)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    outbox.send(_encode(self._api_call(msg.data, subscriptions)))
        finally:
            unsubscribe()
            for account in subscriptions.values():
                self.venue.subscriptions.remove(f"user:{account}")
            await self.venue.close_outbox(outbox)
        return ws

    def _api_call(self, text: str, subscriptions: dict[int, str]) -> dict[str, Any]:
        try:
            request = json.loads(text)
            request_id = request.get("id")
            method = request.get("method")
            params = request.get("params") or {}
            if not isinstance(params, dict):
                raise ValueError("params must be an object")
        except (ValueError, AttributeError):
            return {"id": None, "status": 400, "error": {"code": -1102, "msg": "Malformed request."}}
        try:
            if method == "ping":
                result: dict[str, Any] = {}
            elif method == "time":
                result = {"serverTime": self.venue.now_ms()}
            elif method == "userDataStream.subscribe.signature":
                key = self.verify(params)
                subscription_id = next(self._subscription_ids)
                subscriptions[subscription_id] = key.account
                self.venue.subscriptions.add(f"user:{key.account}")
                result = {"subscriptionId": subscription_id}
            elif method == "userDataStream.unsubscribe":
                target = params.get("subscriptionId")
                for sid in [s for s in subscriptions if target is None or s == int(target)]:
                    self.venue.subscriptions.remove(f"user:{subscriptions.pop(sid)}")
                result = {}
            else:
                return {"id": request_id, "status": 400, "error": {"code": -1102, "msg": f"Unknown method '{method}'."}}
        except BinanceError as exc:
            return {"id": request_id, "status": exc.status, "error": {"code": exc.code, "msg": exc.msg}}
        return {"id": request_id, "status": 200, "result": result, "rateLimits": []}
