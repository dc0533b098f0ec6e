"""Kraken websocket v2 (``/v2``, also under ``/stream``): public ``book`` and private ``executions``.

- ``{"method": "ping"}`` → ``pong``; a ``status`` message greets every connection;
- ``book`` (``depth`` 10, 25, 100, 500 or 1000): a snapshot, then updates that keep the
  subscriber's top-``depth`` view exact (a level leaving the view is sent with ``qty`` 0, one
  entering it is sent whole), each with the CRC32 ``checksum`` of the top 10 levels;
- ``executions`` (``token`` from REST ``GetWebSocketsToken``): a snapshot of open orders
  (``snap_orders``) and recent fills (``snap_trades``), then one message per order event:
  ``pending_new`` then ``new``, a ``trade`` per fill and ``filled`` after the last one,
  ``canceled``, ``expired``. (ccxt.pro hands ``trade`` rows to ``watch_my_trades`` only, so
  ``watch_orders`` sees a partial fill only once the order closes.)

Public and private channels share the path; the token is what makes a subscription private.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from devnet.cex.bus import Outbox
from devnet.cex.engine import BookDelta, Event, ExecType, Fill, Order, OrderEvent, OrderStatus
from devnet.cex.kraken import wire
from devnet.cex.kraken.profile import PAIR_BY_SYMBOL, Pair
from devnet.cex.numbers import plain
from devnet.cex.venue import Venue

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_connection_ids = itertools.count(14_000_000_000_000_000_001)


def _num(value: Decimal) -> Decimal:
    """A Decimal that encodes as the shortest plain JSON number (no exponent, no trailing zeros)."""
    return Decimal(plain(value))


def _numbers(row: Any) -> Any:
    if isinstance(row, Decimal):
        return _num(row)
    if isinstance(row, dict):
        return {k: _numbers(v) for k, v in row.items()}
    if isinstance(row, list):
        return [_numbers(v) for v in row]
    return row


@dataclass
class _BookView:
    """What one subscriber holds of one book: its top ``depth`` levels per side."""

    pair: Pair
    depth: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)

    def refresh(self, venue: Venue) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The (bids, asks) changes since the last refresh; the view is updated."""
        book = venue.engine.books[self.pair.symbol]
        changes = []
        for held, levels in ((self.bids, book.bids.levels(self.depth)), (self.asks, book.asks.levels(self.depth))):
            now = dict(levels)
            side = [(p, Decimal(0)) for p in held if p not in now]
            side += [(p, q) for p, q in levels if held.get(p) != q]
            held.clear()
            held.update(now)
            changes.append(side)
        return changes[0], changes[1]


