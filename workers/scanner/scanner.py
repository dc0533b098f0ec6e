"""The scan: every ordered pair of a market's sources evaluated on the books and pool curves
as they stand, each result published, and a taken one started (auto-execution on) unless
its pair is cooling down from an earlier start."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from crosslane.arbitrage import ArbLeg, ArbPolicy, evaluate
from crosslane.arbitrage_runs import RunStarter, arbitrage_input
from crosslane.arbitrage_stream import ScannedOpportunity
from crosslane.routing.side import Side
from workers.scanner.books import BookFeed
from workers.scanner.cooldown import Cooldown
from workers.scanner.legs import book_leg, pool_leg_of
from workers.scanner.markets import PoolSource, ScanMarket, Source, kind_of
from workers.scanner.pools import ChainFeed
from workers.scanner.stream import OpportunityStream

log = logging.getLogger(__name__)


def pair_key(buy: ArbLeg, sell: ArbLeg) -> str:
    return f"buy {buy.venue} {buy.market} / sell {sell.venue} {sell.market}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class AutoExecute:
    """Start a run for each taken opportunity, at most once per pair per ``cooldown``."""

    starter: RunStarter
    cooldown: Cooldown
    timeout_s: float = 10.0
    started: list[str] = field(default_factory=list)

    async def maybe_start(self, scanned: ScannedOpportunity) -> str | None:
        if not scanned.taken or not self.cooldown.claim(scanned.pair, scanned.opportunity.evaluated_at_ms):
            return None
        try:
            run_id = await asyncio.wait_for(self.starter.start(arbitrage_input(scanned)), self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - the scan goes on; the next evaluation may retry
            self.cooldown.release(scanned.pair)
            log.warning("could not start a run for %s: %s", scanned.pair, exc)
            return None
        self.started.append(run_id)
        log.info("started %s for %s", run_id, scanned.pair)
        return run_id


class Scanner:
    def __init__(
        self,
        markets: list[ScanMarket],
        books: BookFeed,
        chains: dict[str, ChainFeed],
        stream: OpportunityStream,
        policy: ArbPolicy,
        *,
        auto: AutoExecute | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.markets = markets
        self.books = books
        self.chains = chains
        self.stream = stream
        self.policy = policy
        self.auto = auto
        self.clock = clock
        self.seq = 0

    def leg(self, market: ScanMarket, source: Source, side: Side) -> ArbLeg:
        if isinstance(source, PoolSource):
            feed = self.chains[source.chain]
            return pool_leg_of(
                source,
                side,
                feed.views.get(source.pool.address),
                head_block=feed.head_block,
                gas=feed.gas.get(source.quote_token),
                chain_error=feed.error,
            )
        book = self.books.book(source.venue, source.symbol)
        rules = self.books.market(source.venue, source.symbol) if book is not None else None
        return book_leg(source, side, book, rules, market.market, stale_feed=self.books.health(source.venue).book_stale)

    def evaluate_all(self) -> list[ScannedOpportunity]:
        """One pass: every ordered pair of every market, as its inputs stand now."""
        out = []
        now = self.clock()
        for market in self.markets:
            buys = {s: self.leg(market, s, Side.BUY) for s in market.sources}
            sells = {s: self.leg(market, s, Side.SELL) for s in market.sources}
            for buy_src, buy in buys.items():
                for sell_src, sell in sells.items():
                    if buy_src == sell_src:
                        continue
                    opportunity = evaluate(
                        kind_of(buy_src, sell_src), market.market, buy, sell, now_ms=now, policy=self.policy
                    )
                    self.seq += 1
                    out.append(
                        ScannedOpportunity(
                            seq=self.seq, pair=pair_key(buy, sell), market=market.name, opportunity=opportunity
                        )
                    )
        return out

    async def scan_once(self) -> list[ScannedOpportunity]:
        """Evaluate, start what is due, publish everything."""
        published = []
        for scanned in self.evaluate_all():
            if self.auto is not None and scanned.taken:
                run_id = await self.auto.maybe_start(scanned)
                if run_id is not None:
                    scanned = scanned.model_copy(update={"run_id": run_id})
            self.stream.publish(scanned)
            published.append(scanned)
        return published

    async def run(self, interval_s: float) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.scan_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bad pass must not stop the scanner
                log.exception("scan failed")
            await asyncio.sleep(max(0.01, interval_s - (time.monotonic() - started)))
