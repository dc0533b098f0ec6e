"""FullMath and UnsafeMath: 512-bit-safe ``a * b / d`` with Solidity's rounding and bounds."""

from __future__ import annotations

from connectors.dex.uniswap_v3.math.errors import MathRevert

Q96 = 1 << 96
Q128 = 1 << 128
UINT256_MAX = (1 << 256) - 1
UINT160_MAX = (1 << 160) - 1
UINT128_MAX = (1 << 128) - 1
INT256_MAX = (1 << 255) - 1


def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a * b / denominator); reverts on a zero denominator or a result above uint256."""
    if denominator == 0:
        raise MathRevert("mulDiv: zero denominator")
    result = a * b // denominator
    if result > UINT256_MAX:
        raise MathRevert("mulDiv: result overflows uint256")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a * b / denominator) with FullMath's extra check that the +1 does not overflow."""
    result = mul_div(a, b, denominator)
    if (a * b) % denominator:
        if result == UINT256_MAX:
            raise MathRevert("mulDivRoundingUp: result overflows uint256")
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp: ceil(x / y). The EVM's ``div`` by zero is 0, not a revert."""
    if y == 0:
        return 0
    return x // y + (1 if x % y else 0)


def to_uint160(x: int) -> int:
    if not 0 <= x <= UINT160_MAX:
        raise MathRevert("SafeCast: uint160 overflow")
    return x


def to_uint128(x: int) -> int:
    if not 0 <= x <= UINT128_MAX:
        raise MathRevert("toUint128 overflow")
    return x


def to_int256(x: int) -> int:
    if not 0 <= x <= INT256_MAX:
        raise MathRevert("SafeCast: int256 overflow")
    return x
