"""``FastPathClient``: quote, balances, route, cancel and status against a running ``crosslane fastpath``.

async with await FastPathClient.connect() as fp:
    quote = await fp.quote("ETH/USDT", Side.BUY, Decimal("2"))
    parent = await fp.route("order-42", "ETH/USDT", Side.BUY, Decimal("2"), limit_price=Decimal("3010"))
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import cast

from crosslane.config import settings
from crosslane.errors import CrosslaneError, InvalidRequest
from crosslane.fastpath.protocol import (
    REPLY_DECODER,
    BalancesRequest,
    BookRequest,
    BookView,
    CancelRequest,
    FrameReader,
    FrameTooLarge,
    HealthRequest,
    OrderKind,
    ParentOrder,
    QuoteRequest,
    QuoteView,
    Reply,
    Request,
    RouteRequest,
    Side,
    StatusRequest,
    VenueBalanceView,
    VenueHealthView,
    frame,
)


class FastPathError(CrosslaneError):
    """The fast path could not do what was asked (venue failure, not running...)."""

    retryable = True


def default_socket_path() -> Path:
    return settings().home / "fastpath.sock"


class _Replies(asyncio.Protocol):
    """The connection's reply frames, each handed to the oldest call still waiting (the server
    answers one request at a time, in order). A call cancelled while waiting leaves its place
    in line, so its reply, when it comes, is dropped rather than given to the next call."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[bytes]] = deque()
        self.lost: Exception | None = None
        self._frames = FrameReader()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            payloads = self._frames.feed(data)
        except FrameTooLarge as exc:
            self._fail(FastPathError(f"reply {exc}"))
            assert self.transport is not None
            self.transport.close()
            return
        for payload in payloads:
            if self.waiting:
                waiter = self.waiting.popleft()
                if not waiter.done():
                    waiter.set_result(payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionResetError("the fast path closed the connection"))

    def _fail(self, exc: Exception) -> None:
        self.lost = self.lost or exc
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(exc)


class FastPathClient:
    def __init__(self, transport: asyncio.Transport, replies: _Replies) -> None:
        self._transport = transport
        self._replies = replies

    @classmethod
    async def connect(cls, path: Path | None = None) -> FastPathClient:
        path = path or default_socket_path()
        try:
            transport, replies = await asyncio.get_running_loop().create_unix_connection(_Replies, str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise FastPathError(f"the fast path is not running at {path} (start: crosslane fastpath)") from None
        return cls(cast(asyncio.Transport, transport), replies)

    async def __aenter__(self) -> FastPathClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def call(self, request: Request) -> Reply:
        if self._replies.lost is not None:
            raise self._replies.lost
        reply_frame = asyncio.get_running_loop().create_future()
        self._transport.write(frame(request))
        self._replies.waiting.append(reply_frame)
        reply = REPLY_DECODER.decode(await reply_frame)
        if not reply.ok:
            error = InvalidRequest if reply.error_type == "InvalidRequest" else FastPathError
            raise error(reply.error or "unknown fast-path error")
        return reply

    async def health(self) -> list[VenueHealthView]:
        return (await self.call(HealthRequest())).health

    async def book(self, symbol: str, depth: int = 10) -> BookView:
        reply = await self.call(BookRequest(symbol=symbol, depth=depth))
        assert reply.book is not None
        return reply.book

    async def quote(self, symbol: str, side: Side, qty: Decimal) -> QuoteView:
        reply = await self.call(QuoteRequest(symbol=symbol, side=side, qty=qty))
        assert reply.quote is not None
        return reply.quote

    async def balances(self, currencies: list[str]) -> list[VenueBalanceView]:
        """Each venue's free balance of ``currencies``, read from the venues now."""
        return (await self.call(BalancesRequest(currencies=currencies))).balances

    async def route(
        self,
        parent_id: str,
        symbol: str,
        side: Side,
        qty: Decimal,
        *,
        kind: OrderKind = OrderKind.IOC,
        limit_price: Decimal | None = None,
    ) -> ParentOrder:
        reply = await self.call(
            RouteRequest(parent_id=parent_id, symbol=symbol, side=side, qty=qty, kind=kind, limit_price=limit_price)
        )
        assert reply.parent is not None
        return reply.parent

    async def cancel(self, parent_id: str) -> ParentOrder:
        reply = await self.call(CancelRequest(parent_id=parent_id))
        assert reply.parent is not None
        return reply.parent

    async def status(self, parent_id: str | None = None) -> list[ParentOrder]:
        reply = await self.call(StatusRequest(parent_id=parent_id))
        return reply.parents

    async def close(self) -> None:
        if not self._transport.is_closing():
            self._transport.close()
        if self._replies.lost is None:
            closed = asyncio.get_running_loop().create_future()
            self._replies.waiting.append(closed)  # failed by connection_lost once the socket is closed
            with contextlib.suppress(ConnectionResetError):
                await closed
