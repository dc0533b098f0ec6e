"""Position accounting of Uniswap V3, ported: what a mint charges, what a burn returns, and
the fees a NonfungiblePositionManager position has earned.

* :func:`plan_liquidity` — the manager's ``addLiquidity``: LiquidityAmounts sizes the
  liquidity, the pool charges the amounts for it (rounded up).
* :func:`amounts_for_burn` — ``UniswapV3Pool.burn``: the amounts ``liquidity`` is worth
  now (rounded down); a ``decreaseLiquidity`` of it returns exactly these.
* :func:`fee_growth_inside` — ``Tick.getFeeGrowthInside``, with the EVM's wrapping
  ``uint256`` subtraction (fee growth counters overflow by design).
* :func:`uncollected` — what ``collect`` with no limit pays: the position's
  ``tokensOwed`` plus the fees earned since its ``feeGrowthInsideLast``, in the manager's
  ``uint128`` arithmetic.

Amounts are token base units; fee growth is Q128.128 per unit of liquidity.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.dex.uniswap_v3.math.full_math import Q128, UINT128_MAX, UINT256_MAX, mul_div
from connectors.dex.uniswap_v3.math.liquidity_amounts import amounts_owed_for_mint, get_liquidity_for_amounts
from connectors.dex.uniswap_v3.math.sqrt_price_math import get_amount0_delta, get_amount1_delta
from connectors.dex.uniswap_v3.math.tick_math import get_sqrt_ratio_at_tick


def _sub256(a: int, b: int) -> int:
    """``a - b`` as Solidity 0.7 computes it on uint256: modulo 2^256."""
    return (a - b) & UINT256_MAX


@dataclass(frozen=True)
class LiquidityDeposit:
    """A mint or increase: the liquidity it adds and what the pool pulls for it (base units)."""

    liquidity: int
    amount0: int
    amount1: int


def plan_liquidity(
    sqrt_price_x96: int, current_tick: int, tick_lower: int, tick_upper: int, amount0_desired: int, amount1_desired: int
) -> LiquidityDeposit:
    """What ``mint``/``increaseLiquidity`` with these desired amounts does at this pool state.

    The liquidity may be 0 (amounts too small, or only the side the range does not use):
    the pool would revert, so callers refuse it.
    """
    liquidity = get_liquidity_for_amounts(
        sqrt_price_x96,
        get_sqrt_ratio_at_tick(tick_lower),
        get_sqrt_ratio_at_tick(tick_upper),
        amount0_desired,
        amount1_desired,
    )
    if liquidity == 0:
        return LiquidityDeposit(0, 0, 0)
    amount0, amount1 = amounts_owed_for_mint(sqrt_price_x96, current_tick, tick_lower, tick_upper, liquidity)
    return LiquidityDeposit(liquidity, amount0, amount1)


def amounts_for_burn(
    sqrt_price_x96: int, current_tick: int, tick_lower: int, tick_upper: int, liquidity: int
) -> tuple[int, int]:
    """(amount0, amount1) ``UniswapV3Pool.burn(tick_lower, tick_upper, liquidity)`` returns.

    Like the pool's ``_modifyPosition``, the current *tick* (not the sqrt price) decides
    which side(s) the range holds; a negative liquidity delta rounds down.
    """
    sqrt_lower = get_sqrt_ratio_at_tick(tick_lower)
    sqrt_upper = get_sqrt_ratio_at_tick(tick_upper)
    if current_tick < tick_lower:
        return get_amount0_delta(sqrt_lower, sqrt_upper, liquidity, False), 0
    if current_tick < tick_upper:
        return (
            get_amount0_delta(sqrt_price_x96, sqrt_upper, liquidity, False),
            get_amount1_delta(sqrt_lower, sqrt_price_x96, liquidity, False),
        )
    return 0, get_amount1_delta(sqrt_lower, sqrt_upper, liquidity, False)


def fee_growth_inside(
    tick_lower: int,
    tick_upper: int,
    current_tick: int,
    fee_growth_global_x128: int,
    lower_fee_growth_outside_x128: int,
    upper_fee_growth_outside_x128: int,
) -> int:
    """``Tick.getFeeGrowthInside`` for one token: fee growth per liquidity inside the range."""
    if current_tick >= tick_lower:
        below = lower_fee_growth_outside_x128
    else:
        below = _sub256(fee_growth_global_x128, lower_fee_growth_outside_x128)
    if current_tick < tick_upper:
        above = upper_fee_growth_outside_x128
    else:
        above = _sub256(fee_growth_global_x128, upper_fee_growth_outside_x128)
    return _sub256(_sub256(fee_growth_global_x128, below), above)


def fees_earned(fee_growth_inside_x128: int, fee_growth_inside_last_x128: int, liquidity: int) -> int:
    """``uint128(FullMath.mulDiv(inside - last, liquidity, Q128))``: fees (base units) earned
    by ``liquidity`` since the position last recorded its fee growth."""
    return mul_div(_sub256(fee_growth_inside_x128, fee_growth_inside_last_x128), liquidity, Q128) & UINT128_MAX


def uncollected(liquidity: int, tokens_owed: int, fee_growth_inside_x128: int, fee_growth_inside_last_x128: int) -> int:
    """What ``collect`` (amount max = uint128 max) pays out for one token, base units.

    The manager pokes the pool and adds the fees earned only while the position still has
    liquidity; ``tokensOwed`` also holds principal a ``decreaseLiquidity`` released.
    """
    if liquidity == 0:
        return tokens_owed
    return (tokens_owed + fees_earned(fee_growth_inside_x128, fee_growth_inside_last_x128, liquidity)) & UINT128_MAX
