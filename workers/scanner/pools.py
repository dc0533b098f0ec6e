"""The scanner's pool state: per chain, the head block polled; on each new block every
scanned pool read in one batched Multicall3 read (the quote engine's ``RouteFinder.read``),
its buy and sell curves built on that state (``pool_leg``) and the chain's gas priced. The
curves then answer any size without I/O until the next block.

Freshness: each leg carries the block its state is from and the head last seen, so a chain
whose reads fail (or fall behind) yields legs ``evaluate`` drops as stale pool state.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from connectors.dex import Dex, InsufficientLiquidity, Pool, build_dexes
from connectors.dex.arbitrage_curves import PoolLeg, chain_gas, pool_leg
from connectors.dex.factories import known_pool
from connectors.dex.routing import RouteFinder
from connectors.evm.client import EvmClient
from connectors.evm.erc20 import Erc20
from crosslane.arbitrage import ChainGas
from crosslane.domain.chains import ChainConfig
from crosslane.errors import CrosslaneError
from crosslane.pacing import every
from crosslane.routing.side import Side
from workers.scanner.markets import PoolSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolView:
    """A pool's curves for buying and selling the asset at one block (None: it cannot)."""

    block_number: int
    buy: PoolLeg | None
    sell: PoolLeg | None
    detail: str = ""


class ChainFeed:
    """One chain's scanned pools, re-read once per new block."""

    def __init__(self, chain: ChainConfig, sources: list[tuple[PoolSource, int]], owner: str | None = None) -> None:
        """``sources``: each pool with the largest size (asset base units) to build curves for;
        ``owner``: the address whose balances of the pools' tokens are read with each block
        (what a DEX leg may spend; None: not read)."""
        self.chain = chain
        self.client = EvmClient(chain)
        self.dexes: dict[str, Dex] = build_dexes(self.client)
        self.finder = RouteFinder(self.client, self.dexes)
        self.sources = sources
        self.pools: dict[str, Pool] = {src.pool.address: self._pool(src) for src, _ in sources}
        self.views: dict[str, PoolView] = {}
        self.gas: dict[str, ChainGas | None] = {}  # quote token -> gas priced in it
        self.head_block: int | None = None
        self.read_block: int | None = None
        self.reads = 0
        self.error = ""
        self.owner = None if owner is None else to_checksum_address(owner)
        self.held: dict[str, int] = {}  # token address -> what ``owner`` holds, base units

    def _pool(self, src: PoolSource) -> Pool:
        pool = known_pool(self.dexes[src.dex], src.pool)
        if pool is None:
            raise CrosslaneError(f"{src.venue}: no pool model for {type(self.dexes[src.dex]).__name__}")
        return pool

    async def refresh(self) -> bool:
        """Poll the head; on a new block read every pool at it. True when it read."""
        self.head_block = await self.client.block_number()
        if self.head_block == self.read_block:
            return False
        market = await self.finder.read(self.pools.values())
        views: dict[str, PoolView] = {}
        for src, max_size in self.sources:
            pool = self.pools[src.pool.address]
            state = market.state(pool)
            if state is None:
                views[pool.address] = PoolView(market.block_number, None, None, "pool not found on chain")
                continue
            dex = self.dexes[src.dex]
            legs: dict[Side, PoolLeg | None] = {}
            detail = ""
            for side in (Side.BUY, Side.SELL):
                try:
                    legs[side] = await pool_leg(dex, pool, src.asset_token, side, max_size, state)
                except InsufficientLiquidity as exc:
                    legs[side], detail = None, str(exc)
            views[pool.address] = PoolView(market.block_number, legs[Side.BUY], legs[Side.SELL], detail)
        for quote in {src.quote_token for src, _ in self.sources}:
            self.gas[quote] = await chain_gas(self.client, quote)
        if self.owner is not None:
            tokens = sorted({t for src, _ in self.sources for t in (src.asset_token, src.quote_token)})
            amounts = await asyncio.gather(*(Erc20(self.client, t).balance_of(self.owner) for t in tokens))
            self.held = dict(zip(tokens, amounts, strict=True))
        self.views = views
        self.read_block = market.block_number
        self.reads += 1
        return True

    async def run(self, poll_s: float) -> None:
        """Until cancelled; a failed poll is kept as ``error`` (the legs turn unhealthy)."""
        await every(poll_s, self._poll, self._failed)

    async def _poll(self) -> None:
        await self.refresh()
        self.error = ""

    def _failed(self, exc: Exception) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        log.warning("%s: pool read failed: %s", self.chain.name, self.error)

    async def close(self) -> None:
        await self.client.close()
