"""Uniswap V3 (or a fork, by configuration) behind the :class:`Dex` interface."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from connectors.dex.base import Dex, DexProtocol, Pool, PoolQuote, PoolState, TradeType, require_positive
from connectors.dex.create2 import sort_tokens, v3_pool_address
from connectors.dex.errors import PoolNotFound, QuoteFailed
from connectors.dex.reads import CallReverted, call_contract, read_batch, selector
from connectors.dex.uniswap_v3 import router as v3_router
from connectors.dex.uniswap_v3.config import UniswapV3Config
from connectors.dex.uniswap_v3.pool_state import V3StateReader, slot0_read, word_window
from connectors.dex.uniswap_v3.swap import PoolSnapshot, TickDataMissing
from connectors.evm.client import EvmClient

_QUOTE_EXACT_INPUT_SINGLE = selector("quoteExactInputSingle((address,address,uint256,uint24,uint160))")
_QUOTE_EXACT_OUTPUT_SINGLE = selector("quoteExactOutputSingle((address,address,uint256,uint24,uint160))")
_QUOTER_OUTPUT = ["uint256", "uint160", "uint32", "uint256"]
# Extensions double in size (a window's worth of words, then 2x, 4x...), so even a swap
# that walks the whole tick range (~7000 words at spacing 1) needs only a handful.
_MAX_EXTENSIONS = 16


class UniswapV3(Dex):
    protocol = DexProtocol.UNISWAP_V3

    def __init__(self, client: EvmClient, config: UniswapV3Config) -> None:
        self.client = client
        self.config = config
        self.name = config.name
        self.reader = V3StateReader(client, config)

    def pool_for(self, token_a: str, token_b: str, fee: int) -> Pool:
        """The pool's Pool at its CREATE2 address, whether or not it exists on chain."""
        try:
            spacing = self.config.fee_tiers[fee]
        except KeyError:
            raise PoolNotFound(f"{self.name} has no fee tier {fee}; tiers: {sorted(self.config.fee_tiers)}") from None
        token0, token1 = sort_tokens(token_a, token_b)
        address = v3_pool_address(self.config.deployer, self.config.init_code_hash, token0, token1, fee)
        return Pool(DexProtocol.UNISWAP_V3, address, token0, token1, fee, spacing)

    @property
    def swap_router(self) -> str | None:
        return self.config.swap_router

    def candidate_pools(self, token_a: str, token_b: str) -> list[Pool]:
        return [self.pool_for(token_a, token_b, fee) for fee in sorted(self.config.fee_tiers)]

    def listed_pool(self, token0: str, token1: str, fee: int) -> Pool | None:
        return self.pool_for(token0, token1, fee)

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
        """SwapRouter: the single-pool calls for one hop, the packed-path calls for more."""
        if len(fees) == 1:
            token_in, token_out = path
            if exact_in:
                return v3_router.exact_input_single(token_in, token_out, fees[0], recipient, deadline, amount_in, limit)
            return v3_router.exact_output_single(token_in, token_out, fees[0], recipient, deadline, amount_out, limit)
        if exact_in:
            return v3_router.exact_input(path, fees, recipient, deadline, amount_in, limit)
        return v3_router.exact_output(path, fees, recipient, deadline, amount_out, limit)

    async def pools(self, token_a: str, token_b: str) -> list[Pool]:
        """Initialized pools of the pair across the configured fee tiers, in one round trip."""
        candidates = self.candidate_pools(token_a, token_b)
        batch = await read_batch(
            self.client, [slot0_read(p.address) for p in candidates], multicall_address=self.config.multicall
        )
        return [p for p, slot0 in zip(candidates, batch.results, strict=True) if slot0 is not None and slot0[0] != 0]

    async def pool_states(self, pools: list[Pool]) -> list[PoolSnapshot]:
        return await self.reader.read(pools)

    async def quote_exact_in(self, pool: Pool, token_in: str, amount_in: int) -> PoolQuote:
        (snapshot,) = await self.reader.read([pool])
        quote, _ = await self.complete(snapshot, lambda s: s.quote_exact_in(token_in, amount_in))
        return quote

    async def quote_exact_out(self, pool: Pool, token_out: str, amount_out: int) -> PoolQuote:
        (snapshot,) = await self.reader.read([pool])
        quote, _ = await self.complete(snapshot, lambda s: s.quote_exact_out(token_out, amount_out))
        return quote

    async def complete(
        self, state: PoolState, quote: Callable[[PoolState], PoolQuote]
    ) -> tuple[PoolQuote, PoolState]:
        """Run ``quote`` on the snapshot, reading further bitmap words (at the snapshot's
        block) whenever the swap walks past the ones held. Returns the quote and the snapshot
        as widened for it: quote the next sizes on that one."""
        snapshot = cast(PoolSnapshot, state)  # this adapter's pool_states are snapshots
        window = len(word_window(0, snapshot.tick_spacing, self.config.tick_window))
        for attempt in range(_MAX_EXTENSIONS):
            try:
                return quote(snapshot), snapshot
            except TickDataMissing as missing:
                snapshot = await self.reader.extend(snapshot, missing.word, window * 2**attempt)
        raise QuoteFailed(f"{self.name}: swap on {snapshot.pool.address} needs more than {_MAX_EXTENSIONS} reads")

    async def _quoter(self, fn: bytes, what: str, pool: Pool, token_in: str, token_out: str, amount: int) -> list[int]:
        if self.config.quoter is None:
            raise QuoteFailed(f"{self.name}: no QuoterV2 configured for on-chain quotes")
        params = (token_in, token_out, amount, pool.fee, 0)
        calldata = fn + abi_encode(["(address,address,uint256,uint24,uint160)"], [params])
        try:
            raw = await call_contract(self.client, self.config.quoter, calldata, f"{self.name} QuoterV2.{what}")
        except CallReverted as exc:
            raise QuoteFailed(str(exc)) from exc
        return [int(v) for v in abi_decode(_QUOTER_OUTPUT, raw)]

    async def onchain_quote_exact_in(self, pool: Pool, token_in: str, amount_in: int) -> PoolQuote:
        """QuoterV2.quoteExactInputSingle by eth_call (it simulates the swap and reverts)."""
        require_positive(amount_in, "amount_in")
        token_out = pool.other(token_in)
        token_in = to_checksum_address(token_in)
        amount_out, sqrt_after, crossed, gas = await self._quoter(
            _QUOTE_EXACT_INPUT_SINGLE, "quoteExactInputSingle", pool, token_in, token_out, amount_in
        )
        return PoolQuote(
            pool, TradeType.EXACT_IN, token_in, token_out, amount_in, amount_out, None, sqrt_after, crossed, gas
        )

    async def onchain_quote_exact_out(self, pool: Pool, token_out: str, amount_out: int) -> PoolQuote:
        """QuoterV2.quoteExactOutputSingle by eth_call."""
        require_positive(amount_out, "amount_out")
        token_in = pool.other(token_out)
        token_out = to_checksum_address(token_out)
        amount_in, sqrt_after, crossed, gas = await self._quoter(
            _QUOTE_EXACT_OUTPUT_SINGLE, "quoteExactOutputSingle", pool, token_in, token_out, amount_out
        )
        return PoolQuote(
            pool, TradeType.EXACT_OUT, token_in, token_out, amount_in, amount_out, None, sqrt_after, crossed, gas
        )
