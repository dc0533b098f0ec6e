"""The router call that executes a route: Router02 for V2 routes, SwapRouter for V3 routes.

    call = swap_call(finder.dexes[route.dex], route, TradeType.EXACT_IN,
                     amount_in=10**18, amount_out=quote.amount_out,
                     limit=amount_out_min(quote.amount_out, 50), recipient=me, deadline=now + 600)
    call.router, call.calldata, call.spender, call.max_pull   # approve ``max_pull`` to ``spender`` first

The router pulls the input token from the sender, so the sender must have approved the
router for at least ``max_pull`` (exact-in: the input; exact-out: the limit).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.dex.base import Dex, TradeType
from connectors.dex.routing import Route
from crosslane.errors import InvalidRequest


@dataclass(frozen=True)
class SwapCall:
    router: str
    calldata: bytes
    spender: str  # who must be allowed to pull the input token (the router)
    token_in: str
    max_pull: int  # base units of token_in the router may pull at most

    @property
    def data(self) -> str:
        return "0x" + self.calldata.hex()


def router_address(dex: Dex) -> str:
    """The deployment's swap router; refuses a deployment configured without one."""
    router = dex.swap_router
    if router is None:
        raise InvalidRequest(f"{dex.name}: no router configured, cannot swap")
    return router


def swap_call(
    dex: Dex,
    route: Route,
    trade_type: TradeType,
    *,
    amount_in: int,
    amount_out: int,
    limit: int,
    recipient: str,
    deadline: int,
) -> SwapCall:
    """Calldata executing ``route``. Exact-in sells ``amount_in`` for at least ``limit``;
    exact-out buys ``amount_out`` for at most ``limit``. ``deadline`` in unix seconds."""
    if route.dex != dex.name:
        raise InvalidRequest(f"route is on {route.dex}, not {dex.name}")
    if limit < 0:
        raise InvalidRequest(f"limit must be non-negative, got {limit}")
    router = router_address(dex)
    exact_in = trade_type is TradeType.EXACT_IN
    data = dex.swap_calldata(
        route.path,
        route.fees,
        exact_in,
        amount_in=amount_in,
        amount_out=amount_out,
        limit=limit,
        recipient=recipient,
        deadline=deadline,
    )
    return SwapCall(router, data, router, route.token_in, amount_in if exact_in else limit)
