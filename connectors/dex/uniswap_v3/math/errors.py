"""The one failure of the V3 math: a Solidity ``require`` that would revert."""

from __future__ import annotations


class MathRevert(ArithmeticError):
    """The Solidity library would revert for these inputs (overflow, bound, zero divisor)."""
