"""``FastPathClient``: quote, balances, route, cancel and status against a running ``crosslane fastpath``.

async with await FastPathClient.connect() as fp:
    quote = await fp.quote("ETH/USDT", Side.BUY, Decimal("2"))
    parent = await fp.route("order-42", "ETH/USDT", Side.BUY, Decimal("2"), limit_price=Decimal("3010"))
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from crosslane.config import settings
from crosslane.errors import CrosslaneError, InvalidRequest
from crosslane.fastpath.protocol import (
    HEADER,
    MAX_FRAME,
    REPLY_DECODER,
    BalancesRequest,
    BookRequest,
    BookView,
    CancelRequest,
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


class FastPathClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path | None = None) -> FastPathClient:
        path = path or default_socket_path()
        try:
            reader, writer = await asyncio.open_unix_connection(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise FastPathError(f"the fast path is not running at {path} (start: crosslane fastpath)") from None
        return cls(reader, writer)

    async def __aenter__(self) -> FastPathClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def call(self, request: Request) -> Reply:
        async with self._lock:
            self._writer.write(frame(request))
            await self._writer.drain()
            (size,) = HEADER.unpack(await self._reader.readexactly(HEADER.size))
            if size > MAX_FRAME:
                raise FastPathError(f"reply frame of {size} bytes is over the limit")
            reply = REPLY_DECODER.decode(await self._reader.readexactly(size))
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
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
