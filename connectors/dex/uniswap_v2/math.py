"""UniswapV2Library's constant-product quotes, with its integer rounding, for any fee.

The fee is in pips (3000 = 0.3%). Uniswap's own 997/1000 is 997000/1000000: numerator
and denominator scale by the same factor, so the floors are identical to the library's.
"""

from __future__ import annotations

from connectors.dex.errors import InsufficientLiquidity

FEE_DENOMINATOR = 1_000_000


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    """getAmountOut: the output of selling ``amount_in`` (base units), rounded down."""
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidity("UniswapV2Library: INSUFFICIENT_LIQUIDITY (empty reserve)")
    amount_in_with_fee = amount_in * (FEE_DENOMINATOR - fee)
    numerator = amount_in_with_fee * reserve_out
    denominator = reserve_in * FEE_DENOMINATOR + amount_in_with_fee
    return numerator // denominator


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee: int) -> int:
    """getAmountIn: the input needed for exactly ``amount_out``, rounded down then plus one."""
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidity("UniswapV2Library: INSUFFICIENT_LIQUIDITY (empty reserve)")
    if amount_out >= reserve_out:
        raise InsufficientLiquidity(f"cannot take {amount_out} out of a reserve of {reserve_out}")
    numerator = reserve_in * amount_out * FEE_DENOMINATOR
    denominator = (reserve_out - amount_out) * (FEE_DENOMINATOR - fee)
    return numerator // denominator + 1
