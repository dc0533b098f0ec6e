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
from connectors.dex.uniswap_v2 import UniswapV2
from connectors.dex.uniswap_v2 import router as v2_router
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3 import router as v3_router
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
    if isinstance(dex, UniswapV2):
        router = dex.config.router
    elif isinstance(dex, UniswapV3):
        router = dex.config.swap_router
    else:
        raise InvalidRequest(f"{dex.name}: no swap router for {type(dex).__name__}")
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
    if isinstance(dex, UniswapV2):
        if exact_in:
            data = v2_router.swap_exact_tokens_for_tokens(amount_in, limit, route.path, recipient, deadline)
        else:
            data = v2_router.swap_tokens_for_exact_tokens(amount_out, limit, route.path, recipient, deadline)
    elif len(route.pools) == 1:
        token_in, token_out = route.path
        fee = route.pools[0].fee
        if exact_in:
            data = v3_router.exact_input_single(token_in, token_out, fee, recipient, deadline, amount_in, limit)
        else:
            data = v3_router.exact_output_single(token_in, token_out, fee, recipient, deadline, amount_out, limit)
    elif exact_in:
        data = v3_router.exact_input(route.path, route.fees, recipient, deadline, amount_in, limit)
    else:
        data = v3_router.exact_output(route.path, route.fees, recipient, deadline, amount_out, limit)
    return SwapCall(router, data, router, route.token_in, amount_in if exact_in else limit)
