"""Uniswap V2 (or a fork, by configuration) behind the :class:`Dex` interface."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from connectors.dex.base import Dex, DexProtocol, Pool, PoolQuote, TradeType, require_positive
from connectors.dex.create2 import sort_tokens, v2_pair_address
from connectors.dex.errors import InsufficientLiquidity, PoolNotFound, QuoteFailed
from connectors.dex.reads import CallReverted, call_contract, read_batch, selector
from connectors.dex.uniswap_v2 import router as v2_router
from connectors.dex.uniswap_v2.config import UniswapV2Config
from connectors.dex.uniswap_v2.pair import PairState, reserves_read
from connectors.evm.client import EvmClient

_GET_AMOUNTS_OUT = selector("getAmountsOut(uint256,address[])")
_GET_AMOUNTS_IN = selector("getAmountsIn(uint256,address[])")


class UniswapV2(Dex):
    protocol = DexProtocol.UNISWAP_V2

    def __init__(self, client: EvmClient, config: UniswapV2Config) -> None:
        self.client = client
        self.config = config
        self.name = config.name

    def pool_for(self, token_a: str, token_b: str) -> Pool:
        """The pair's Pool at its CREATE2 address, whether or not it exists on chain."""
        token0, token1 = sort_tokens(token_a, token_b)
        address = v2_pair_address(self.config.factory, self.config.init_code_hash, token0, token1)
        return Pool(DexProtocol.UNISWAP_V2, address, token0, token1, self.config.fee)

    @property
    def swap_router(self) -> str | None:
        return self.config.router

    def candidate_pools(self, token_a: str, token_b: str) -> list[Pool]:
        return [self.pool_for(token_a, token_b)]

    def listed_pool(self, token0: str, token1: str, fee: int) -> Pool | None:
        return self.pool_for(token0, token1)

    def swap_calldata(
        self,
        path: Sequence[str],
        fees: Sequence[int],
        exact_in: bool,
        *,
        amount_in: int,
        amount_out: int,
        limit: int,
        recipient: str,
        deadline: int,
    ) -> bytes:
        """Router02: every hop at the deployment's one fee, so ``fees`` is not encoded."""
        if exact_in:
            return v2_router.swap_exact_tokens_for_tokens(amount_in, limit, list(path), recipient, deadline)
        return v2_router.swap_tokens_for_exact_tokens(amount_out, limit, list(path), recipient, deadline)

    async def pools(self, token_a: str, token_b: str) -> list[Pool]:
        """The pair if it has been created (code at its CREATE2 address), else nothing."""
        pool = self.pool_for(token_a, token_b)
        batch = await read_batch(self.client, [reserves_read(pool.address)], multicall_address=self.config.multicall)
        return [] if batch.results[0] is None else [pool]

    async def pool_states(self, pools: list[Pool]) -> list[PairState]:
        """Reserves of every pair in one Multicall3 round trip."""
        batch = await read_batch(
            self.client, [reserves_read(p.address) for p in pools], multicall_address=self.config.multicall
        )
        states = []
        for pool, result in zip(pools, batch.results, strict=True):
            if result is None:
                raise PoolNotFound(f"{self.name}: no pair at {pool.address}")
            reserve0, reserve1, _timestamp = result
            states.append(PairState(pool, int(reserve0), int(reserve1), batch.block_number))
        return states

    async def _router_amounts(self, fn: bytes, what: str, amount: int, path: list[str]) -> list[int]:
        if self.config.router is None:
            raise QuoteFailed(f"{self.name}: no router configured for on-chain quotes")
        calldata = fn + abi_encode(["uint256", "address[]"], [amount, path])
        try:
            raw = await call_contract(self.client, self.config.router, calldata, f"{self.name} router.{what}")
        except CallReverted as exc:
            if "INSUFFICIENT" in exc.reason or "ds-math-sub-underflow" in exc.reason:
                raise InsufficientLiquidity(str(exc)) from exc
            raise QuoteFailed(str(exc)) from exc
        (amounts,) = abi_decode(["uint256[]"], raw)
        return [int(a) for a in amounts]

    async def onchain_quote_exact_in(self, pool: Pool, token_in: str, amount_in: int) -> PoolQuote:
        """Router02.getAmountsOut(amount_in, [token_in, token_out])."""
        require_positive(amount_in, "amount_in")
        token_out = pool.other(token_in)
        token_in = to_checksum_address(token_in)
        amounts = await self._router_amounts(_GET_AMOUNTS_OUT, "getAmountsOut", amount_in, [token_in, token_out])
        return PoolQuote(pool, TradeType.EXACT_IN, token_in, token_out, amount_in, amounts[-1])

    async def onchain_quote_exact_out(self, pool: Pool, token_out: str, amount_out: int) -> PoolQuote:
        """Router02.getAmountsIn(amount_out, [token_in, token_out])."""
        require_positive(amount_out, "amount_out")
        token_in = pool.other(token_out)
        token_out = to_checksum_address(token_out)
        amounts = await self._router_amounts(_GET_AMOUNTS_IN, "getAmountsIn", amount_out, [token_in, token_out])
        return PoolQuote(pool, TradeType.EXACT_OUT, token_in, token_out, amounts[0], amount_out)
