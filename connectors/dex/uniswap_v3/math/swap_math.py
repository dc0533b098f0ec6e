"""SwapMath.computeSwapStep: one step of a swap within a single liquidity range."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.dex.uniswap_v3.math.full_math import mul_div, mul_div_rounding_up
from connectors.dex.uniswap_v3.math.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)

FEE_DENOMINATOR = 1_000_000  # fees are in pips: hundredths of a basis point


@dataclass(frozen=True, slots=True)
class SwapStep:
    sqrt_price_next_x96: int
    amount_in: int  # excluding the fee
    amount_out: int
    fee_amount: int


def compute_swap_step(
    sqrt_price_current_x96: int,
    sqrt_price_target_x96: int,
    liquidity: int,
    amount_remaining: int,
    fee_pips: int,
) -> SwapStep:
    """Swap towards ``sqrt_price_target_x96`` until it is reached or ``amount_remaining`` is used.

    ``amount_remaining`` > 0 is an exact input still to spend (fee included), < 0 an exact
    output still to receive. The direction follows from the two prices.
    """
    zero_for_one = sqrt_price_current_x96 >= sqrt_price_target_x96
    exact_in = amount_remaining >= 0
    amount_in = 0
    amount_out = 0

    if exact_in:
        amount_remaining_less_fee = mul_div(amount_remaining, FEE_DENOMINATOR - fee_pips, FEE_DENOMINATOR)
        amount_in = (
            get_amount0_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, True)
            if zero_for_one
            else get_amount1_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, True)
        )
        if amount_remaining_less_fee >= amount_in:
            sqrt_price_next = sqrt_price_target_x96
        else:
            sqrt_price_next = get_next_sqrt_price_from_input(
                sqrt_price_current_x96, liquidity, amount_remaining_less_fee, zero_for_one
            )
    else:
        amount_out = (
            get_amount1_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, False)
            if zero_for_one
            else get_amount0_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, False)
        )
        if -amount_remaining >= amount_out:
            sqrt_price_next = sqrt_price_target_x96
        else:
            sqrt_price_next = get_next_sqrt_price_from_output(
                sqrt_price_current_x96, liquidity, -amount_remaining, zero_for_one
            )

    reached_target = sqrt_price_target_x96 == sqrt_price_next
    if zero_for_one:
        if not (reached_target and exact_in):
            amount_in = get_amount0_delta(sqrt_price_next, sqrt_price_current_x96, liquidity, True)
        if not (reached_target and not exact_in):
            amount_out = get_amount1_delta(sqrt_price_next, sqrt_price_current_x96, liquidity, False)
    else:
        if not (reached_target and exact_in):
            amount_in = get_amount1_delta(sqrt_price_current_x96, sqrt_price_next, liquidity, True)
        if not (reached_target and not exact_in):
            amount_out = get_amount0_delta(sqrt_price_current_x96, sqrt_price_next, liquidity, False)

    # The output can never exceed what was asked for.
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining

    if exact_in and sqrt_price_next != sqrt_price_target_x96:
        # Range not crossed: the rest of the input is the fee.
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, FEE_DENOMINATOR - fee_pips)
    return SwapStep(sqrt_price_next, amount_in, amount_out, fee_amount)
