"""Uniswap V3 NFT positions: what an owner holds, what each position is worth and has
earned, and plans for mint / increase / decrease / collect / burn through the
NonfungiblePositionManager.

positions = UniswapV3Positions(dexes["uniswap_v3"])
held = await positions.owned(owner)          # balanceOf, tokenOfOwnerByIndex, positions: Multicall3
held[0].amount0, held[0].uncollected0        # principal now; what collect would pay now
plan = await positions.plan_mint(owner, weth, usdc, 3000, -198_000, -195_000, 10**18, 3_000 * 10**6,
                                 slippage_bps=50)

Every read is a batch pinned to one block, so a position's amounts and fees are computed
from one consistent state: ``uncollected*`` equals what ``collect`` pays if nothing
changes before it is mined (same block state), to the wei.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from connectors.dex.base import Pool
from connectors.dex.errors import PoolNotFound
from connectors.dex.liquidity_bounds import amount_min, require_slippage, resolve_deadline
from connectors.dex.liquidity_plan import (
    LiquidityCallPlan,
    TokenNeed,
    allowance_read,
    approvals_for,
    balance_read,
    timestamp_read,
    token_pair,
)
from connectors.dex.reads import Read, read_batch
from connectors.dex.uniswap_v3.adapter import UniswapV3
from connectors.dex.uniswap_v3.math.errors import MathRevert
from connectors.dex.uniswap_v3.math.position_math import (
    LiquidityDeposit,
    amounts_for_burn,
    fee_growth_inside,
    plan_liquidity,
    uncollected,
)
from connectors.dex.uniswap_v3.pool_state import SLOT0_TYPES, TICKS_TYPES
from connectors.dex.uniswap_v3.position_manager import (
    burn_calldata,
    check_tick_range,
    collect_calldata,
    decrease_liquidity_calldata,
    increase_liquidity_calldata,
    mint_calldata,
)
from connectors.evm.calls import ContractCall
from crosslane.errors import InvalidRequest

POSITIONS_TYPES = (
    "uint96",
    "address",
    "address",
    "address",
    "uint24",
    "int24",
    "int24",
    "uint128",
    "uint256",
    "uint256",
    "uint128",
    "uint128",
)
DEFAULT_DEADLINE_TTL = 600  # seconds after the chain's latest block


@dataclass(frozen=True)
class V3Position:
    """One NFT position at ``block_number``. Amounts are base units, in the pool's order.

    ``amount0``/``amount1``: what removing all its liquidity would release now (exactly
    what ``decreaseLiquidity`` returns). ``uncollected0``/``uncollected1``: what ``collect``
    would pay now: fees earned plus principal already released by a decrease.
    """

    token_id: int
    owner: str
    pool: Pool
    tick_lower: int
    tick_upper: int
    liquidity: int
    tokens_owed0: int
    tokens_owed1: int
    fee_growth_inside0_last_x128: int
    fee_growth_inside1_last_x128: int
    sqrt_price_x96: int  # the pool's, at block_number
    tick: int
    amount0: int
    amount1: int
    uncollected0: int
    uncollected1: int
    block_number: int

    @property
    def in_range(self) -> bool:
        """Whether the pool's price is inside the range, so the position earns fees."""
        return self.tick_lower <= self.tick < self.tick_upper


@dataclass(frozen=True)
class _Record:
    """``NonfungiblePositionManager.positions(tokenId)`` and ``ownerOf(tokenId)``."""

    token_id: int
    owner: str
    token0: str
    token1: str
    fee: int
    tick_lower: int
    tick_upper: int
    liquidity: int
    fee_growth_inside0_last_x128: int
    fee_growth_inside1_last_x128: int
    tokens_owed0: int
    tokens_owed1: int


