"""Opening an arbitrage gap on demand, for tests and the showcase, on the stack the registry
file describes:

    python -m devnet.gaps venue binance ETH/USDC 150        # binance's ETH 1.5 % dearer
    python -m devnet.gaps venue binance ETH/USDC 0          # close it
    python -m devnet.gaps venue binance ETH/USDC 150 --close-after-ms 3000  # closes itself after 3 s
    python -m devnet.gaps pool devnet-a "WETH/USDC 0.3%" -- -150   # the pool's WETH 1.5 % cheaper

A venue gap shifts that venue's market maker (``/__admin/gap``: the answer comes once the
book holds the shifted quotes); a pool gap is one swap sized to move the pool's mid price.
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal
from typing import Any

from connectors.dex import build_dexes
from connectors.dex.factories import known_pool
from connectors.evm.client import EvmClient
from crosslane.config import settings
from crosslane.domain.chains import ChainRegistry
from crosslane.registry import Registry, configured_registry
from devnet.cex.admin_client import inject_gap
from devnet.pool_moves import PoolMove, move_pool


async def venue_gap(
    registry: Registry, venue: str, symbol: str, bps: Decimal, close_after_ms: int | None = None
) -> dict[str, Any]:
    """Shift ``venue``'s ``symbol`` quotes by ``bps`` (closing by itself after ``close_after_ms``); its new top."""
    entry = registry.venues.get(venue)
    if entry is None or entry.rest_url is None:
        raise ValueError(f"no simulated venue {venue!r} in the registry (known: {', '.join(registry.venues)})")
    return await inject_gap(entry.rest_url, symbol, str(bps), close_after_ms=close_after_ms)


async def pool_gap(registry: Registry, chain: str, label: str, bps: Decimal, asset: str = "WETH") -> PoolMove:
    """Move the pool labelled ``label`` on ``chain`` so that ``asset`` is ``bps`` dearer (negative: cheaper)."""
    config = ChainRegistry.from_registry(registry).get(chain)
    client = EvmClient(config)
    try:
        dexes = build_dexes(client)
        for name, deployment in config.dexes.items():
            for info in deployment.pools:
                if info.label != label:
                    continue
                pool = known_pool(dexes[name], info)
                if pool is not None:
                    return await move_pool(client, dexes[name], pool, config.tokens[asset].address, bps)
        raise ValueError(f"no pool labelled {label!r} on {chain}")
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Open (or close) an arbitrage gap on the devnet.")
    sub = parser.add_subparsers(dest="where", required=True)
    venue = sub.add_parser("venue", help="shift a simulated venue's market")
    venue.add_argument("venue")
    venue.add_argument("symbol")
    venue.add_argument("bps", type=Decimal)
    venue.add_argument("--close-after-ms", type=int, default=None, help="the gap closes itself this long after")
    pool = sub.add_parser("pool", help="move a devnet pool's price with one swap")
    pool.add_argument("chain")
    pool.add_argument("label", help='the pool\'s label, e.g. "WETH/USDC 0.3%%"')
    pool.add_argument("bps", type=Decimal)
    pool.add_argument("--asset", default="WETH")
    args = parser.parse_args()
    registry = configured_registry(settings())
    if args.where == "venue":
        print(asyncio.run(venue_gap(registry, args.venue, args.symbol, args.bps, args.close_after_ms)))
    else:
        move = asyncio.run(pool_gap(registry, args.chain, args.label, args.bps, args.asset))
        print(f"moved {move.pool} by {move.moved_bps:.1f} bps (tx {move.tx_hash})")


if __name__ == "__main__":
    main()
