"""One venue through ccxt: markets loaded once, orders checked before they are sent, placed
with a deterministic client order id and reconciled by that id when the answer is lost."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.errors import OrderUnknown, VenueRateLimited, outcome_unknown, translate
from connectors.cex.factory import build_exchange
from connectors.cex.health import HealthRecord
from connectors.cex.validation import check_order
from crosslane.errors import InvalidRequest

T = TypeVar("T")
log = logging.getLogger(__name__)


class CexVenue:
    def __init__(self, config: VenueConfig, credentials: ApiCredentials | None) -> None:
        self.config = config
        self.name = config.name
        self.exchange = build_exchange(config, credentials)
        self.health = HealthRecord(config.name)
        self.markets: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        """Load markets once; every later check uses this cache."""
        self.markets = await self._timed("load_markets", self.exchange.load_markets)

    async def close(self) -> None:
        await self.exchange.close()

    def market(self, symbol: str) -> dict[str, Any]:
        try:
            return self.markets[symbol]
        except KeyError:
            known = ", ".join(sorted(self.markets)[:10])
            raise InvalidRequest(f"{self.name} has no market {symbol!r} (known: {known})") from None

    def fees(self, symbol: str) -> tuple[Decimal, Decimal]:
        """(maker, taker) as fractions: the configured fee tier, else ccxt's market defaults
        (which are the venue's public base tier, not necessarily this account's)."""
        market = self.market(symbol)
        maker = (
            self.config.maker_bps / 10_000
            if self.config.maker_bps is not None
            else Decimal(str(market.get("maker") or 0))
        )
        taker = (
            self.config.taker_bps / 10_000
            if self.config.taker_bps is not None
            else Decimal(str(market.get("taker") or 0))
        )
        return maker, taker

    def check(self, symbol: str, side: str, order_type: str, amount: Decimal, price: Decimal | None) -> None:
        """InvalidRequest, naming the problem, for an order this venue would refuse."""
        check_order(self.market(symbol), side, order_type, amount, price)

    def _respect_backoff(self, action: str) -> None:
        """After a 429/418 nothing is sent until the venue's Retry-After has passed."""
        remaining = self.health.backoff_until - time.monotonic()
        if remaining > 0:
            raise VenueRateLimited(f"{self.name}: {action} not sent: backing off {remaining:.1f}s after a rate limit")

    def _note_rate_limit(self, exc: BaseException, action: str) -> None:
        if not isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
            return
        headers = getattr(self.exchange, "last_response_headers", None) or {}
        retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        try:
            wait_s = float(retry_after) if retry_after is not None else 1.0
        except ValueError:
            wait_s = 1.0
        self.health.backoff_until = time.monotonic() + wait_s
        log.warning("%s rate-limited on %s: backing off %.1fs", self.name, action, wait_s)

    async def _timed(self, action: str, call: Callable[[], Awaitable[T]]) -> T:
        self._respect_backoff(action)
        started = time.perf_counter()
        try:
            result = await call()
        except ccxt.BaseError as exc:
            self.health.record_call(time.perf_counter() - started, ok=not outcome_unknown(exc))
            self._note_rate_limit(exc, action)
            raise translate(exc, self.name, action) from exc
        self.health.record_call(time.perf_counter() - started, ok=True)
        return result

    async def place(
        self,
        symbol: str,
        side: str,
        order_type: str,
        amount: Decimal,
        price: Decimal | None,
        client_order_id: str,
        *,
        time_in_force: str | None = None,
    ) -> dict[str, Any]:
        """Place once. If the answer is lost, the order is looked up by its client id; only
        when the venue provably has no such order is it sent again (same id, so a late
        duplicate is refused by the venue, never filled twice)."""
        self.check(symbol, side, order_type, amount, price)
        params: dict[str, Any] = {"clientOrderId": client_order_id}
        if time_in_force:
            params["timeInForce"] = time_in_force
        for attempt in range(3):
            try:
                order = await self._send(symbol, order_type, side, amount, price, params)
                if order.get("status") is None:
                    # Some venues (OKX) acknowledge with ids only: read the order's state back.
                    order = await self.find_order(symbol, client_order_id) or order
                return order
            except ccxt.BaseError as exc:
                if not outcome_unknown(exc):
                    raise translate(exc, self.name, "create_order") from exc
                log.warning("%s: create_order %s answer lost (%s); reconciling", self.name, client_order_id, exc)
                found = await self.find_order(symbol, client_order_id)
                if found is not None:
                    return found
                await asyncio.sleep(0.05 * (attempt + 1))
        raise translate(ccxt.RequestTimeout("no answer after 3 attempts"), self.name, "create_order")

    async def _send(
        self, symbol: str, order_type: str, side: str, amount: Decimal, price: Decimal | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        self._respect_backoff("create_order")
        started = time.perf_counter()
        try:
            # Decimal strings: ccxt formats them with its own precise arithmetic, never via float.
            order = await self.exchange.create_order(
                symbol, order_type, side, str(amount), None if price is None else str(price), params
            )
        except ccxt.BaseError as exc:
            self.health.record_call(time.perf_counter() - started, ok=not outcome_unknown(exc))
            self._note_rate_limit(exc, "create_order")
            raise
        self.health.record_call(time.perf_counter() - started, ok=True)
        return order

    async def find_order(self, symbol: str, client_order_id: str) -> dict[str, Any] | None:
        try:
            return await self._timed(
                "fetch_order", lambda: self.exchange.fetch_order(None, symbol, {"clientOrderId": client_order_id})
            )
        except OrderUnknown:
            return None

    async def cancel(self, symbol: str, client_order_id: str) -> dict[str, Any]:
        order = await self._timed(
            "cancel_order", lambda: self.exchange.cancel_order(None, symbol, {"clientOrderId": client_order_id})
        )
        if order.get("status") is None:  # acknowledged with ids only (OKX): read the final state
            order = await self.find_order(symbol, client_order_id) or order
        return order

    async def balances(self) -> dict[str, Any]:
        return await self._timed("fetch_balance", self.exchange.fetch_balance)

    async def order_book(self, symbol: str, limit: int = 20) -> dict[str, Any]:
        self.market(symbol)
        return await self._timed("fetch_order_book", lambda: self.exchange.fetch_order_book(symbol, limit))