class _KrakenConnection:
    def __init__(
        self, venue: Venue, userref_of: Callable[[int], int], outbox: Outbox, token_account: Callable[[str], str | None]
    ) -> None:
        self.venue = venue
        self.userref_of = userref_of
        self.outbox = outbox
        self.token_account = token_account
        self.books: dict[str, _BookView] = {}
        self.account: str | None = None  # set by an executions subscription
        self.keys: list[str] = []  # as registered in venue.subscriptions
        self.unsubscribe_bus = venue.bus.subscribe(self.on_event)

    def send(self, payload: Any) -> None:
        self.outbox.send(_ENCODER.encode(payload).decode())

    def _stamp(self) -> str:
        return wire.rfc3339(self.venue.now_ms())

    def greet(self) -> None:
        status = {"api_version": "v2", "connection_id": next(_connection_ids), "system": "online", "version": "2.0.9"}
        self.send({"channel": "status", "type": "update", "data": [status]})

    def answer(self, method: str, req_id: Any, body: dict[str, Any]) -> None:
        """A reply to a request: its method and ``req_id`` echoed, with ``time_in``/``time_out``."""
        stamp = self._stamp()
        reply = {"method": method, **body, "time_in": stamp, "time_out": stamp}
        if req_id is not None:
            reply["req_id"] = req_id
        self.send(reply)

    def fail(self, method: str, req_id: Any, error: str, **extra: Any) -> None:
        self.answer(method, req_id, {"error": error, "success": False, **extra})

    def ack(self, method: str, req_id: Any, result: dict[str, Any]) -> None:
        self.answer(method, req_id, {"result": result, "success": True})

    def close(self) -> None:
        self.unsubscribe_bus()
        for key in self.keys:
            self.venue.subscriptions.remove(key)
        self.keys = []

    # --- requests ------------------------------------------------------------------------

    def handle(self, text: str) -> None:
        try:
            request = json.loads(text)
            method = request["method"]
            params = request.get("params") or {}
            req_id = request.get("req_id")
        except (ValueError, KeyError, TypeError):
            self.send({"error": "Malformed request", "success": False})
            return
        if method == "ping":
            self.answer("pong", req_id, {})
        elif method == "subscribe" and isinstance(params, dict):
            self.subscribe(params, req_id)
        elif method == "unsubscribe" and isinstance(params, dict):
            self.unsubscribe(params, req_id)
        else:
            self.fail(str(method), req_id, "Method not found")

    def subscribe(self, params: dict[str, Any], req_id: Any) -> None:
        channel = params.get("channel")
        if channel == "book":
            self._subscribe_book(params, req_id)
        elif channel == "executions":
            self._subscribe_executions(params, req_id)
        else:
            self.fail("subscribe", req_id, "Channel not found")

    def _subscribe_book(self, params: dict[str, Any], req_id: Any) -> None:
        depth = params.get("depth", 10)
        symbols = params.get("symbol")
        if depth not in BOOK_DEPTHS:
            self.fail("subscribe", req_id, "Subscription depth not supported")
            return
        if not isinstance(symbols, list) or not symbols:
            self.fail("subscribe", req_id, "Malformed request")
            return
        for symbol in symbols:
            pair = PAIR_BY_SYMBOL.get(str(symbol))
            if pair is None:
                self.fail("subscribe", req_id, f"Currency pair not supported {symbol}", symbol=symbol)
                continue
            if pair.symbol in self.books:
                self.fail("subscribe", req_id, "Already subscribed", symbol=symbol)
                continue
            view = self.books[pair.symbol] = _BookView(pair, depth)
            key = f"book:{pair.symbol}"
            self.keys.append(key)
            self.venue.subscriptions.add(key)
            self.ack("subscribe", req_id, {"channel": "book", "depth": depth, "snapshot": True, "symbol": pair.symbol})
            bids, asks = view.refresh(self.venue)
            self._book_message(view, "snapshot", bids, asks)

    def _book_message(
        self, view: _BookView, kind: str, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]
    ) -> None:
        book = self.venue.engine.books[view.pair.symbol]
        bids = sorted(bids, key=lambda level: level[0], reverse=True)
        asks = sorted(asks, key=lambda level: level[0])
        data: dict[str, Any] = {
            "symbol": view.pair.symbol,
            "bids": _numbers(wire.levels(bids)),
            "asks": _numbers(wire.levels(asks)),
            "checksum": wire.checksum(view.pair, book),
        }
        if kind == "update":
            data["timestamp"] = self._stamp()
        self.send({"channel": "book", "type": kind, "data": [data]})

    def _subscribe_executions(self, params: dict[str, Any], req_id: Any) -> None:
        account = self.token_account(str(params.get("token") or ""))
        if account is None:
            self.fail("subscribe", req_id, "EAccount:Invalid permissions")
            return
        if self.account is None:
            key = f"executions:{account}"
            self.keys.append(key)
            self.venue.subscriptions.add(key)
        self.account = account
        self.ack("subscribe", req_id, {"channel": "executions", "maxratecount": 180, "snapshot": True})
        engine = self.venue.engine
        if params.get("snap_orders", True):
            rows = [self._open_order_row(o) for o in engine.open_orders(account)]
            self.send({"channel": "executions", "type": "snapshot", "data": _numbers(rows)})
        if params.get("snap_trades", False):
            rows = [self._fill_row(f) for f in engine.fills(account)[-50:]]
            if rows:
                self.send({"channel": "executions", "type": "snapshot", "data": _numbers(rows)})

    def _open_order_row(self, order: Order) -> dict[str, Any]:
        row = wire.execution(OrderEvent(order, exec_type=ExecType.NEW), self.userref_of(order.order_id))
        del row["exec_type"]  # a snapshot row is the order's state, not an event
        return row

    def _fill_row(self, fill: Fill) -> dict[str, Any]:
        order = self.venue.engine.order(fill.account, fill.trade.symbol, fill.order_id)
        return wire.execution(OrderEvent(order, exec_type=ExecType.TRADE, fill=fill), self.userref_of(fill.order_id))

    def unsubscribe(self, params: dict[str, Any], req_id: Any) -> None:
        channel = params.get("channel")
        if channel == "book":
            for symbol in params.get("symbol") or []:
                view = self.books.pop(str(symbol), None)
                if view is None:
                    self.fail("unsubscribe", req_id, "Subscription Not Found", symbol=symbol)
                    continue
                self._drop_key(f"book:{view.pair.symbol}")
                self.ack("unsubscribe", req_id, {"channel": "book", "depth": view.depth, "symbol": view.pair.symbol})
        elif channel == "executions" and self.account is not None:
            self._drop_key(f"executions:{self.account}")
            self.account = None
            self.ack("unsubscribe", req_id, {"channel": "executions"})
        else:
            self.fail("unsubscribe", req_id, "Subscription Not Found")

    def _drop_key(self, key: str) -> None:
        if key in self.keys:
            self.keys.remove(key)
            self.venue.subscriptions.remove(key)

    # --- engine events -------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if isinstance(event, BookDelta):
            view = self.books.get(event.symbol)
            if view is not None:
                bids, asks = view.refresh(self.venue)
                if bids or asks:
                    self._book_message(view, "update", bids, asks)
        elif isinstance(event, OrderEvent) and self.account is not None and event.order.account == self.account:
            userref = self.userref_of(event.order.order_id)
            if event.exec_type is ExecType.NEW:  # Kraken acknowledges before the order is live
                ack = wire.execution(event, userref, exec_type="pending_new")
                self.send({"channel": "executions", "type": "update", "data": [_numbers(ack)]})
            row = wire.execution(event, userref)
            self.send({"channel": "executions", "type": "update", "data": [_numbers(row)]})
            if event.fill is not None and event.order.status is OrderStatus.FILLED:
                # Kraken follows the last trade with a "filled" execution (ccxt.pro reads it as an order)
                done = wire.execution(OrderEvent(event.order, ExecType.TRADE), userref, exec_type="filled")
                self.send({"channel": "executions", "type": "update", "data": [_numbers(done)]})


class KrakenStreams:
    def __init__(
        self, venue: Venue, userref_of: Callable[[int], int], token_account: Callable[[str], str | None]
    ) -> None:
        self.venue = venue
        self.userref_of = userref_of
        self.token_account = token_account

    def install(self, app: web.Application) -> None:
        for prefix in ("", "/stream"):
            app.router.add_get(prefix + "/v2", self.handle)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        outbox = self.venue.open_outbox(ws, request)
        conn = _KrakenConnection(self.venue, self.userref_of, outbox, self.token_account)
        conn.greet()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    conn.handle(msg.data)
        finally:
            conn.close()
            await self.venue.close_outbox(outbox)
        return ws
