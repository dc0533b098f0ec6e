"""Request-weight and order-rate limits per client, in fixed windows, with ban escalation.

Binance counts request weight per IP and new orders per account, answers 429 with
``Retry-After`` when a window is used up, and bans (418) a client that keeps calling after
being told to stop. OKX counts requests per key (or IP) and answers 429. Windows and
limits are settable at runtime so tests can reach them in a handful of calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class RateLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    request_weight: int = Field(default=6000, ge=1, description="weight per client per window")
    weight_window_s: float = Field(default=60.0, gt=0)
    orders: int = Field(default=100, ge=1, description="new orders per account per window")
    orders_window_s: float = Field(default=10.0, gt=0)
    ban_after: int = Field(default=0, ge=0, description="429s in one window before a 418 ban; 0: never ban")
    ban_s: float = Field(default=120.0, gt=0)


class Verdict(StrEnum):
    OK = "ok"
    WEIGHT = "weight"  # request weight used up (429)
    ORDERS = "orders"  # order rate used up (429)
    BANNED = "banned"  # 418


@dataclass
class Decision:
    verdict: Verdict
    used_weight: int = 0
    retry_after_s: int = 0
    banned_until_ms: int = 0


class _Window:
    __slots__ = ("start_ms", "used", "violations")

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self.used = 0
        self.violations = 0


class RateLimiter:
    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self._initial = self.limits.model_copy()
        self._weights: dict[str, _Window] = {}
        self._orders: dict[str, _Window] = {}
        self._bans: dict[str, int] = {}
        self.rejected = 0

    def update(self, changes: dict[str, object]) -> RateLimits:
        if changes.pop("reset", False):  # back to the venue's own limits, windows and bans cleared
            self.limits = self._initial.model_copy()
            self._weights.clear()
            self._orders.clear()
            self._bans.clear()
        self.limits = RateLimits.model_validate({**self.limits.model_dump(), **changes})
        return self.limits

    @staticmethod
    def _window(table: dict[str, _Window], key: str, now_ms: int, length_ms: int) -> _Window:
        start = now_ms - now_ms % length_ms
        window = table.get(key)
        if window is None or window.start_ms != start:
            window = table[key] = _Window(start)
        return window

    def check(self, client: str, weight: int, order_account: str | None, now_ms: int) -> Decision:
        """Charge one request; the verdict says whether it may proceed."""
        limits = self.limits
        banned_until = self._bans.get(client, 0)
        if banned_until > now_ms:
            self.rejected += 1
            return Decision(
                Verdict.BANNED, retry_after_s=math.ceil((banned_until - now_ms) / 1000), banned_until_ms=banned_until
            )
        weight_ms = int(limits.weight_window_s * 1000)
        window = self._window(self._weights, client, now_ms, weight_ms)
        if window.used + weight > limits.request_weight:
            self.rejected += 1
            window.violations += 1
            if limits.ban_after and window.violations > limits.ban_after:
                until = now_ms + int(limits.ban_s * 1000)
                self._bans[client] = until
                return Decision(Verdict.BANNED, window.used, math.ceil(limits.ban_s), until)
            return Decision(
                Verdict.WEIGHT, window.used, max(1, math.ceil((window.start_ms + weight_ms - now_ms) / 1000))
            )
        window.used += weight
        if order_account is not None:
            orders_ms = int(limits.orders_window_s * 1000)
            orders = self._window(self._orders, order_account, now_ms, orders_ms)
            if orders.used + 1 > limits.orders:
                self.rejected += 1
                return Decision(
                    Verdict.ORDERS, window.used, max(1, math.ceil((orders.start_ms + orders_ms - now_ms) / 1000))
                )
            orders.used += 1
        return Decision(Verdict.OK, window.used)

    def used_weight(self, client: str, now_ms: int) -> int:
        window = self._weights.get(client)
        length = int(self.limits.weight_window_s * 1000)
        return window.used if window and window.start_ms == now_ms - now_ms % length else 0
