"""LiquidityAmounts (v3-periphery): liquidity for token amounts over a range, and back.

The NonfungiblePositionManager sizes a mint with :func:`get_liquidity_for_amounts`; the
pool then charges :func:`amounts_owed_for_mint` (rounded up). Together they give the exact
token amounts a mint pulls, before sending it.
"""

from __future__ import annotations

from connectors.dex.uniswap_v3.math.full_math import Q96, mul_div, to_uint128
from connectors.dex.uniswap_v3.math.sqrt_price_math import get_amount0_delta, get_amount1_delta
from connectors.dex.uniswap_v3.math.tick_math import get_sqrt_ratio_at_tick


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (b, a) if a > b else (a, b)


def get_liquidity_for_amount0(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount0: int) -> int:
    a, b = _ordered(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    intermediate = mul_div(a, b, Q96)
    return to_uint128(mul_div(amount0, intermediate, b - a))


def get_liquidity_for_amount1(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount1: int) -> int:
    a, b = _ordered(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    return to_uint128(mul_div(amount1, Q96, b - a))


def get_liquidity_for_amounts(
    sqrt_price_x96: int, sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount0: int, amount1: int
) -> int:
    """The most liquidity ``amount0``/``amount1`` (base units) buy over [a, b] at the price."""
    a, b = _ordered(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    if sqrt_price_x96 <= a:
        return get_liquidity_for_amount0(a, b, amount0)
    if sqrt_price_x96 < b:
        return min(
            get_liquidity_for_amount0(sqrt_price_x96, b, amount0), get_liquidity_for_amount1(a, sqrt_price_x96, amount1)
        )
    return get_liquidity_for_amount1(a, b, amount1)


def amounts_owed_for_mint(
    sqrt_price_x96: int, current_tick: int, tick_lower: int, tick_upper: int, liquidity: int
) -> tuple[int, int]:
    """What ``UniswapV3Pool.mint`` charges for ``liquidity`` over [tick_lower, tick_upper).

    The pool decides by its current *tick* (not the sqrt price) which side(s) it charges.
    """
    sqrt_lower = get_sqrt_ratio_at_tick(tick_lower)
    sqrt_upper = get_sqrt_ratio_at_tick(tick_upper)
    if current_tick < tick_lower:
        return get_amount0_delta(sqrt_lower, sqrt_upper, liquidity, True), 0
    if current_tick < tick_upper:
        return (
            get_amount0_delta(sqrt_price_x96, sqrt_upper, liquidity, True),
            get_amount1_delta(sqrt_lower, sqrt_price_x96, liquidity, True),
        )
    return 0, get_amount1_delta(sqrt_lower, sqrt_upper, liquidity, True)
