"""Uniswap V3's integer math, ported from the v3-core and v3-periphery Solidity libraries.

Every function returns exactly what its Solidity namesake returns for the same inputs and
raises :class:`MathRevert` where the Solidity code would revert, so an off-chain swap
simulated with it matches the pool to the wei. Python ints are unbounded: each
``uintN``/``intN`` bound the Solidity types enforce is checked explicitly.
"""

from connectors.dex.uniswap_v3.math.errors import MathRevert

__all__ = ["MathRevert"]