class UniswapV3Positions:
    """Position tracking and liquidity plans for one V3 deployment (or fork)."""

    def __init__(self, dex: UniswapV3) -> None:
        self.dex = dex
        self.client = dex.client
        self.config = dex.config

    @property
    def manager(self) -> str:
        if self.config.position_manager is None:
            raise InvalidRequest(f"{self.config.name}: no NonfungiblePositionManager configured")
        return self.config.position_manager

    async def _batch(self, reads: list[Read], block: int | None) -> tuple[int, list[tuple[Any, ...] | None]]:
        batch = await read_batch(self.client, reads, block=block, multicall_address=self.config.multicall)
        return batch.block_number, batch.results

    # --- reads ------------------------------------------------------------------------

    async def owned_token_ids(self, owner: str) -> list[int]:
        """Token ids of every position NFT ``owner`` holds (ERC721Enumerable), two round trips."""
        owner = to_checksum_address(owner)
        block, (count,) = await self._batch([Read.of(self.manager, "balanceOf(address)", ("uint256",), owner)], None)
        n = int(count[0]) if count else 0
        if n == 0:
            return []
        reads = [
            Read.of(self.manager, "tokenOfOwnerByIndex(address,uint256)", ("uint256",), owner, i) for i in range(n)
        ]
        _, results = await self._batch(reads, block)
        return [int(r[0]) for r in results if r is not None]

    async def owned(self, owner: str) -> list[V3Position]:
        """Every position ``owner`` holds, with amounts and uncollected fees."""
        token_ids = await self.owned_token_ids(owner)
        positions, _ = await self.read(token_ids)
        return positions

    async def position(self, token_id: int) -> V3Position:
        (position,), _ = await self.read([token_id])
        return position

    async def read(self, token_ids: list[int], *, block: int | None = None) -> tuple[list[V3Position], int]:
        """The positions, in two round trips pinned to one block; also returns that block's
        timestamp. Refuses a token id the manager does not know (never minted or burned)."""
        reads: list[Read] = [timestamp_read(self.config.multicall)]
        for token_id in token_ids:
            reads.append(Read.of(self.manager, "positions(uint256)", POSITIONS_TYPES, token_id))
            reads.append(Read.of(self.manager, "ownerOf(uint256)", ("address",), token_id))
        block_number, results = await self._batch(reads, block)
        chain_time = int(results[0][0]) if results[0] else 0
        records = []
        for i, token_id in enumerate(token_ids):
            info, owner = results[1 + 2 * i], results[2 + 2 * i]
            if info is None or owner is None:
                raise InvalidRequest(
                    f"{self.config.name}: no position with token id {token_id} (never minted or burned)"
                )
            records.append(_Record(token_id, to_checksum_address(owner[0]), *_position_fields(info)))
        if not records:
            return [], chain_time
        pools = {(r.token0, r.token1, r.fee): self.dex.pool_for(r.token0, r.token1, r.fee) for r in records}
        return await self._with_pool_state(records, pools, block_number), chain_time

    async def _with_pool_state(
        self, records: list[_Record], pools: dict[tuple[str, str, int], Pool], block: int
    ) -> list[V3Position]:
        reads: list[Read] = []
        pool_index: dict[str, int] = {}
        for pool in pools.values():
            pool_index[pool.address] = len(reads)
            reads += [
                Read.of(pool.address, "slot0()", SLOT0_TYPES),
                Read.of(pool.address, "feeGrowthGlobal0X128()", ("uint256",)),
                Read.of(pool.address, "feeGrowthGlobal1X128()", ("uint256",)),
            ]
        tick_index: dict[tuple[str, int], int] = {}
        for r in records:
            address = pools[(r.token0, r.token1, r.fee)].address
            for tick in (r.tick_lower, r.tick_upper):
                if (address, tick) not in tick_index:
                    tick_index[(address, tick)] = len(reads)
                    reads.append(Read.of(address, "ticks(int24)", TICKS_TYPES, tick))
        _, results = await self._batch(reads, block)
        positions = []
        for r in records:
            pool = pools[(r.token0, r.token1, r.fee)]
            at = pool_index[pool.address]
            slot0, global0, global1 = results[at : at + 3]
            if slot0 is None or global0 is None or global1 is None:
                raise PoolNotFound(f"{self.config.name}: position {r.token_id}'s pool {pool.address} does not answer")
            sqrt_price, tick = int(slot0[0]), int(slot0[1])
            lower, upper = (
                results[tick_index[(pool.address, r.tick_lower)]],
                results[tick_index[(pool.address, r.tick_upper)]],
            )
            # ticks(): (liquidityGross, liquidityNet, feeGrowthOutside0X128, feeGrowthOutside1X128, ...)
            outside_lower = (int(lower[2]), int(lower[3])) if lower else (0, 0)
            outside_upper = (int(upper[2]), int(upper[3])) if upper else (0, 0)
            inside = [
                fee_growth_inside(r.tick_lower, r.tick_upper, tick, int(g[0]), outside_lower[k], outside_upper[k])
                for k, g in enumerate((global0, global1))
            ]
            amount0, amount1 = amounts_for_burn(sqrt_price, tick, r.tick_lower, r.tick_upper, r.liquidity)
            positions.append(
                V3Position(
                    token_id=r.token_id,
                    owner=r.owner,
                    pool=pool,
                    tick_lower=r.tick_lower,
                    tick_upper=r.tick_upper,
                    liquidity=r.liquidity,
                    tokens_owed0=r.tokens_owed0,
                    tokens_owed1=r.tokens_owed1,
                    fee_growth_inside0_last_x128=r.fee_growth_inside0_last_x128,
                    fee_growth_inside1_last_x128=r.fee_growth_inside1_last_x128,
                    sqrt_price_x96=sqrt_price,
                    tick=tick,
                    amount0=amount0,
                    amount1=amount1,
                    uncollected0=uncollected(r.liquidity, r.tokens_owed0, inside[0], r.fee_growth_inside0_last_x128),
                    uncollected1=uncollected(r.liquidity, r.tokens_owed1, inside[1], r.fee_growth_inside1_last_x128),
                    block_number=block,
                )
            )
        return positions

    async def _owned_position(self, owner: str, token_id: int) -> tuple[V3Position, int]:
        if isinstance(token_id, bool) or not isinstance(token_id, int) or token_id <= 0:
            raise InvalidRequest(f"token_id must be a positive int, got {token_id!r}")
        (position,), chain_time = await self.read([token_id])
        if position.owner != to_checksum_address(owner):
            raise InvalidRequest(f"position {token_id} is owned by {position.owner}, not {owner}")
        return position, chain_time

    async def _funds(
        self, owner: str, pool: Pool, amount0: int, amount1: int, block: int | None
    ) -> tuple[tuple[TokenNeed, TokenNeed], int]:
        """The owner's balances and allowances to the manager for the pool's tokens."""
        reads = [
            balance_read(pool.token0, owner),
            balance_read(pool.token1, owner),
            allowance_read(pool.token0, owner, self.manager),
            allowance_read(pool.token1, owner, self.manager),
        ]
        block_number, (b0, b1, a0, a1) = await self._batch(reads, block)
        return (
            TokenNeed(pool.token0, amount0, _uint(b0), _uint(a0)),
            TokenNeed(pool.token1, amount1, _uint(b1), _uint(a1)),
        ), block_number

    # --- plans ------------------------------------------------------------------------

    async def plan_mint(
        self,
        owner: str,
        token_a: str,
        token_b: str,
        fee: int,
        tick_lower: int,
        tick_upper: int,
        amount_a_desired: int,
        amount_b_desired: int,
        *,
        slippage_bps: int,
        deadline: int | None = None,
        deadline_ttl: int = DEFAULT_DEADLINE_TTL,
    ) -> LiquidityCallPlan:
        """mint: a new NFT over [tick_lower, tick_upper) of the (token_a, token_b, fee) pool,
        sized by the desired amounts at the pool's current price (LiquidityAmounts).

        Refuses: an unknown fee tier or a pool that does not exist, a range out of order or
        not aligned to the pool's tick spacing, amounts that buy no liquidity, slippage
        outside 0-50%, an expired deadline, balances short of the desired amounts.
        """
        _require_amounts(amount_a_desired, amount_b_desired)
        require_slippage(slippage_bps)
        owner = to_checksum_address(owner)
        token_a, token_b = token_pair(token_a, token_b)
        pool = self.dex.pool_for(token_a, token_b, fee)
        assert pool.tick_spacing is not None
        check_tick_range(tick_lower, tick_upper, pool.tick_spacing)
        a_is_0 = token_a == pool.token0
        desired0, desired1 = (amount_a_desired, amount_b_desired) if a_is_0 else (amount_b_desired, amount_a_desired)
        reads = [
            Read.of(pool.address, "slot0()", SLOT0_TYPES),
            Read.of(pool.address, "tickSpacing()", ("int24",)),
            timestamp_read(self.config.multicall),
        ]
        block, (slot0, spacing, timestamp) = await self._batch(reads, None)
        if slot0 is None or int(slot0[0]) == 0:
            raise PoolNotFound(
                f"{self.config.name}: no initialized pool for {pool.token0}/{pool.token1} fee {fee} at {pool.address}"
            )
        if spacing is not None and int(spacing[0]) != pool.tick_spacing:
            raise InvalidRequest(
                f"pool {pool.address} has tick spacing {spacing[0]}, configuration says {pool.tick_spacing}"
            )
        deadline = resolve_deadline(deadline, deadline_ttl, _uint(timestamp))
        sqrt_price, tick = int(slot0[0]), int(slot0[1])
        planned = _plan(sqrt_price, tick, tick_lower, tick_upper, desired0, desired1)
        if planned.liquidity == 0:
            raise InvalidRequest(_no_liquidity_reason(tick, tick_lower, tick_upper, desired0, desired1))
        needs, _ = await self._funds(owner, pool, desired0, desired1, block)
        min0, min1 = amount_min(planned.amount0, slippage_bps), amount_min(planned.amount1, slippage_bps)
        data = mint_calldata(
            pool.token0,
            pool.token1,
            fee,
            tick_lower,
            tick_upper,
            desired0,
            desired1,
            min0,
            min1,
            owner,
            deadline,
        )
        return LiquidityCallPlan(
            pool=pool,
            call=ContractCall.encoded(self.manager, data),
            approvals=approvals_for(self.manager, list(needs)),
            amount0=planned.amount0,
            amount1=planned.amount1,
            amount0_min=min0,
            amount1_min=min1,
            liquidity=planned.liquidity,
            deadline=deadline,
            block_number=block,
        )

    async def plan_increase(
        self,
        owner: str,
        token_id: int,
        amount0_desired: int,
        amount1_desired: int,
        *,
        slippage_bps: int,
        deadline: int | None = None,
        deadline_ttl: int = DEFAULT_DEADLINE_TTL,
    ) -> LiquidityCallPlan:
        """increaseLiquidity of the owner's position ``token_id`` (amounts in pool order)."""
        _require_amounts(amount0_desired, amount1_desired)
        require_slippage(slippage_bps)
        position, now = await self._owned_position(owner, token_id)
        deadline = resolve_deadline(deadline, deadline_ttl, now)
        planned = _plan(
            position.sqrt_price_x96,
            position.tick,
            position.tick_lower,
            position.tick_upper,
            amount0_desired,
            amount1_desired,
        )
        if planned.liquidity == 0:
            raise InvalidRequest(
                _no_liquidity_reason(
                    position.tick, position.tick_lower, position.tick_upper, amount0_desired, amount1_desired
                )
            )
        needs, _ = await self._funds(
            position.owner, position.pool, amount0_desired, amount1_desired, position.block_number
        )
        min0, min1 = amount_min(planned.amount0, slippage_bps), amount_min(planned.amount1, slippage_bps)
        data = increase_liquidity_calldata(token_id, amount0_desired, amount1_desired, min0, min1, deadline)
        return LiquidityCallPlan(
            pool=position.pool,
            call=ContractCall.encoded(self.manager, data),
            approvals=approvals_for(self.manager, list(needs)),
            amount0=planned.amount0,
            amount1=planned.amount1,
            amount0_min=min0,
            amount1_min=min1,
            liquidity=planned.liquidity,
            deadline=deadline,
            block_number=position.block_number,
            token_id=token_id,
        )

    async def plan_decrease(
        self,
        owner: str,
        token_id: int,
        liquidity: int | None = None,
        *,
        slippage_bps: int,
        deadline: int | None = None,
        deadline_ttl: int = DEFAULT_DEADLINE_TTL,
    ) -> LiquidityCallPlan:
        """decreaseLiquidity by ``liquidity`` (None: all of it); mins ``slippage_bps`` under
        what the pool's burn releases now. The tokens stay owed until a collect."""
        if liquidity is not None and (isinstance(liquidity, bool) or not isinstance(liquidity, int) or liquidity <= 0):
            raise InvalidRequest(f"liquidity must be a positive int, got {liquidity!r}")
        require_slippage(slippage_bps)
        position, now = await self._owned_position(owner, token_id)
        deadline = resolve_deadline(deadline, deadline_ttl, now)
        if position.liquidity == 0:
            raise InvalidRequest(f"position {token_id} has no liquidity to decrease")
        liquidity = position.liquidity if liquidity is None else liquidity
        if liquidity > position.liquidity:
            raise InvalidRequest(f"position {token_id} holds liquidity {position.liquidity}, not {liquidity}")
        amount0, amount1 = amounts_for_burn(
            position.sqrt_price_x96, position.tick, position.tick_lower, position.tick_upper, liquidity
        )
        min0, min1 = amount_min(amount0, slippage_bps), amount_min(amount1, slippage_bps)
        return LiquidityCallPlan(
            pool=position.pool,
            call=ContractCall.encoded(
                self.manager, decrease_liquidity_calldata(token_id, liquidity, min0, min1, deadline)
            ),
            approvals=(),
            amount0=amount0,
            amount1=amount1,
            amount0_min=min0,
            amount1_min=min1,
            liquidity=liquidity,
            deadline=deadline,
            block_number=position.block_number,
            token_id=token_id,
        )

    async def plan_collect(self, owner: str, token_id: int) -> LiquidityCallPlan:
        """collect everything owed (fees and released principal) to the owner."""
        position, _ = await self._owned_position(owner, token_id)
        if position.uncollected0 == 0 and position.uncollected1 == 0:
            raise InvalidRequest(f"position {token_id} has nothing to collect")
        return LiquidityCallPlan(
            pool=position.pool,
            call=ContractCall.encoded(self.manager, collect_calldata(token_id, position.owner)),
            approvals=(),
            amount0=position.uncollected0,
            amount1=position.uncollected1,
            amount0_min=0,
            amount1_min=0,
            liquidity=0,
            deadline=None,
            block_number=position.block_number,
            token_id=token_id,
        )

    async def plan_burn(self, owner: str, token_id: int) -> LiquidityCallPlan:
        """burn the NFT of a cleared position (no liquidity, nothing owed)."""
        position, _ = await self._owned_position(owner, token_id)
        if position.liquidity or position.uncollected0 or position.uncollected1:
            raise InvalidRequest(
                f"position {token_id} is not cleared (liquidity {position.liquidity}, owed "
                f"{position.uncollected0}/{position.uncollected1}): decrease it to zero and collect first"
            )
        return LiquidityCallPlan(
            pool=position.pool,
            call=ContractCall.encoded(self.manager, burn_calldata(token_id)),
            approvals=(),
            amount0=0,
            amount1=0,
            amount0_min=0,
            amount1_min=0,
            liquidity=0,
            deadline=None,
            block_number=position.block_number,
            token_id=token_id,
        )


