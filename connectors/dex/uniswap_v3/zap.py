"""The "zap": how much of one token to swap so that both tokens fit a V3 range exactly.

A range takes the two tokens in a ratio fixed by the price and the bounds; a wallet that
holds them in another ratio must swap part of the excess side first. The swap moves the
price (and so the ratio the range wants), so the size is found by bisection over the
exact pool simulation (``PoolSnapshot``, tick by tick as the pool computes it), not a
closed form at the pre-swap price. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.dex.errors import InsufficientLiquidity
from connectors.dex.uniswap_v3.math.errors import MathRevert
from connectors.dex.uniswap_v3.math.liquidity_amounts import (
    get_liquidity_for_amount0,
    get_liquidity_for_amount1,
)
from connectors.dex.uniswap_v3.math.position_math import plan_liquidity
from connectors.dex.uniswap_v3.math.tick_math import get_sqrt_ratio_at_tick
from connectors.dex.uniswap_v3.swap import PoolSnapshot, simulate_swap
from crosslane.errors import InvalidRequest


@dataclass(frozen=True)
class ZapPlan:
    """Swap ``amount_in`` of ``token_in`` for ``amount_out`` (None: no swap needed), then
    mint with ``amount0``/``amount1``: ``liquidity``, leaving ``dust0``/``dust1``."""

    token_in: str | None
    amount_in: int
    amount_out: int
    amount0: int
    amount1: int
    liquidity: int
    dust0: int
    dust1: int
    sqrt_price_x96_after: int


def _side_liquidity(sqrt_price: int, tick: int, lower: int, upper: int, amount0: int, amount1: int) -> tuple[int, int]:
    """Liquidity each token alone would buy at this price (the range's binding side is the smaller)."""
    sa, sb = get_sqrt_ratio_at_tick(lower), get_sqrt_ratio_at_tick(upper)
    if tick < lower:
        return get_liquidity_for_amount0(sa, sb, amount0), 0
    if tick >= upper:
        return 0, get_liquidity_for_amount1(sa, sb, amount1)
    return get_liquidity_for_amount0(sqrt_price, sb, amount0), get_liquidity_for_amount1(sa, sqrt_price, amount1)


def plan_zap(pool: PoolSnapshot, tick_lower: int, tick_upper: int, amount0: int, amount1: int) -> ZapPlan:
    """The swap (through ``pool``) that leaves the least unused of either token after a
    mint over [tick_lower, tick_upper), and that mint's amounts."""
    if amount0 < 0 or amount1 < 0 or amount0 + amount1 == 0:
        raise InvalidRequest(f"nothing to zap: amounts {amount0}/{amount1}")
    price, tick = pool.sqrt_price_x96, pool.tick
    l0, l1 = _side_liquidity(price, tick, tick_lower, tick_upper, amount0, amount1)
    if tick < tick_lower:  # the range takes token0 only
        zero_for_one, excess = False, amount1
    elif tick >= tick_upper or l0 > l1:  # token1 only
        zero_for_one, excess = True, amount0
    else:
        zero_for_one, excess = False, amount1
    token_in = pool.pool.token0 if zero_for_one else pool.pool.token1
    one_sided = tick < tick_lower or tick >= tick_upper

    def after(x: int) -> tuple[int, int, int, int]:
        """(amount0, amount1, sqrt price, tick) after swapping ``x`` of token_in through the pool."""
        if x == 0:
            return amount0, amount1, price, tick
        try:
            sim = simulate_swap(pool, zero_for_one, x)
        except MathRevert as exc:
            raise InsufficientLiquidity(f"pool {pool.pool.address} cannot take a zap of {x}: {exc}") from exc
        return amount0 - sim.amount0, amount1 - sim.amount1, sim.sqrt_price_x96_after, sim.tick_after

    def overshoot(x: int) -> bool:
        """Past the best size: the side being sold no longer binds (or the price left the range)."""
        a0, a1, p, t = after(x)
        if t < tick_lower or t >= tick_upper:
            return True
        s0, s1 = _side_liquidity(p, t, tick_lower, tick_upper, a0, a1)
        return s0 <= s1 if zero_for_one else s1 <= s0

    lo, hi = 0, excess
    if one_sided or excess == 0:
        lo = hi = excess
    elif not overshoot(hi):
        lo = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if overshoot(mid):
            hi = mid
        else:
            lo = mid
    best = None
    for x in {lo, hi}:
        a0, a1, p, t = after(x)
        deposit = plan_liquidity(p, t, tick_lower, tick_upper, a0, a1)
        if best is None or deposit.liquidity > best[1].liquidity:
            best = (x, deposit, a0, a1, p)
    assert best is not None
    x, deposit, a0, a1, p = best
    out = (a1 - amount1) if zero_for_one else (a0 - amount0)
    return ZapPlan(
        token_in=token_in if x > 0 else None,
        amount_in=x,
        amount_out=out if x > 0 else 0,
        amount0=a0,
        amount1=a1,
        liquidity=deposit.liquidity,
        dust0=a0 - deposit.amount0,
        dust1=a1 - deposit.amount1,
        sqrt_price_x96_after=p,
    )
