"""What a venue needs that ccxt's unified API does not hide: how it names and bounds client
order ids, how an order is found and cancelled by ours, how it quotes precision, which
credentials it requires and which ccxt options keep it on spot."""

from __future__ import annotations

import base64
import hashlib
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ClientIdKind(StrEnum):
    TEXT = "text"  # prefix + lowercase base32 of a SHA-256
    INTEGER = "integer"  # a positive integer below 2**bits (Bitfinex cid, Kraken userref)


class FindStrategy(StrEnum):
    BY_CLIENT_ID = "by_client_id"  # fetch_order(None, symbol, {<client id param>: id})
    OPEN_ORDERS = "open_orders"  # fetch_open_orders(symbol), matched on our id
    CLOSED_ORDERS = "closed_orders"  # fetch_closed_orders(symbol, since=window), matched on our id


class CancelStrategy(StrEnum):
    BY_CLIENT_ID = "by_client_id"  # cancel_order(None, symbol, {<client id param>: id})
    BY_VENUE_ID = "by_venue_id"  # find the order first, cancel by the venue's own id


class PrecisionMode(StrEnum):
    TICK_SIZE = "tick_size"  # ccxt TICK_SIZE: precision values are steps
    SIGNIFICANT_DIGITS = "significant_digits"  # ccxt SIGNIFICANT_DIGITS: price digits, amount decimals


class WithdrawalLookup(StrEnum):
    """How a withdrawal whose answer was lost (or whose worker died) is found again."""

    CLIENT_REF = "client_ref"  # the venue files it under our reference (withdrawal_ref_param)
    RECENT_MATCH = "recent_match"  # no reference (Kraken): same destination and amount since our recorded request


class UserStream(BaseModel):
    """How the venue pushes our orders' changes (fills, cancels) on its private stream: the
    ccxt.pro method giving ccxt unified orders with cumulative filled quantity and cost, its
    params, and which raw ``info`` fields to read where ccxt's parse of the push is lossy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str | None = Field(default="watch_orders", description="ccxt.pro method; None: no user stream")
    params: dict[str, Any] = Field(default_factory=dict)
    info_fields: dict[str, str] = Field(
        default_factory=dict, description="unified key (clientOrderId, filled, cost, average) -> info field"
    )
    settle_s: float = Field(default=0.5, gt=0, description="after (re)subscribing: wait, then catch up by REST")
    fills_as_trades: bool = Field(
        default=False, description="ccxt.pro files fill pushes under my trades only (Kraken `trade` executions)"
    )
    fees_pushed: bool = Field(
        default=True,
        description="the push's fee is the order's fee in the asset charged; False (Kraken: a USD valuation, "
        "`fee_usd_equiv`): a filled order's fee is read by REST",
    )


class VenueProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exchange: str = Field(description="ccxt exchange id")
    client_id_param: str = Field(default="clientOrderId", description="the create_order param ccxt sends")
    client_id_kind: ClientIdKind = ClientIdKind.TEXT
    client_id_prefix: str = "cl"
    client_id_length: int = Field(default=32, ge=8, le=64, description="TEXT ids: total characters")
    client_id_bits: int = Field(default=31, ge=16, le=63, description="INTEGER ids: value below 2**bits")
    find: tuple[FindStrategy, ...] = (FindStrategy.BY_CLIENT_ID, FindStrategy.OPEN_ORDERS)
    cancel: CancelStrategy = CancelStrategy.BY_CLIENT_ID
    market_buy_by_cost: bool = Field(default=False, description="market buys are sized in quote (amount*price)")
    precision_mode: PrecisionMode = PrecisionMode.TICK_SIZE
    required_credentials: tuple[str, ...] = ("apiKey", "secret")
    options: dict[str, Any] = Field(default_factory=dict, description="ccxt options valid for this venue")
    recent_window_s: int = Field(default=3600, description="CLOSED_ORDERS: how far back a lost order is sought")
    user_stream: UserStream = Field(default_factory=UserStream)
    withdrawal_ref_param: str | None = Field(
        default=None, description="the withdraw param naming our reference (none: no transfers, unless RECENT_MATCH)"
    )
    withdrawal_lookup: WithdrawalLookup = WithdrawalLookup.CLIENT_REF
    funding_methods: bool = Field(
        default=False,
        description="networks are named funding methods (`USDC (DEVNET-A)`) and withdrawals go to an address-book "
        "key, not an address (Kraken: DepositMethods, WithdrawMethods, WithdrawAddresses)",
    )
    book_depths: tuple[int, ...] = Field(default=(), description="websocket book depths offered; empty: any")
    lists_filter_by_client_id: bool = Field(
        default=False, description="open/closed order lists take the client id param as a filter (Kraken)"
    )
    nonce_per_key: bool = Field(
        default=False,
        description="private calls carry a nonce that must rise per API key (Kraken): one rising source "
        "per key in the process, a call refused for its nonce signed again",
    )

    @property
    def transfers(self) -> bool:
        """Whether withdrawals can be made here at most once (found again by our reference or by match)."""
        return self.withdrawal_ref_param is not None or self.withdrawal_lookup is WithdrawalLookup.RECENT_MATCH

    def book_depth(self, wanted: int) -> int:
        """The depth to subscribe to for ``wanted`` levels: ``wanted``, else the next one offered."""
        if not self.book_depths:
            return wanted
        return min((d for d in self.book_depths if d >= wanted), default=max(self.book_depths))

    def client_id(self, canonical_id: str) -> str:
        """The venue's form of our canonical client id (``connectors.cex.client_order_id``):
        the canonical id itself when it fits, else derived from it deterministically, so a
        retry always sends the same venue id."""
        if self.client_id_kind is not ClientIdKind.INTEGER and (
            canonical_id.startswith(self.client_id_prefix) and len(canonical_id) <= self.client_id_length
        ):
            return canonical_id
        return _derived_client_id(
            self.client_id_kind, self.client_id_prefix, self.client_id_length, self.client_id_bits, canonical_id
        )

    def id_params(self, venue_client_id: str) -> dict[str, Any]:
        value: Any = int(venue_client_id) if self.client_id_kind is ClientIdKind.INTEGER else venue_client_id
        return {self.client_id_param: value}

    def carries(self, order: dict[str, Any], venue_client_id: str) -> bool:
        """Whether a parsed ccxt order is ours: its unified clientOrderId, or the venue's own
        field in ``info`` when ccxt does not parse it (Deribit's label)."""
        if str(order.get("clientOrderId")) == venue_client_id:
            return True
        info = order.get("info") or {}
        return isinstance(info, dict) and str(info.get(self.client_id_param)) == venue_client_id


@lru_cache(maxsize=4096)
def _derived_client_id(kind: ClientIdKind, prefix: str, length: int, bits: int, canonical_id: str) -> str:
    """A venue client id derived from ours (see ``VenueProfile.client_id``), remembered: the fast
    path asks for the same child's several times (placement, indexing, each update, each push)."""
    digest = hashlib.sha256(canonical_id.encode()).digest()
    if kind is ClientIdKind.INTEGER:
        return str(int.from_bytes(digest[:8], "big") % (2**bits - 1) + 1)
    body = base64.b32encode(digest).decode().rstrip("=").lower()
    return prefix + body[: length - len(prefix)]
