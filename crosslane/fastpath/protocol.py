"""Fast-path messages: msgpack over a local stream socket, each frame a 4-byte big-endian
length then the encoded message. Decimals travel as strings (never floats).

One request, one reply, in order, per connection; a client keeps its connection warm.
"""

from __future__ import annotations

import struct
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import msgspec

from crosslane.routing import Side

HEADER = struct.Struct(">I")
MAX_FRAME = 4 * 1024 * 1024


class OrderKind(StrEnum):
    LIMIT = "limit"  # rests if not filled
    IOC = "ioc"  # takes what it can at the limit, cancels the rest
    MARKET = "market"


class QuoteRequest(msgspec.Struct, tag="quote", frozen=True):
    symbol: str
    side: Side
    qty: Decimal


class RouteRequest(msgspec.Struct, tag="route", frozen=True):
    """Place a parent order split across venues. ``parent_id`` is the idempotency key:
    a second request with the same id returns the first one's state, nothing is re-sent."""

    parent_id: str
    symbol: str
    side: Side
    qty: Decimal
    kind: OrderKind = OrderKind.IOC
    limit_price: Decimal | None = None


class CancelRequest(msgspec.Struct, tag="cancel", frozen=True):
    parent_id: str


class StatusRequest(msgspec.Struct, tag="status", frozen=True):
    parent_id: str | None = None  # None: every parent still open


class BookRequest(msgspec.Struct, tag="book", frozen=True):
    symbol: str
    depth: int = 10


class HealthRequest(msgspec.Struct, tag="health", frozen=True):
    pass


class BalancesRequest(msgspec.Struct, tag="balances", frozen=True):
    """Each venue's free balance of ``currencies`` (as the venues name them: ``USDT``, ``ETH``)."""

    currencies: list[str]


Request = QuoteRequest | RouteRequest | CancelRequest | StatusRequest | BookRequest | HealthRequest | BalancesRequest


class VenueHealthView(msgspec.Struct, frozen=True):
    venue: str
    status: str  # healthy | degraded | down, as the router sees it
    uptime_s: float
    calls: int
    failures: int
    p50_latency_ms: float | None
    p99_latency_ms: float | None
    ws_reconnects: int
    book_age_s: float | None
    book_stale: bool
    user_stream: str = "off"  # the private stream pushing fills: off | connecting | live | down
    user_stream_drops: int = 0


class BookLevel(msgspec.Struct, frozen=True):
    venue: str
    price: Decimal
    effective_price: Decimal  # after the venue's taker fee
    qty: Decimal


class BookView(msgspec.Struct, frozen=True):
    """The consolidated book as the router sees it, best first on each side."""

    symbol: str
    bids: list[BookLevel]
    asks: list[BookLevel]
    venues: dict[str, str]  # venue -> health as the router sees it


class VenueQuoteView(msgspec.Struct, frozen=True):
    venue: str
    qty: Decimal
    avg_price: Decimal
    fee: Decimal


class QuoteView(msgspec.Struct, frozen=True):
    symbol: str
    side: Side
    qty: Decimal
    filled_qty: Decimal
    avg_price: Decimal | None  # fee-exclusive
    avg_price_with_fees: Decimal | None
    notional: Decimal  # quote currency, exact: sum of price x qty over the levels taken
    fees: Decimal
    legs: list[VenueQuoteView]
    excluded: list[str] = msgspec.field(default_factory=list)  # "venue: why it was not used"
    step: Decimal | None = None  # the finest quantity any venue trades the symbol in (a size's lot)


ChildState = Literal["pending", "open", "partially_filled", "filled", "cancelled", "rejected", "unknown"]


class ChildOrder(msgspec.Struct):
    venue: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    limit_price: Decimal | None
    state: ChildState = "pending"
    expected_price: Decimal | None = None  # a market child: the routed book price (its notional is checked at it)
    venue_order_id: str | None = None
    filled: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)  # quote currency actually traded, exact
    avg_price: Decimal | None = None
    fee: Decimal = Decimal(0)
    fee_currency: str | None = None
    error: str | None = None


class ParentOrder(msgspec.Struct):
    parent_id: str
    symbol: str
    side: Side
    qty: Decimal
    kind: OrderKind
    limit_price: Decimal | None
    children: list[ChildOrder]
    created_ns: int

    @property
    def filled(self) -> Decimal:
        return sum((c.filled for c in self.children), Decimal(0))

    @property
    def open(self) -> bool:
        return any(c.state in ("pending", "open", "partially_filled", "unknown") for c in self.children)


class VenueBalanceView(msgspec.Struct, frozen=True):
    """What the account can spend on one venue now (``free``: currency -> amount, 0 when not
    held); ``error`` says why the venue did not answer (then ``free`` is empty)."""

    venue: str
    free: dict[str, Decimal]
    error: str | None = None


class Reply(msgspec.Struct):
    ok: bool
    error: str | None = None
    error_type: str | None = None
    quote: QuoteView | None = None
    book: BookView | None = None
    health: list[VenueHealthView] = msgspec.field(default_factory=list)
    parent: ParentOrder | None = None
    parents: list[ParentOrder] = msgspec.field(default_factory=list)
    balances: list[VenueBalanceView] = msgspec.field(default_factory=list)


REQUEST_DECODER = msgspec.msgpack.Decoder(Request)
REPLY_DECODER = msgspec.msgpack.Decoder(Reply)
ENCODER = msgspec.msgpack.Encoder(decimal_format="string")


def frame(message: msgspec.Struct) -> bytes:
    payload = ENCODER.encode(message)
    return HEADER.pack(len(payload)) + payload


class FrameTooLarge(ValueError):
    """A frame's length is over :data:`MAX_FRAME`: the stream is not ours (or is corrupt)."""


class FrameReader:
    """Splits a byte stream, fed as it arrives (an ``asyncio.Protocol``'s ``data_received``),
    into the payloads of its complete frames; a partial frame waits for the rest."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The payloads completed by ``data``, in order. FrameTooLarge for an oversized frame."""
        if not self._buffer and len(data) >= HEADER.size:  # the usual case: exactly one whole frame
            (size,) = HEADER.unpack_from(data)
            if size > MAX_FRAME:
                raise FrameTooLarge(f"frame of {size} bytes is over the limit")
            if len(data) == HEADER.size + size:
                return [data[HEADER.size :]]
        buffer = self._buffer
        buffer += data
        payloads = []
        offset = 0
        while len(buffer) - offset >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, offset)
            if size > MAX_FRAME:
                raise FrameTooLarge(f"frame of {size} bytes is over the limit")
            end = offset + HEADER.size + size
            if end > len(buffer):
                break
            payloads.append(bytes(buffer[offset + HEADER.size : end]))
            offset = end
        del buffer[:offset]
        return payloads
