"""A noise trader that keeps the devnet's pool prices moving: every ``interval_s`` it picks
one pool of the registry's chains and swaps it a few basis points up or down (a random
step pulled back toward the pool's starting price, so prices wander but do not drift away).
With the CEX simulators' market makers following their own walk, cross-venue gaps open and
close by themselves.

    python -m devnet.noise_trader              # reads the registry file Crosslane reads
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from connectors.dex import Dex, InsufficientLiquidity, Pool, build_dexes
from connectors.dex.factories import known_pool
from connectors.dex.pricing import mid_price
from connectors.evm.client import EvmClient
from crosslane.config import settings
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.pacing import every
from crosslane.registry import configured_registry
from devnet.pool_moves import move_pool

log = logging.getLogger(__name__)


@dataclass
class NoiseConfig:
    interval_s: float = 2.0
    vol_bps: float = 8.0  # std of one step
    pull: float = 0.2  # share of the deviation from the start pulled back each step
    max_step_bps: float = 60.0
    seed: int | None = None


@dataclass
class _Tracked:
    chain: str
    client: EvmClient
    dex: Dex
    pool: Pool
    asset: str  # token0: the token whose price the steps move
    start: Fraction | None = None


@dataclass
class NoiseTrader:
    chains: list[ChainConfig]
    config: NoiseConfig = field(default_factory=NoiseConfig)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.config.seed)
        self._clients = [EvmClient(chain) for chain in self.chains]
        self.pools: list[_Tracked] = []
        for client in self._clients:
            dexes = build_dexes(client)
            for name, deployment in client.chain.dexes.items():
                dex = dexes[name]
                for info in deployment.pools:
                    pool = known_pool(dex, info)
                    if pool is not None:
                        self.pools.append(_Tracked(client.chain.name, client, dex, pool, pool.token0))
        self.steps = 0

    def step_bps(self, deviation_bps: float) -> Decimal:
        """The next move: a random step, pulled back by a share of the deviation, capped."""
        raw = self._rng.gauss(0.0, self.config.vol_bps) - self.config.pull * deviation_bps
        capped = max(-self.config.max_step_bps, min(self.config.max_step_bps, raw))
        return Decimal(f"{capped:.2f}")

    async def step(self) -> None:
        tracked = self._rng.choice(self.pools)
        price = mid_price(await tracked.dex.pool_state(tracked.pool), tracked.asset)
        if tracked.start is None:
            tracked.start = price
        ratio = price / tracked.start - 1
        bps = self.step_bps(float(ratio) * 10_000)
        if not bps:
            return
        try:
            move = await move_pool(tracked.client, tracked.dex, tracked.pool, tracked.asset, bps)
        except InsufficientLiquidity as exc:
            log.info("%s %s: %s", tracked.chain, tracked.pool.address, exc)
            return
        self.steps += 1
        log.debug("%s %s moved %.1f bps", tracked.chain, tracked.pool.address, move.moved_bps)

    async def run(self) -> None:
        if not self.pools:
            log.warning("no pools in the registry: the noise trader has nothing to move")
            return
        log.info("noise trader on %d pool(s), a move every %.1f s", len(self.pools), self.config.interval_s)
        await every(self.config.interval_s, self.step, lambda exc: log.error("noise trader step failed: %r", exc))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._clients), return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Random small swaps on the devnet's pools.")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between swaps")
    parser.add_argument("--vol-bps", type=float, default=8.0, help="std of one move, basis points")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    chains = list(ChainRegistry.from_registry(configured_registry(settings())).chains.values())
    trader = NoiseTrader(chains, NoiseConfig(interval_s=args.interval, vol_bps=args.vol_bps, seed=args.seed))

    async def _run() -> None:
        try:
            await trader.run()
        finally:
            await trader.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run())


if __name__ == "__main__":
    main()
