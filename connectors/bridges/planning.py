"""Quote every configured route and choose one: the planning the BridgeTransfer plan
activity runs, and ``crosslane bridge quote`` shows without starting anything, so a quote
names the route a transfer would take, for the same reason.

All amounts are the asset's base units on the source chain; times are unix seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.bridges.base import BridgeAdapter, ClientFor, RouteUnavailable, TransferContext, context
from connectors.bridges.selector import AmountText, RouteChoice, choose_route, refusal
from crosslane.arbitrage import BridgeCost, TransferCost
from crosslane.domain.bridge import BridgeRequest, BridgeRoute, RoutePreferences, RouteQuote
from crosslane.domain.chains import ChainRegistry
from crosslane.domain.deadlines import check_deadline_horizon
from crosslane.errors import InvalidRequest


@dataclass(frozen=True)
class RouteOffers:
    """What every configured route answered for one transfer."""

    quotes: list[RouteQuote]
    unavailable: dict[str, str] = field(default_factory=dict)  # route -> why it gave no quote


async def quote_routes(adapters: Mapping[BridgeRoute, BridgeAdapter], ctx: TransferContext) -> RouteOffers:
    """Every adapter's quote, concurrently. A route that cannot take the transfer
    (``RouteUnavailable``/``InvalidRequest``) is listed with its reason; any other failure
    (an RPC outage) is raised, so a transient fault never looks like "no route"."""
    routes = list(adapters.items())
    results = await asyncio.gather(*(a.quote(ctx) for _, a in routes), return_exceptions=True)
    quotes: list[RouteQuote] = []
    unavailable: dict[str, str] = {}
    for (route, _), result in zip(routes, results, strict=True):
        if isinstance(result, RouteQuote):
            quotes.append(result)
        elif isinstance(result, RouteUnavailable | InvalidRequest):
            unavailable[str(route)] = str(result)
        elif isinstance(result, BaseException):
            raise result
    return RouteOffers(quotes, unavailable)


def check_deadline(deadline: int | None, chain_now: int) -> None:
    """InvalidRequest when ``deadline`` (unix seconds) is not after both the source chain's
    time ``chain_now`` and the wall clock (a devnet chain's clock may lag or lead)."""
    if deadline is not None and deadline <= max(chain_now, int(time.time())):
        raise InvalidRequest(f"deadline {deadline} has already passed (chain time {chain_now}): nothing was deposited")
    check_deadline_horizon(deadline, chain_now)


def with_deadline(prefs: RoutePreferences, deadline: int | None, now: int) -> RoutePreferences:
    """A deadline is a bound on the expected arrival."""
    if deadline is None:
        return prefs
    left = max(1, deadline - now)
    bound = left if prefs.max_seconds is None else min(left, prefs.max_seconds)
    return prefs.model_copy(update={"max_seconds": bound})


def choose(offers: RouteOffers, amount: int, prefs: RoutePreferences, units: AmountText = str) -> RouteChoice:
    """The selector's choice among the quotes; InvalidRequest naming every route's reason
    (the unavailable ones too) when none can take ``amount``."""
    others = "; ".join(f"{route}: {why}" for route, why in offers.unavailable.items())
    if not offers.quotes:
        raise InvalidRequest(f"no bridge route can take this transfer ({others or 'no route configured'})")
    try:
        return choose_route(offers.quotes, amount, prefs, units)
    except InvalidRequest as exc:
        if not offers.unavailable:
            raise
        raise InvalidRequest(str(exc).removesuffix(")") + f"; {others})") from None


def exclusions(
    quotes: list[RouteQuote], amount: int, prefs: RoutePreferences, units: AmountText = str
) -> dict[BridgeRoute, str]:
    """Why the selector would exclude each quoted route (absent: eligible)."""
    return {q.route: why for q in quotes if (why := refusal(q, amount, prefs, units)) is not None}


def transfer_cost(offers: RouteOffers, amount: int, prefs: RoutePreferences, units: AmountText = str) -> TransferCost:
    """The bridge an arbitrage in transfer mode would take for ``amount`` (the selector's
    choice, for its reason) as the arbitrage's cost; with no bridge, and why, when no
    route can carry it."""
    try:
        choice = choose(offers, amount, prefs, units)
    except InvalidRequest as exc:
        return TransferCost(bridge=None, reason=str(exc))
    return TransferCost(bridge=BridgeCost.from_quote(choice.chosen, amount), reason=choice.reason)


async def quote_transfer_cost(
    chains: ChainRegistry, client: ClientFor, adapters: Mapping[BridgeRoute, BridgeAdapter], request: BridgeRequest
) -> TransferCost:
    """What the selector's route costs to carry ``request`` (at its source chain's time), as an
    arbitrage's transfer cost: the run's quote and the scanner price transfer mode with it."""
    source = client(request.source_chain)
    latest = await source.call(lambda w3: w3.eth.get_block("latest"), "eth_getBlockByNumber(latest)")
    ctx = await context(chains, client, request, int(latest["timestamp"]))
    offers = await quote_routes(adapters, ctx)
    return transfer_cost(offers, request.amount, request.allowed_routes, ctx.token.amount_text)
