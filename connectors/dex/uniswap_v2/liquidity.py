"""Uniswap V2 liquidity: Router02's add/remove calldata and the pair's LP-token accounting.

The integer math is UniswapV2Router02 / UniswapV2Pair's, with their rounding:

* :func:`optimal_amounts` — ``Router02._addLiquidity``: what an add with these desired
  amounts deposits at the pair's reserves;
* :func:`protocol_fee_liquidity` — ``Pair._mintFee``: LP tokens minted to ``feeTo`` before
  any mint or burn when the factory's protocol fee is on;
* :func:`liquidity_minted` / :func:`amounts_for_liquidity` — ``Pair.mint`` / ``Pair.burn``.

Amounts and LP tokens are base units (LP tokens have 18 decimals).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from eth_abi.abi import encode as abi_encode

from connectors.dex.base import Pool
from connectors.dex.errors import InsufficientLiquidity
from connectors.dex.reads import selector

MINIMUM_LIQUIDITY = 1000  # locked forever at a pair's first mint

_ADD_LIQUIDITY = selector("addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)")
_REMOVE_LIQUIDITY = selector("removeLiquidity(address,address,uint256,uint256,uint256,address,uint256)")


def quote(amount_a: int, reserve_a: int, reserve_b: int) -> int:
    """UniswapV2Library.quote: ``amount_a`` of A at the reserves' ratio, in B (rounded down)."""
    if amount_a <= 0:
        raise InsufficientLiquidity("UniswapV2Library: INSUFFICIENT_AMOUNT")
    if reserve_a <= 0 or reserve_b <= 0:
        raise InsufficientLiquidity("UniswapV2Library: INSUFFICIENT_LIQUIDITY")
    return amount_a * reserve_b // reserve_a


def optimal_amounts(amount_a_desired: int, amount_b_desired: int, reserve_a: int, reserve_b: int) -> tuple[int, int]:
    """(amount_a, amount_b) Router02 deposits: all of one desired amount and the other at the
    reserves' ratio, never more than desired. An empty pair takes both as given."""
    if reserve_a == 0 and reserve_b == 0:
        return amount_a_desired, amount_b_desired
    amount_b_optimal = quote(amount_a_desired, reserve_a, reserve_b)
    if amount_b_optimal <= amount_b_desired:
        return amount_a_desired, amount_b_optimal
    return quote(amount_b_desired, reserve_b, reserve_a), amount_b_desired


def protocol_fee_liquidity(reserve0: int, reserve1: int, total_supply: int, k_last: int, fee_on: bool) -> int:
    """LP tokens ``_mintFee`` mints to ``feeTo`` (1/6 of the growth of sqrt(k)), else 0."""
    if not fee_on or k_last == 0:
        return 0
    root_k, root_k_last = isqrt(reserve0 * reserve1), isqrt(k_last)
    if root_k <= root_k_last:
        return 0
    return total_supply * (root_k - root_k_last) // (root_k * 5 + root_k_last)


def liquidity_minted(amount0: int, amount1: int, reserve0: int, reserve1: int, total_supply: int) -> int:
    """LP tokens ``Pair.mint`` issues for ``amount0``/``amount1`` paid in above the reserves
    (``total_supply`` after the protocol fee). Raises if it would mint nothing."""
    if total_supply == 0:
        liquidity = isqrt(amount0 * amount1) - MINIMUM_LIQUIDITY
    else:
        liquidity = min(amount0 * total_supply // reserve0, amount1 * total_supply // reserve1)
    if liquidity <= 0:
        raise InsufficientLiquidity("UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED")
    return liquidity


def amounts_for_liquidity(liquidity: int, balance0: int, balance1: int, total_supply: int) -> tuple[int, int]:
    """(amount0, amount1) ``Pair.burn`` pays for ``liquidity`` LP tokens: a pro-rata share of
    the pair's token *balances* (``total_supply`` after the protocol fee), rounded down."""
    if total_supply == 0:
        return 0, 0
    return liquidity * balance0 // total_supply, liquidity * balance1 // total_supply


@dataclass(frozen=True)
class PairLiquidity:
    """A pair's LP accounting state at one block, and one holder's LP balance in it."""

    pool: Pool
    reserve0: int
    reserve1: int
    balance0: int  # the pair's token balances: a burn pays out of these, not the reserves
    balance1: int
    total_supply: int
    k_last: int
    fee_on: bool
    owner_lp: int
    block_number: int

    @property
    def supply_after_fee(self) -> int:
        """Total LP supply once the next mint/burn has minted the protocol fee."""
        return self.total_supply + protocol_fee_liquidity(
            self.reserve0, self.reserve1, self.total_supply, self.k_last, self.fee_on
        )

    def withdrawal(self, liquidity: int) -> tuple[int, int]:
        """(amount0, amount1) burning ``liquidity`` LP tokens would return now."""
        return amounts_for_liquidity(liquidity, self.balance0, self.balance1, self.supply_after_fee)

    def deposit(self, amount0: int, amount1: int) -> int:
        """LP tokens minted for sending ``amount0``/``amount1`` to the pair now (any unsynced
        balance the pair already holds counts towards the mint, as in ``Pair.mint``)."""
        return liquidity_minted(
            amount0 + self.balance0 - self.reserve0,
            amount1 + self.balance1 - self.reserve1,
            self.reserve0,
            self.reserve1,
            self.supply_after_fee,
        )

    @property
    def owner_amounts(self) -> tuple[int, int]:
        """What the holder's whole LP balance is worth in the pair's tokens now."""
        return self.withdrawal(self.owner_lp)


def add_liquidity_calldata(
    token_a: str,
    token_b: str,
    amount_a_desired: int,
    amount_b_desired: int,
    amount_a_min: int,
    amount_b_min: int,
    to: str,
    deadline: int,
) -> bytes:
    """Router02.addLiquidity(tokenA, tokenB, amountADesired, amountBDesired, amountAMin,
    amountBMin, to, deadline)."""
    return _ADD_LIQUIDITY + abi_encode(
        ["address", "address", "uint256", "uint256", "uint256", "uint256", "address", "uint256"],
        [token_a, token_b, amount_a_desired, amount_b_desired, amount_a_min, amount_b_min, to, deadline],
    )


def remove_liquidity_calldata(
    token_a: str, token_b: str, liquidity: int, amount_a_min: int, amount_b_min: int, to: str, deadline: int
) -> bytes:
    """Router02.removeLiquidity(tokenA, tokenB, liquidity, amountAMin, amountBMin, to, deadline);
    the router pulls ``liquidity`` LP tokens from the sender (approve the pair first)."""
    return _REMOVE_LIQUIDITY + abi_encode(
        ["address", "address", "uint256", "uint256", "uint256", "address", "uint256"],
        [token_a, token_b, liquidity, amount_a_min, amount_b_min, to, deadline],
    )
