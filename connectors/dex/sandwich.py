"""How much a sandwich could take from a swap with a given limit, simulated on pool state.

A sandwich front-runs the victim in the same direction, moving the price until the
victim's swap *just* still meets its limit (amountOutMin / amountInMax), lets the victim
trade at that worse price, then sells back what it bought. The attacker keeps the
difference less the LP fees it paid both ways. The limit sets how far the price may be
pushed; pool depth and fees decide what that is worth. So this check catches both a
limit that is too loose and a pool that is too shallow for the slippage allowed.

Simulated with the exact pool math on the quote's own state (no I/O): for the whole route
and for each of its hops alone, the largest front-run the victim's limit tolerates is
found by bisection, and the best profit over sizes up to it is taken. Amounts are base
units of the attacked segment's input token; ``profit_bps`` is per victim notional
entering that segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from connectors.dex.base import PoolState, TradeType
from connectors.dex.errors import InsufficientLiquidity
from connectors.dex.pricing import to_bps
from connectors.dex.routing import MarketSnapshot, PricedRoute
from connectors.dex.uniswap_v3.math.errors import MathRevert
from connectors.dex.uniswap_v3.swap import TickDataMissing

_PROFIT_SAMPLES = 16
_MAX_DOUBLINGS = 256


class _Infeasible(Exception):
    """The simulated swap cannot happen (liquidity runs out, or past the state read)."""


@dataclass(frozen=True)
class SandwichExposure:
    token: str  # the attacker's capital: input token of the attacked segment
    front_run: int  # base units of ``token`` the best sandwich front-runs with
    profit: int  # base units of ``token`` it keeps
    notional: int  # the victim's amount entering the segment
    profit_bps: Decimal
    hops: tuple[int, int]  # the segment attacked: route hops [start, end)


def _swap_exact_in(state: PoolState, token_in: str, amount_in: int) -> tuple[int, PoolState]:
    """(output, state after) of selling ``amount_in``; the pool's own integer math."""
    if amount_in <= 0:
        raise _Infeasible("nothing to sell")
    try:
        quote, after = state.swap_exact_in(token_in, amount_in)
    except (InsufficientLiquidity, MathRevert, TickDataMissing) as exc:
        raise _Infeasible(str(exc)) from None
    return quote.amount_out, after


def _swap_exact_out(state: PoolState, token_out: str, amount_out: int) -> tuple[int, PoolState]:
    """(input needed, state after) for receiving exactly ``amount_out``."""
    if amount_out <= 0:
        raise _Infeasible("nothing to buy")
    try:
        quote, after = state.swap_exact_out(token_out, amount_out)
    except (InsufficientLiquidity, MathRevert, TickDataMissing) as exc:
        raise _Infeasible(str(exc)) from None
    return quote.amount_in, after


def _path_exact_in(states: list[PoolState], path: Sequence[str], amount: int) -> tuple[int, list[PoolState]]:
    after = []
    for state, token in zip(states, path, strict=False):
        amount, new = _swap_exact_in(state, token, amount)
        after.append(new)
    return amount, after


def _path_exact_out(states: list[PoolState], path: Sequence[str], amount: int) -> tuple[int, list[PoolState]]:
    after: list[PoolState] = []
    for state, token in zip(reversed(states), reversed(path), strict=False):
        amount, new = _swap_exact_out(state, token, amount)
        after.insert(0, new)
    return amount, after


class _Sandwich:
    """One segment ``[start, end)`` of the victim's route attacked by front- and back-runs."""

    def __init__(self, states: list[PoolState], quote: PricedRoute, limit: int, start: int, end: int) -> None:
        self.states = states
        self.quote = quote
        self.limit = limit
        self.start, self.end = start, end
        self.path = quote.route.path

    def _victim_ok(self, states: list[PoolState]) -> tuple[bool, list[PoolState]]:
        if self.quote.trade_type is TradeType.EXACT_IN:
            out, after = _path_exact_in(states, self.path, self.quote.amount_in)
            return out >= self.limit, after
        paid, after = _path_exact_out(states, self.path, self.quote.amount_out)
        return paid <= self.limit, after

    def profit(self, front: int) -> int | None:
        """What front-running with ``front`` earns; None if the victim would then revert."""
        seg_path = self.path[self.start : self.end + 1]
        try:
            bought, seg_after = _path_exact_in(self.states[self.start : self.end], seg_path, front)
            states = self.states[: self.start] + seg_after + self.states[self.end :]
            ok, after_victim = self._victim_ok(states)
            if not ok:
                return None
            back_states = list(reversed(after_victim[self.start : self.end]))
            sold, _ = _path_exact_in(back_states, list(reversed(seg_path)), bought)
        except _Infeasible:
            return None
        return sold - front

    def best(self) -> tuple[int, int]:
        """(front-run, profit) of the most profitable feasible front-run; (0, 0) if none pays."""
        lo, hi = 0, max(1, self.quote.hops[self.start].amount_in)
        for _ in range(_MAX_DOUBLINGS):  # grow until the victim would revert
            if self.profit(hi) is None:
                break
            lo, hi = hi, hi * 2
        while hi - lo > max(1, lo // 10_000):  # the largest tolerated front-run, to 0.01%
            mid = (lo + hi) // 2
            if self.profit(mid) is None:
                hi = mid
            else:
                lo = mid
        best_front, best_profit = 0, 0
        for k in range(1, _PROFIT_SAMPLES + 1):
            front = lo * k // _PROFIT_SAMPLES
            if front <= 0:
                continue
            profit = self.profit(front)
            if profit is not None and profit > best_profit:
                best_front, best_profit = front, profit
        return best_front, best_profit


def sandwich_exposure(market: MarketSnapshot, quote: PricedRoute, limit: int) -> SandwichExposure:
    """The most a sandwich could extract from ``quote`` executed with ``limit``
    (exact-in: amountOutMin; exact-out: amountInMax), over the whole route and each hop."""
    states = [market.states[p.address] for p in quote.route.pools]
    segments = [(0, len(states))] + ([(i, i + 1) for i in range(len(states))] if len(states) > 1 else [])
    worst: SandwichExposure | None = None
    for start, end in segments:
        front, profit = _Sandwich(states, quote, limit, start, end).best()
        notional = quote.hops[start].amount_in
        exposure = SandwichExposure(
            token=quote.route.path[start],
            front_run=front,
            profit=profit,
            notional=notional,
            profit_bps=to_bps(Fraction(profit, notional)) if notional else Decimal(0),
            hops=(start, end),
        )
        if worst is None or exposure.profit_bps > worst.profit_bps:
            worst = exposure
    assert worst is not None
    return worst
