"""LiquidityMath.addDelta: a uint128 liquidity plus a signed int128 delta, checked."""

from __future__ import annotations

from connectors.dex.uniswap_v3.math.errors import MathRevert
from connectors.dex.uniswap_v3.math.full_math import UINT128_MAX


def add_delta(liquidity: int, delta: int) -> int:
    result = liquidity + delta
    if result < 0:
        raise MathRevert("LS: liquidity underflow")
    if result > UINT128_MAX:
        raise MathRevert("LA: liquidity overflow")
    return result
