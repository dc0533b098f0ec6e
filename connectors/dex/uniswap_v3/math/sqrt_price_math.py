"""SqrtPriceMath: next sqrt prices for an amount in or out, and the amounts between prices.

Prices are Q64.96 sqrt prices (token1 per token0), liquidity is a uint128, amounts are
token base units. Rounding always favours the pool, as in v3-core.
"""

from __future__ import annotations

from connectors.dex.uniswap_v3.math.errors import MathRevert
from connectors.dex.uniswap_v3.math.full_math import (
    Q96,
    UINT160_MAX,
    UINT256_MAX,
    div_rounding_up,
    mul_div,
    mul_div_rounding_up,
    to_int256,
    to_uint160,
)


def get_next_sqrt_price_from_amount0_rounding_up(sqrt_price_x96: int, liquidity: int, amount: int, add: bool) -> int:
    if amount == 0:
        return sqrt_price_x96
    numerator1 = liquidity << 96
    product = amount * sqrt_price_x96
    if add:
        if product <= UINT256_MAX:
            denominator = numerator1 + product
            if denominator <= UINT256_MAX:
                # Solidity truncates to uint160 here without a check; it always fits.
                return mul_div_rounding_up(numerator1, sqrt_price_x96, denominator) & UINT160_MAX
        fallback = numerator1 // sqrt_price_x96 + amount
        if fallback > UINT256_MAX:
            raise MathRevert("getNextSqrtPriceFromAmount0RoundingUp: add overflow")
        return div_rounding_up(numerator1, fallback) & UINT160_MAX
    if product > UINT256_MAX or numerator1 <= product:
        raise MathRevert("getNextSqrtPriceFromAmount0RoundingUp: not enough token0 in range")
    return to_uint160(mul_div_rounding_up(numerator1, sqrt_price_x96, numerator1 - product))


def get_next_sqrt_price_from_amount1_rounding_down(sqrt_price_x96: int, liquidity: int, amount: int, add: bool) -> int:
    if add:
        quotient = (amount << 96) // liquidity if amount <= UINT160_MAX else mul_div(amount, Q96, liquidity)
        result = sqrt_price_x96 + quotient
        if result > UINT256_MAX:
            raise MathRevert("getNextSqrtPriceFromAmount1RoundingDown: add overflow")
        return to_uint160(result)
    quotient = (
        div_rounding_up(amount << 96, liquidity)
        if amount <= UINT160_MAX
        else mul_div_rounding_up(amount, Q96, liquidity)
    )
    if sqrt_price_x96 <= quotient:
        raise MathRevert("getNextSqrtPriceFromAmount1RoundingDown: not enough token1 in range")
    return sqrt_price_x96 - quotient


def get_next_sqrt_price_from_input(sqrt_price_x96: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    if sqrt_price_x96 <= 0 or liquidity <= 0:
        raise MathRevert("getNextSqrtPriceFromInput: zero price or liquidity")
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_price_x96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_price_x96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(sqrt_price_x96: int, liquidity: int, amount_out: int, zero_for_one: bool) -> int:
    if sqrt_price_x96 <= 0 or liquidity <= 0:
        raise MathRevert("getNextSqrtPriceFromOutput: zero price or liquidity")
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(sqrt_price_x96, liquidity, amount_out, False)
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_price_x96, liquidity, amount_out, False)


def get_amount0_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token0 between two sqrt prices: L * (sqrtB - sqrtA) / (sqrtA * sqrtB)."""
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        sqrt_ratio_a_x96, sqrt_ratio_b_x96 = sqrt_ratio_b_x96, sqrt_ratio_a_x96
    if sqrt_ratio_a_x96 <= 0:
        raise MathRevert("getAmount0Delta: zero sqrt price")
    numerator1 = liquidity << 96
    numerator2 = sqrt_ratio_b_x96 - sqrt_ratio_a_x96
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_ratio_b_x96), sqrt_ratio_a_x96)
    return mul_div(numerator1, numerator2, sqrt_ratio_b_x96) // sqrt_ratio_a_x96


def get_amount1_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool) -> int:
    """token1 between two sqrt prices: L * (sqrtB - sqrtA)."""
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        sqrt_ratio_a_x96, sqrt_ratio_b_x96 = sqrt_ratio_b_x96, sqrt_ratio_a_x96
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_ratio_b_x96 - sqrt_ratio_a_x96, Q96)
    return mul_div(liquidity, sqrt_ratio_b_x96 - sqrt_ratio_a_x96, Q96)


def get_amount0_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity_delta: int) -> int:
    """The int128-liquidity overload: positive deltas round up (owed to the pool), negative down."""
    if liquidity_delta < 0:
        return -to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity_delta, False))
    return to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity_delta, True))


def get_amount1_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity_delta: int) -> int:
    if liquidity_delta < 0:
        return -to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity_delta, False))
    return to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity_delta, True))
