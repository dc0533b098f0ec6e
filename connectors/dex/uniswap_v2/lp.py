"""Uniswap V2 liquidity positions: LP balances read through Multicall3, and add/remove plans.

uni = UniswapV2Liquidity(dexes["uniswap_v2"])
plan = await uni.plan_add(owner, weth, usdc, 10**18, 3_000 * 10**6, slippage_bps=50)
# approve plan.approvals, then send plan.call; the pair's Mint event gives the exact result
held = await uni.positions(owner, [uni.pool_for(weth, usdc)])
"""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address

from connectors.dex.base import Pool, require_positive
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
from connectors.dex.uniswap_v2.adapter import UniswapV2
from connectors.dex.uniswap_v2.liquidity import (
    PairLiquidity,
    add_liquidity_calldata,
    optimal_amounts,
    remove_liquidity_calldata,
)
from connectors.dex.uniswap_v2.pair import reserves_read
from connectors.evm.calls import ContractCall
from crosslane.errors import InsufficientBalance, InvalidRequest

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_DEADLINE_TTL = 600  # seconds after the chain's latest block


def _uint(result: tuple[Any, ...] | None) -> int:
    return 0 if result is None else int(result[0])


class UniswapV2Liquidity:
    """LP-token accounting and Router02 add/remove plans for one V2 deployment (or fork)."""

    def __init__(self, dex: UniswapV2) -> None:
        self.dex = dex
        self.client = dex.client
        self.config = dex.config

    def pool_for(self, token_a: str, token_b: str) -> Pool:
        return self.dex.pool_for(token_a, token_b)

    def _router(self) -> str:
        if self.config.router is None:
            raise InvalidRequest(f"{self.config.name}: no Router02 configured; liquidity needs it")
        return self.config.router

    @staticmethod
    def _pair_reads(pool: Pool, owner: str) -> list[Read]:
        pair = pool.address
        return [
            reserves_read(pair),
            Read.of(pair, "totalSupply()", ("uint256",)),
            Read.of(pair, "kLast()", ("uint256",)),
            balance_read(pair, owner),
            balance_read(pool.token0, pair),
            balance_read(pool.token1, pair),
        ]

    async def read(
        self, pools: list[Pool], owner: str, extra: list[Read] | None = None
    ) -> tuple[list[PairLiquidity], list[tuple[Any, ...] | None], int]:
        """Every pair's LP state and ``owner``'s LP balance, plus ``extra`` reads, in one
        round trip. Returns (pairs, extra results, chain time of the block read)."""
        owner = to_checksum_address(owner)
        reads = [Read.of(self.config.factory, "feeTo()", ("address",)), timestamp_read(self.config.multicall)]
        for pool in pools:
            reads += self._pair_reads(pool, owner)
        reads += extra or []
        batch = await read_batch(self.client, reads, multicall_address=self.config.multicall)
        fee_to, timestamp = batch.results[0], batch.results[1]
        fee_on = fee_to is not None and to_checksum_address(fee_to[0]) != ZERO_ADDRESS
        pairs = []
        cursor = 2
        for pool in pools:
            reserves, supply, k_last, lp, bal0, bal1 = batch.results[cursor : cursor + 6]
            cursor += 6
            if reserves is None:
                raise PoolNotFound(f"{self.config.name}: no pair for {pool.token0}/{pool.token1} at {pool.address}")
            pairs.append(
                PairLiquidity(
                    pool=pool,
                    reserve0=int(reserves[0]),
                    reserve1=int(reserves[1]),
                    balance0=_uint(bal0),
                    balance1=_uint(bal1),
                    total_supply=_uint(supply),
                    k_last=_uint(k_last),
                    fee_on=fee_on,
                    owner_lp=_uint(lp),
                    block_number=batch.block_number,
                )
            )
        return pairs, batch.results[cursor:], _uint(timestamp)

    async def positions(self, owner: str, pools: list[Pool]) -> list[PairLiquidity]:
        """The pairs among ``pools`` in which ``owner`` holds LP tokens (pairs that do not
        exist are skipped), with what the LP tokens are worth now."""
        if not pools:
            return []
        reads = [reserves_read(p.address) for p in pools]
        existing = await read_batch(self.client, reads, multicall_address=self.config.multicall)
        live = [p for p, r in zip(pools, existing.results, strict=True) if r is not None]
        if not live:
            return []
        pairs, _, _ = await self.read(live, owner)
        return [p for p in pairs if p.owner_lp > 0]

    async def plan_add(
        self,
        owner: str,
        token_a: str,
        token_b: str,
        amount_a_desired: int,
        amount_b_desired: int,
        *,
        slippage_bps: int,
        deadline: int | None = None,
        deadline_ttl: int = DEFAULT_DEADLINE_TTL,
    ) -> LiquidityCallPlan:
        """Router02.addLiquidity to an existing pair: deposits the desired amounts at the
        pair's ratio (one side in full), mins ``slippage_bps`` under the expected deposit.

        Refuses: a missing pair (the router would create one: not done by this path),
        non-positive amounts, slippage outside 0-50%, an expired deadline, a balance short
        of the desired amounts.
        """
        require_positive(amount_a_desired, "amount_a")
        require_positive(amount_b_desired, "amount_b")
        require_slippage(slippage_bps)
        router, owner = self._router(), to_checksum_address(owner)
        token_a, token_b = token_pair(token_a, token_b)
        pool = self.pool_for(token_a, token_b)
        extra = [
            balance_read(token_a, owner),
            balance_read(token_b, owner),
            allowance_read(token_a, owner, router),
            allowance_read(token_b, owner, router),
        ]
        (pair,), (bal_a, bal_b, allow_a, allow_b), now = await self.read([pool], owner, extra)
        deadline = resolve_deadline(deadline, deadline_ttl, now)
        a_is_0 = token_a == pool.token0
        reserve_a, reserve_b = (pair.reserve0, pair.reserve1) if a_is_0 else (pair.reserve1, pair.reserve0)
        amount_a, amount_b = optimal_amounts(amount_a_desired, amount_b_desired, reserve_a, reserve_b)
        amount0, amount1 = (amount_a, amount_b) if a_is_0 else (amount_b, amount_a)
        lp = pair.deposit(amount0, amount1)
        min_a, min_b = amount_min(amount_a, slippage_bps), amount_min(amount_b, slippage_bps)
        # The router pulls at most the desired amounts: approve and check those.
        approvals = approvals_for(
            router,
            [
                TokenNeed(token_a, amount_a_desired, _uint(bal_a), _uint(allow_a)),
                TokenNeed(token_b, amount_b_desired, _uint(bal_b), _uint(allow_b)),
            ],
        )
        data = add_liquidity_calldata(
            token_a, token_b, amount_a_desired, amount_b_desired, min_a, min_b, owner, deadline
        )
        return LiquidityCallPlan(
            pool=pool,
            call=ContractCall.encoded(router, data),
            approvals=approvals,
            amount0=amount0,
            amount1=amount1,
            amount0_min=min_a if a_is_0 else min_b,
            amount1_min=min_b if a_is_0 else min_a,
            liquidity=lp,
            deadline=deadline,
            block_number=pair.block_number,
        )

    async def plan_remove(
        self,
        owner: str,
        token_a: str,
        token_b: str,
        liquidity: int | None = None,
        *,
        slippage_bps: int,
        deadline: int | None = None,
        deadline_ttl: int = DEFAULT_DEADLINE_TTL,
    ) -> LiquidityCallPlan:
        """Router02.removeLiquidity of ``liquidity`` LP tokens (None: the owner's whole
        balance), mins ``slippage_bps`` under what the burn pays at the pair's balances."""
        if liquidity is not None:
            require_positive(liquidity, "liquidity")
        require_slippage(slippage_bps)
        router, owner = self._router(), to_checksum_address(owner)
        token_a, token_b = token_pair(token_a, token_b)
        pool = self.pool_for(token_a, token_b)
        (pair,), (allowance,), now = await self.read([pool], owner, [allowance_read(pool.address, owner, router)])
        deadline = resolve_deadline(deadline, deadline_ttl, now)
        if pair.owner_lp == 0:
            raise InsufficientBalance(f"{owner} holds no LP tokens of pair {pool.address}")
        liquidity = pair.owner_lp if liquidity is None else liquidity
        if liquidity > pair.owner_lp:
            raise InsufficientBalance(f"{owner} holds {pair.owner_lp} LP tokens of {pool.address}, not {liquidity}")
        amount0, amount1 = pair.withdrawal(liquidity)
        if amount0 == 0 or amount1 == 0:
            raise InvalidRequest(
                f"{liquidity} LP tokens of {pool.address} are worth nothing of one token: burn refused"
            )
        min0, min1 = amount_min(amount0, slippage_bps), amount_min(amount1, slippage_bps)
        a_is_0 = token_a == pool.token0
        data = remove_liquidity_calldata(
            token_a, token_b, liquidity, min0 if a_is_0 else min1, min1 if a_is_0 else min0, owner, deadline
        )
        approvals = approvals_for(router, [TokenNeed(pool.address, liquidity, pair.owner_lp, _uint(allowance))])
        return LiquidityCallPlan(
            pool=pool,
            call=ContractCall.encoded(router, data),
            approvals=approvals,
            amount0=amount0,
            amount1=amount1,
            amount0_min=min0,
            amount1_min=min1,
            liquidity=liquidity,
            deadline=deadline,
            block_number=pair.block_number,
        )
