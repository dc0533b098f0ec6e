"""Arbitrage legs on DEX pools: a :class:`~crosslane.arbitrage.LegCurve` over the pool's
exact swap math (V2 reserves, V3 ticks), so every size is priced as the pool would fill it,
LP fee and every tick crossed included, and the leg's gas follows the ticks it crosses.

    leg = await pool_leg(v3, pool, weth, Side.SELL, 50 * 10**18)   # sell up to 50 WETH
    leg.curve.fill(10**18).quote                                    # USDC out, to the wei

A V3 snapshot is widened once, for the largest size, at its block: every smaller swap
walks a prefix of the same ticks, so the curve then answers any size without I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from eth_utils.address import to_checksum_address

from connectors.dex.base import Dex, Pool, PoolQuote, PoolState
from connectors.dex.errors import InsufficientLiquidity
from connectors.dex.gas import estimate_swap_gas
from connectors.dex.pricing import fee_retained, mid_price
from connectors.dex.routing import MarketSnapshot, RouteFinder
from connectors.evm.client import EvmClient
from connectors.evm.erc20 import Erc20
from crosslane.arbitrage import CallableCurve, ChainGas
from crosslane.routing.side import Side

_ONE_ETHER = 10**18


@dataclass(frozen=True)
class PoolLeg:
    """A pool's curve for one side of the asset, and the state (block) it was built from."""

    curve: CallableCurve
    state: PoolState
    quote_token: str

    @property
    def block_number(self) -> int:
        return self.state.block_number


def _swap(side: Side, asset: str) -> Callable[[PoolState, int], PoolQuote]:
    """Selling ``size`` of the asset is exact in; buying it is exact out."""
    if side is Side.SELL:
        return lambda state, size: state.quote_exact_in(asset, size)
    return lambda state, size: state.quote_exact_out(asset, size)


async def _quote(dex: Dex, state: PoolState, swap: Callable[[PoolState, int], PoolQuote], size: int) -> PoolState:
    """``state`` able to quote ``size`` (a V3 snapshot widened as the swap needs, at its
    block); InsufficientLiquidity when the pool cannot fill it."""
    _, widened = await dex.complete(state, lambda s: swap(s, size))
    return widened


async def pool_leg(
    dex: Dex, pool: Pool, asset: str, side: Side, max_size: int, state: PoolState | None = None
) -> PoolLeg:
    """The pool's curve for selling (exact in) or buying (exact out) up to ``max_size`` base
    units of ``asset``; its capacity is ``max_size`` or, if the pool cannot fill that, the
    largest size it can (found by bisection on the exact math)."""
    asset = to_checksum_address(asset)
    quote_token = pool.other(asset)
    state = state if state is not None else await dex.pool_state(pool)
    swap = _swap(side, asset)
    capacity = max_size
    try:
        state = await _quote(dex, state, swap, max_size)
    except InsufficientLiquidity:
        low, high = 0, max_size - 1
        while low < high:
            mid = (low + high + 1) // 2
            try:
                state = await _quote(dex, state, swap, mid)
                low = mid
            except InsufficientLiquidity:
                high = mid - 1
        capacity = low
    final = state
    price = mid_price(final, asset)
    if price <= 0:
        raise InsufficientLiquidity(f"pool {pool.address} holds no liquidity to price {asset}")

    @lru_cache(maxsize=256)
    def quoted(size: int) -> PoolQuote:
        return swap(final, size)

    curve = CallableCurve(
        side,
        lambda size: quoted(size).amount_out if side is Side.SELL else quoted(size).amount_in,
        best_price=price,
        fee_kept=fee_retained([pool.fee]),
        capacity=capacity,
        gas_units=lambda size: estimate_swap_gas(pool.protocol, [quoted(size)]),
    )
    return PoolLeg(curve, final, quote_token)


async def chain_gas(
    client: EvmClient, quote_token: str, fee_per_gas: int | None = None, market: MarketSnapshot | None = None
) -> ChainGas | None:
    """The chain's gas price (next base fee plus tip, unless given) with the native coin
    priced in ``quote_token`` at its WETH pools' median mid price (in ``market`` when it
    holds them, else read now); None when no pool prices it."""
    finder = RouteFinder(client)
    if fee_per_gas is None:
        fee_per_gas = await finder.gas_price()
    if market is None:
        market = await finder.read(finder.pricing_pools([quote_token]))
    per_ether = finder.wei_in(market, quote_token, _ONE_ETHER)
    if per_ether is None:
        return None
    return ChainGas(client.chain.name, fee_per_gas, Fraction(per_ether, _ONE_ETHER))


async def approval_missing(client: EvmClient, token: str, owner: str, spender: str, amount: int) -> bool:
    """Whether ``owner`` must approve ``spender`` before a swap of ``amount`` of ``token``."""
    return await Erc20(client, token).allowance(owner, spender) < amount
