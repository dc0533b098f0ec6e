"""A swap request turned into a priced, protected plan: best route, limit, sandwich check.

Shared by the ``dex_quote`` activity and ``crosslane dex quote``, so both say the same
thing about the same request.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from connectors.dex.base import TradeType
from connectors.dex.pricing import amount_in_max, amount_out_min
from connectors.dex.routing import MarketSnapshot, PricedRoute, RouteFinder, RouteSelection
from connectors.dex.sandwich import sandwich_exposure
from connectors.dex.swap_errors import SandwichRisk
from crosslane.domain.chains import TokenInfo
from crosslane.domain.dex import RouteHop, SandwichCheck, SwapQuote, SwapRoute


def swap_limit(quote: PricedRoute, slippage_bps: int) -> int:
    """amountOutMin (exact-in) or amountInMax (exact-out) for the quote worsened by ``slippage_bps``."""
    if quote.trade_type is TradeType.EXACT_IN:
        return amount_out_min(quote.amount_out, slippage_bps)
    return amount_in_max(quote.amount_in, slippage_bps)


def domain_route(quote: PricedRoute, labels: dict[str, str] | None = None) -> SwapRoute:
    """The route as the workflow models carry it; ``labels`` (address -> symbol) name its tokens."""
    names = labels or {}
    return SwapRoute(
        dex=quote.route.dex,
        protocol=quote.route.protocol,
        symbols=[names.get(token, token[:10]) for token in quote.route.path],
        hops=[
            RouteHop(pool=h.pool.address, token_in=h.token_in, token_out=h.token_out, fee=h.pool.fee,
                     amount_in=h.amount_in, amount_out=h.amount_out)
            for h in quote.hops
        ],
    )  # fmt: skip


async def quote_swap(
    finder: RouteFinder,
    token_in: TokenInfo,
    token_out: TokenInfo,
    trade_type: TradeType,
    amount: int,
    *,
    slippage_bps: int,
    max_hops: int = 2,
    dex_names: Iterable[str] | None = None,
    max_sandwich_bps: int | None = None,
    protected: bool = False,
    gas_price_wei: int | None = None,
    market: MarketSnapshot | None = None,
    simulate_sandwich: bool = True,
) -> tuple[SwapQuote, RouteSelection]:
    """The best route for the request and its limit, with the sandwich exposure of that limit
    simulated (``enforced`` for a public swap with a bound: see :func:`check_sandwich`).

    ``market``: pool state already read (no pool read). ``simulate_sandwich`` off: the
    exposure of a swap that does not enforce a bound is not simulated (a fast lane's hot
    path). Raises InvalidRequest (bad input),
    PoolNotFound, InsufficientLiquidity.
    """
    selection = await finder.best(
        token_in.address, token_out.address, trade_type, amount,
        max_hops=max_hops, dex_names=dex_names, gas_price_wei=gas_price_wei,
        labels={token_in.address: token_in.symbol, token_out.address: token_out.symbol}, market=market,
    )  # fmt: skip
    labels = {t.address: t.symbol for t in finder.client.chain.tokens.values()}
    labels.update({token_in.address: token_in.symbol, token_out.address: token_out.symbol})
    best = selection.best
    limit = swap_limit(best, slippage_bps)
    enforced = max_sandwich_bps is not None and not protected
    simulated = enforced or simulate_sandwich
    if simulated and slippage_bps > 0:
        exposure = sandwich_exposure(selection.market, best, limit)
        token, profit, profit_bps = exposure.token, exposure.profit, exposure.profit_bps
    else:  # a limit at the quote leaves a front-run nothing: the swap would fail; or not asked for
        token, profit, profit_bps = token_in.address, 0, Decimal(0)
    quote = SwapQuote(
        chain=finder.client.chain.name,
        block_number=best.block_number,
        trade_type=trade_type,
        token_in=token_in,
        token_out=token_out,
        route=domain_route(best, labels),
        amount_in=best.amount_in,
        amount_out=best.amount_out,
        limit=limit,
        mid_amount=best.mid_amount,
        price_impact_bps=best.price_impact_bps,
        slippage_bps=best.slippage_bps,
        lp_fee_bps=best.lp_fee_bps,
        gas_estimate=best.gas_estimate,
        gas_price_wei=best.gas_price_wei,
        gas_cost_wei=best.gas_cost_wei,
        gas_cost_in_output=best.gas_cost_in_output,
        candidates=selection.candidates,
        sandwich=SandwichCheck(
            token=token,
            max_profit=profit,
            profit_bps=profit_bps,
            bound_bps=max_sandwich_bps,
            enforced=enforced,
            simulated=simulated,
        ),
    )
    return quote, selection


def check_sandwich(quote: SwapQuote, slippage_bps: int) -> None:
    """Refuse (SandwichRisk) a quote whose enforced sandwich exposure exceeds its bound."""
    check = quote.sandwich
    if not check.enforced or check.bound_bps is None or check.profit_bps <= check.bound_bps:
        return
    symbols = {quote.token_in.address: quote.token_in.symbol, quote.token_out.address: quote.token_out.symbol}
    attacked = symbols.get(check.token, check.token)
    raise SandwichRisk(
        f"a sandwich could take {check.profit_bps} bps ({check.max_profit} base units of {attacked}) from "
        f"this swap: its limit lets the price move {slippage_bps} bps against it on "
        f"{quote.route.describe(symbols)}, more than max_sandwich_bps={check.bound_bps} allows; "
        "tighten slippage_bps, trade less, or submit it protected"
    )
