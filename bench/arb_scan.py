"""The arbitrage scanner's evaluation pass: every ordered pair of WETH/USDC's sources (two
venue books, the V2 and two V3 pools on both devnet chains: 8 sources, 56 pairs).

    .venv/bin/python -m bench.arb_scan [--passes 30] [--seed 7]

Each pass one venue's book moves (a level re-priced, as a market maker's requote does);
the pools stay at one block (as between blocks). Paths, same inputs in the same run:

- baseline: ``evaluate`` on freshly built legs, every pair, every pass (no memory);
- scanner: ``Scanner.evaluate_all``: curves remembered per block and per book content, so
  a pair whose inputs did not change probes sizes already answered.

Both produce the same opportunities (size and net profit) in every pass; the ratio is
baseline p50 / scanner p50.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from bench.stats import percentile
from connectors.cex.health import HealthRecord
from crosslane.arbitrage import ArbPolicy, evaluate
from crosslane.domain.chains import ChainRegistry
from crosslane.registry import load_registry
from crosslane.routing import SymbolScale, VenueBook, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.side import Side
from devnet.anvil import find_free_port
from devnet.manager import devnet_down, devnet_up
from devnet.registry_export import registry_path
from workers.scanner.legs import book_leg, pool_leg_of
from workers.scanner.markets import PoolSource, VenueSource, kind_of, scan_market
from workers.scanner.pools import ChainFeed
from workers.scanner.scanner import Scanner
from workers.scanner.stream import OpportunityStream

VENUES = ("binance", "okx")
RULES = VenuePrecision(Decimal("0.01"), Decimal("0.0001"), Decimal("0.0001"), Decimal(5))


class SyntheticBooks:
    """Two venues' ETH/USDC books around the pools' price, one level re-priced per move."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.books = {v: VenueBook(v, SymbolScale("ETH/USDC", 2, 4)) for v in VENUES}
        self.markets = {v: VenueMarket(v, VenueCosts(taker_bps=Decimal(10)), RULES) for v in VENUES}
        self.healths = {v: HealthRecord(v) for v in VENUES}
        self.ts = int(time.time() * 1000)
        for i, venue in enumerate(VENUES):
            self._quote(venue, Decimal(2960 + 60 * i))

    def _quote(self, venue: str, mid: Decimal) -> None:
        bids = [(f"{mid - 1 - 2 * k:.2f}", f"{2 + k}") for k in range(10)]
        asks = [(f"{mid + 1 + 2 * k:.2f}", f"{2 + k}") for k in range(10)]
        self.ts += 1
        self.books[venue].replace_text(bids, asks, update_id=self.ts, ts_ms=self.ts)

    def move(self) -> None:
        venue = self.rng.choice(VENUES)
        self._quote(venue, Decimal(2900 + self.rng.randint(0, 200)))

    def book(self, venue: str, symbol: str) -> VenueBook:
        return self.books[venue]

    def market(self, venue: str, symbol: str) -> VenueMarket:
        return self.markets[venue]

    def health(self, venue: str) -> HealthRecord:
        return self.healths[venue]


async def run(passes: int, seed: int) -> None:
    path = Path(tempfile.mkdtemp()) / "devnet.json"
    try:
        await devnet_up(path, {c: find_free_port() for c in ("devnet-a", "devnet-b")}, detached=False)
        registry = load_registry(registry_path(path))
        market = scan_market(registry, "WETH/USDC")
        market = replace(market, venues=tuple(VenueSource(v, "ETH/USDC") for v in VENUES))
        chains = ChainRegistry.from_registry(registry).chains
        feeds = {}
        for name in ("devnet-a", "devnet-b"):
            feeds[name] = ChainFeed(chains[name], [(p, 50 * 10**18) for p in market.pools if p.chain == name])
            await feeds[name].refresh()
        books = SyntheticBooks(seed)
        policy = ArbPolicy(max_book_age_ms=10**9)
        scanner = Scanner([market], books, feeds, OpportunityStream(), policy, clock=lambda: books.ts)  # type: ignore[arg-type]

        def baseline() -> list[tuple[int, int]]:
            out = []
            for buy_src in market.sources:
                for sell_src in market.sources:
                    if buy_src == sell_src:
                        continue
                    legs = []
                    for src, side in ((buy_src, Side.BUY), (sell_src, Side.SELL)):
                        if isinstance(src, PoolSource):
                            feed = feeds[src.chain]
                            view = feed.views[src.pool.address]
                            legs.append(
                                pool_leg_of(src, side, view, head_block=feed.head_block, gas=feed.gas[src.quote_token])
                            )
                        else:
                            legs.append(
                                book_leg(
                                    src, side, books.book(src.venue, ""), books.market(src.venue, ""), market.market
                                )
                            )
                    opp = evaluate(
                        kind_of(buy_src, sell_src), market.market, legs[0], legs[1], now_ms=books.ts, policy=policy
                    )
                    out.append((opp.size, opp.net_profit))
            return out

        scanner.evaluate_all()  # the first pass of a block pays for every curve: not the steady state
        base_ms, scan_ms = [], []
        for _ in range(passes):
            books.move()
            t = time.perf_counter()
            expected = baseline()
            base_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            got = [(s.opportunity.size, s.opportunity.net_profit) for s in scanner.evaluate_all()]
            scan_ms.append((time.perf_counter() - t) * 1000)
            assert got == expected, "the scanner and the baseline disagree"
        pairs = len(market.sources) * (len(market.sources) - 1)
        for name, samples in (("baseline: evaluate, no memory", base_ms), ("scanner: remembered curves", scan_ms)):
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            print(f"{name:<32} {pairs} pairs/pass  p50 {p50:8.1f} ms  p99 {p99:8.1f} ms")
        print(f"ratio (baseline p50 / scanner p50): {percentile(base_ms, 50) / percentile(scan_ms, 50):.1f}x")
        for feed in feeds.values():
            await feed.close()
    finally:
        devnet_down(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(run(args.passes, args.seed))


if __name__ == "__main__":
    main()