def _uint(result: tuple[Any, ...] | None) -> int:
    return 0 if result is None else int(result[0])


def _position_fields(info: tuple[Any, ...]) -> tuple[Any, ...]:
    """positions() minus nonce and operator, addresses checksummed."""
    _nonce, _operator, token0, token1, fee, lower, upper, liquidity, growth0, growth1, owed0, owed1 = info
    return (
        to_checksum_address(token0),
        to_checksum_address(token1),
        int(fee),
        int(lower),
        int(upper),
        int(liquidity),
        int(growth0),
        int(growth1),
        int(owed0),
        int(owed1),
    )


def _plan(sqrt_price: int, tick: int, lower: int, upper: int, amount0: int, amount1: int) -> LiquidityDeposit:
    """:func:`plan_liquidity`, with the pool's overflow reverts refused as bad input."""
    try:
        return plan_liquidity(sqrt_price, tick, lower, upper, amount0, amount1)
    except MathRevert as exc:
        raise InvalidRequest(f"amounts {amount0}/{amount1} are beyond what the pool can take: {exc}") from None


def _require_amounts(amount0: int, amount1: int) -> None:
    for name, amount in (("amount0", amount0), ("amount1", amount1)):
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidRequest(f"{name} must be an int in base units, got {type(amount).__name__}")
        if amount < 0:
            raise InvalidRequest(f"{name} must not be negative, got {amount}")
    if amount0 == 0 and amount1 == 0:
        raise InvalidRequest("both amounts are zero: nothing to provide")


def _no_liquidity_reason(tick: int, tick_lower: int, tick_upper: int, amount0: int, amount1: int) -> str:
    if tick < tick_lower:
        needs = "token0 only (the price is below the range)"
    elif tick >= tick_upper:
        needs = "token1 only (the price is above the range)"
    else:
        needs = "both tokens (the price is inside the range)"
    return (
        f"amounts {amount0}/{amount1} (token0/token1) buy zero liquidity in [{tick_lower}, {tick_upper}) "
        f"at tick {tick}: the range needs {needs}"
    )
