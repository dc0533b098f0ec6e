"""Prices from pool state, and the ratios a quote reports, as exact fractions.

Every price here is *raw*: base units of the output token per base unit of the input
token, fee excluded (the pool's marginal price). Ratios come out as basis points in
``Decimal`` rounded to 0.01 bp; amounts stay ``int`` base units.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from connectors.dex.base import PoolState
from crosslane.errors import InvalidRequest
from crosslane.money import BPS

FEE_DENOMINATOR = 1_000_000  # pips
_CENTI_BP = Decimal("0.01")


def mid_price(state: PoolState, token_in: str) -> Fraction:
    """The pool's marginal price of ``token_in`` in the other token (raw units, no fee).

    V2: reserve_out / reserve_in. V3: sqrtPriceX96² / 2¹⁹² is token1 per token0.
    """
    zero_for_one = state.pool.zero_for_one(token_in)
    one_per_zero = state.one_per_zero()
    if one_per_zero == 0:
        return Fraction(0)
    return one_per_zero if zero_for_one else 1 / one_per_zero


def path_mid_price(states: Sequence[PoolState], path: Sequence[str]) -> Fraction:
    """Product of the hops' mid prices along ``path`` (one more token than states)."""
    price = Fraction(1)
    for state, token_in in zip(states, path, strict=False):
        price *= mid_price(state, token_in)
    return price


def fee_retained(fees: Sequence[int]) -> Fraction:
    """The share of the input that survives the route's LP fees: Π(1 - fee)."""
    kept = Fraction(1)
    for fee in fees:
        kept *= Fraction(FEE_DENOMINATOR - fee, FEE_DENOMINATOR)
    return kept


def to_bps(ratio: Fraction) -> Decimal:
    """A ratio as basis points, to 0.01 bp."""
    value = Decimal(ratio.numerator * BPS) / Decimal(ratio.denominator)
    return value.quantize(_CENTI_BP, rounding=ROUND_HALF_EVEN)


def shortfall(amount_in: int, amount_out: int, reference_price: Fraction) -> Fraction:
    """How much worse the execution price ``amount_out / amount_in`` is than ``reference_price``
    (as a fraction of it): 1 - execution / reference. Negative when better."""
    if amount_in <= 0 or reference_price <= 0:
        return Fraction(0)
    return 1 - Fraction(amount_out, amount_in) / reference_price


def amount_out_min(expected_out: int, slippage_bps: int) -> int:
    """The smallest acceptable output: ``expected_out`` worsened by ``slippage_bps``, rounded down."""
    _check_slippage(slippage_bps)
    return expected_out * (BPS - slippage_bps) // BPS


def amount_in_max(expected_in: int, slippage_bps: int) -> int:
    """The largest acceptable input: ``expected_in`` worsened by ``slippage_bps``, rounded up."""
    _check_slippage(slippage_bps)
    return -(-expected_in * (BPS + slippage_bps) // BPS)


def convert(amount: int, price: Fraction) -> int:
    """``amount`` times a raw price, rounded down (base units)."""
    return amount * price.numerator // price.denominator


def _check_slippage(slippage_bps: int) -> None:
    if isinstance(slippage_bps, bool) or not isinstance(slippage_bps, int) or not 0 <= slippage_bps <= BPS:
        raise InvalidRequest(f"slippage must be an int within 0-{BPS} bps, got {slippage_bps!r}")
