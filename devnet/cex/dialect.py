"""The contract between the venue server and one exchange dialect (Binance, OKX, Kraken).

A dialect owns everything on the wire: routes, authentication, JSON shapes, error codes,
what a request weighs and how "slow down" is said. The server owns the rest: faults,
rate-limit bookkeeping, the admin endpoints, the market maker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from devnet.cex.profile import SimulatorSetup
from devnet.cex.ratelimit import Decision

# Set on a request by a dialect handler once an order is booked, so the server knows which
# response "lose_next_order_response" may swallow (a rejected order has nothing to lose).
ORDER_ACCEPTED = web.RequestKey("devnet.cex.order_accepted", bool)
USED_WEIGHT = web.RequestKey("devnet.cex.used_weight", int)  # set by the server after charging a request


@dataclass(frozen=True)
class RequestCost:
    client: str  # who is charged: an IP (Binance) or an API key
    weight: int
    order_account: str | None = None  # set for order placements: counts against the order rate


class Dialect(Protocol):
    profile: SimulatorSetup

    def install(self, app: web.Application) -> None:
        """Add the dialect's REST and websocket routes."""

    def cost(self, request: web.Request) -> RequestCost | None:
        """What a REST request weighs, or None for requests that are not rate limited."""

    def limited(self, decision: Decision) -> web.Response:
        """The venue's 429/418 reply."""

    def unavailable(self) -> web.Response:
        """The venue's 5xx reply for an injected server error."""
