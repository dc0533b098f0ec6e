"""BitMath: positions of the most and least significant set bits of a uint256."""

from __future__ import annotations

from connectors.dex.uniswap_v3.math.errors import MathRevert


def most_significant_bit(x: int) -> int:
    if x <= 0:
        raise MathRevert("mostSignificantBit of zero")
    return x.bit_length() - 1


def least_significant_bit(x: int) -> int:
    if x <= 0:
        raise MathRevert("leastSignificantBit of zero")
    return (x & -x).bit_length() - 1
