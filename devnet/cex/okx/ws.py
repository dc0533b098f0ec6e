"""OKX v5 websockets: ``/ws/v5/public`` and ``/ws/v5/private`` (also under a ``/stream`` prefix).

- text ``ping`` → ``pong`` (OKX's keepalive; no protocol-level pings);
- ``{"op": "login", "args": [{apiKey, passphrase, timestamp, sign}]}``;
- public channels: ``books`` (400-level snapshot, then updates with ``prevSeqId``/``seqId``
  chained gap-free and a CRC32 ``checksum`` of the top 25 levels), ``books5``, ``bbo-tbt``,
  ``trades``, ``tickers``;
- private channels (after login): ``orders`` (``instType`` SPOT or ANY, optional
  ``instId``) and ``account``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from devnet.cex.auth import ApiKey
from devnet.cex.bus import Outbox
from devnet.cex.engine import BalanceEvent, BookDelta, Event, OrderEvent, TradeEvent
from devnet.cex.okx import wire
from devnet.cex.okx.errors import OkxError
from devnet.cex.okx.profile import SYMBOL_BY_INST, inst_id
from devnet.cex.venue import Venue

_BOOK_DEPTHS = {"books": 400, "books5": 5, "bbo-tbt": 1}
_PUBLIC = {"books", "books5", "bbo-tbt", "trades", "tickers"}
_PRIVATE = {"orders", "account"}


def _encode(payload: Any) -> str:
    return msgspec.json.encode(payload).decode()


@dataclass(frozen=True)
class _Subscription:
    arg: tuple[tuple[str, str], ...]  # the subscribe arg as sent, for echoing back

    @property
    def args(self) -> dict[str, str]:
        return dict(self.arg)

    @property
    def channel(self) -> str:
        return self.args["channel"]

    @property
    def symbol(self) -> str | None:
        inst = self.args.get("instId")
        return SYMBOL_BY_INST.get(inst) if inst else None


class _OkxConnection:
    def __init__(self, venue: Venue, tags: dict[int, str], outbox: Outbox, access: str) -> None:
        self.venue = venue
        self.tags = tags
        self.outbox = outbox
        self.access = access
        self.conn_id = secrets.token_hex(4)
        self.account: str | None = None
        self.subscriptions: list[_Subscription] = []
        self._keys: dict[_Subscription, str] = {}  # as registered in venue.subscriptions
        self.unsubscribe_bus = venue.bus.subscribe(self.on_event)

    def send(self, payload: Any) -> None:
        self.outbox.send(_encode(payload))

    def error(self, code: str, msg: str) -> None:
        self.send({"event": "error", "code": code, "msg": msg, "connId": self.conn_id})

    def subscribe(self, arg: Any) -> None:
        if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
            self.error("60012", f"Invalid request: {json.dumps({'op': 'subscribe', 'args': [arg]})}")
            return
        channel = arg["channel"]
        clean = {k: str(v) for k, v in arg.items()}
        if channel in _PRIVATE:
            if self.access != "private":
                self.error("60018", f"Wrong URL or channel:{channel} doesn't exist. Please use the correct URL.")
                return
            if self.account is None:
                self.error("60011", "Please log in")
                return
        elif channel in _PUBLIC:
            if SYMBOL_BY_INST.get(clean.get("instId", "")) is None:
                self.error("60018", f"Wrong URL or channel:{channel},instId:{clean.get('instId')} doesn't exist.")
                return
        else:
            self.error("60018", f"Wrong URL or channel:{channel} doesn't exist.")
            return
        subscription = _Subscription(tuple(clean.items()))
        if subscription not in self.subscriptions:
            self.subscriptions.append(subscription)
            # ``orders:<account>`` for a private channel, ``books:BTC-USDT`` for a public one
            owner = self.account if channel in _PRIVATE else clean.get("instId")
            self._keys[subscription] = key = f"{channel}:{owner}"
            self.venue.subscriptions.add(key)
        self.send({"event": "subscribe", "arg": clean, "connId": self.conn_id})
        self.initial(subscription)

    def unsubscribe(self, arg: Any) -> None:
        clean = {k: str(v) for k, v in arg.items()} if isinstance(arg, dict) else {}
        for sub in [s for s in self.subscriptions if s.args == clean]:
            self.subscriptions.remove(sub)
            self.venue.subscriptions.remove(self._keys.pop(sub))
        self.send({"event": "unsubscribe", "arg": clean, "connId": self.conn_id})

    def close(self) -> None:
        self.unsubscribe_bus()
        for key in self._keys.values():
            self.venue.subscriptions.remove(key)
        self.subscriptions, self._keys = [], {}

    def initial(self, sub: _Subscription) -> None:
        """What OKX pushes right after a subscribe: book snapshots, the account balance."""
        now = self.venue.now_ms()
        engine = self.venue.engine
        if sub.channel == "books" and sub.symbol:
            book = engine.books[sub.symbol]
            self.send({"arg": sub.args, "action": "snapshot", "data": [wire.book_snapshot(book, 400, now)]})
        elif sub.channel in ("books5", "bbo-tbt") and sub.symbol:
            self._top(sub, now)
        elif sub.channel == "account" and self.account is not None:
            data = wire.balance(engine.wallets(self.account), self.venue.profile.assets, now)
            self.send({"arg": sub.args, "eventType": "snapshot", "curPage": 1, "lastPage": True, "data": [data]})

    def _top(self, sub: _Subscription, now: int) -> None:
        assert sub.symbol is not None
        book = self.venue.engine.books[sub.symbol]
        data = wire.books(book, _BOOK_DEPTHS[sub.channel], now)
        data.update({"instId": inst_id(sub.symbol), "seqId": book.sequence})
        self.send({"arg": sub.args, "data": [data]})

    def on_event(self, event: Event) -> None:
        now = self.venue.now_ms()
        engine = self.venue.engine
        for sub in self.subscriptions:
            channel = sub.channel
            if isinstance(event, BookDelta) and event.symbol == sub.symbol:
                if channel == "books":
                    data = wire.book_update(engine.books[event.symbol], event)
                    self.send({"arg": sub.args, "action": "update", "data": [data]})
                elif channel in ("books5", "bbo-tbt"):
                    self._top(sub, now)
                elif channel == "tickers":
                    self._ticker(sub, now)
            elif isinstance(event, TradeEvent) and event.trade.symbol == sub.symbol:
                if channel == "trades":
                    row = {**wire.public_trade(event.trade), "count": "1", "seqId": event.trade.trade_id}
                    self.send({"arg": sub.args, "data": [row]})
            elif isinstance(event, OrderEvent) and channel == "orders" and event.order.account == self.account:
                wanted = sub.args.get("instId")
                if wanted and wanted != inst_id(event.order.symbol):
                    continue
                if sub.args.get("instType", "ANY") not in ("ANY", "SPOT"):
                    continue
                spec = engine.markets[event.order.symbol]
                row = wire.order_push(event, spec, self.tags.get(event.order.order_id, ""), now)
                self.send({"arg": sub.args, "data": [row]})
            elif isinstance(event, BalanceEvent) and channel == "account" and event.account == self.account:
                data = wire.balance(engine.wallets(event.account), self.venue.profile.assets, now, set(event.assets))
                self.send(
                    {"arg": sub.args, "eventType": "event_update", "curPage": 1, "lastPage": True, "data": [data]}
                )

    def _ticker(self, sub: _Subscription, now: int) -> None:
        assert sub.symbol is not None
        engine = self.venue.engine
        spec = engine.markets[sub.symbol]
        self.send(
            {"arg": sub.args, "data": [wire.ticker(spec, engine.books[sub.symbol], engine.ticker(sub.symbol), now)]}
        )


class OkxStreams:
    def __init__(self, venue: Venue, tags: dict[int, str], login: Callable[[dict[str, Any]], ApiKey]) -> None:
        self.venue = venue
        self.tags = tags
        self.login = login

    def install(self, app: web.Application) -> None:
        for prefix in ("", "/stream"):
            app.router.add_get(prefix + "/ws/v5/{access}", self.handle)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        access = request.match_info["access"]
        if access not in ("public", "private", "business"):
            raise web.HTTPNotFound()
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        outbox = self.venue.open_outbox(ws, request)
        conn = _OkxConnection(self.venue, self.tags, outbox, access)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._message(conn, msg.data)
        finally:
            conn.close()
            await self.venue.close_outbox(outbox)
        return ws

    def _message(self, conn: _OkxConnection, text: str) -> None:
        if text == "ping":
            conn.outbox.send("pong")
            return
        try:
            request = json.loads(text)
            op = request["op"]
            args = request.get("args") or []
        except (ValueError, KeyError, TypeError, AttributeError):
            conn.error("60012", f"Invalid request: {text}")
            return
        if op == "login":
            try:
                key = self.login(args[0] if args else {})
            except OkxError as exc:
                conn.error(exc.code, exc.msg)
                return
            conn.account = key.account
            conn.send({"event": "login", "code": "0", "msg": "", "connId": conn.conn_id})
        elif op == "subscribe":
            for arg in args:
                conn.subscribe(arg)
        elif op == "unsubscribe":
            for arg in args:
                conn.unsubscribe(arg)
        else:
            conn.error("60012", f"Invalid request: {text}")
