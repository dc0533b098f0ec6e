"""The scan: every ordered pair of a market's sources evaluated on the books and pool curves
as they stand, each result published, and a taken one started (auto-execution on) unless
its pair is cooling down from an earlier start."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from crosslane.arbitrage import ArbLeg, ArbMarket, ArbMode, ArbPolicy, Inventory, LegOutcome, Opportunity, evaluate
from crosslane.arbitrage_runs import RunStarter, RunTerms, arbitrage_input
from crosslane.arbitrage_stream import ScannedOpportunity
from crosslane.pacing import every
from crosslane.routing.side import Side
from workers.scanner import metrics
from workers.scanner.books import BookFeed
from workers.scanner.cooldown import Cooldown
from workers.scanner.legs import MemoCurve, book_leg, pool_leg_of
from workers.scanner.markets import PoolSource, ScanMarket, Source, kind_of
from workers.scanner.pools import ChainFeed
from workers.scanner.stream import OpportunityStream
from workers.scanner.transfers import TransferMode, is_transfer_pair

log = logging.getLogger(__name__)


def pair_key(buy: ArbLeg, sell: ArbLeg) -> str:
    return f"buy {buy.venue} {buy.market} / sell {sell.venue} {sell.market}"


def now_ms() -> int:
    return int(time.time() * 1000)


def depth_key(leg: LegOutcome) -> str:
    """The book depth a run's leg takes: a CEX leg is routed over the fast path's consolidated
    book of its market (whichever venue the scanner saw it on), a pool leg takes its pool."""
    where = "cex" if leg.chain is None else f"{leg.chain}:{leg.venue}"
    return f"{leg.side} {where} {leg.market}"


@dataclass
class AutoExecute:
    """Start a run for each taken opportunity, at most once per pair per ``cooldown``, and
    none that would take the book depth a run still in flight is taking (two pairs opened by
    one gap sell into the same bids: the second, sized on the same levels, would find them
    gone). A run holds its depth until ``running`` says it ended, or ``hold_ms`` after its
    start when there is no way to ask."""

    starter: RunStarter
    cooldown: Cooldown
    terms: RunTerms = field(default_factory=RunTerms)
    timeout_s: float = 10.0
    started: list[tuple[str, str]] = field(default_factory=list)  # (pair, run id), in order
    running: Callable[[str], Awaitable[bool]] | None = None
    hold_ms: int = 60_000
    clock: Callable[[], int] = now_ms
    holding: dict[str, tuple[str, int]] = field(default_factory=dict)  # depth key -> (run id, started ms)

    async def _held(self, keys: list[str]) -> str | None:
        """The run in flight on any of ``keys`` (its depth released once it has ended)."""
        for key in keys:
            held = self.holding.get(key)
            if held is None:
                continue
            run_id, since = held
            if self.running is not None:
                try:
                    still = await self.running(run_id)
                except Exception as exc:  # noqa: BLE001 - not known to have ended: still holding
                    log.warning("could not tell whether %s still runs: %s", run_id, exc)
                    still = True
            else:
                still = self.clock() - since < self.hold_ms
            if still:
                return run_id
            del self.holding[key]
        return None

    async def maybe_start(self, scanned: ScannedOpportunity) -> str | None:
        if not scanned.taken:
            return None
        legs = [leg for leg in (scanned.opportunity.buy, scanned.opportunity.sell) if leg is not None]
        keys = [depth_key(leg) for leg in legs]
        holder = await self._held(keys)
        if holder is not None:
            log.debug("not starting %s: %s is taking the same book depth", scanned.pair, holder)
            return None
        if not self.cooldown.claim(scanned.pair, scanned.opportunity.evaluated_at_ms):
            return None
        try:
            run_id = await asyncio.wait_for(self.starter.start(arbitrage_input(scanned, self.terms)), self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - the scan goes on; the next evaluation may retry
            self.cooldown.release(scanned.pair)
            log.warning("could not start a run for %s: %s", scanned.pair, exc)
            return None
        self.started.append((scanned.pair, run_id))
        for key in keys:
            self.holding[key] = (run_id, self.clock())
        log.info("started %s for %s", run_id, scanned.pair)
        return run_id


class Scanner:
    def __init__(
        self,
        markets: list[ScanMarket],
        books: BookFeed,
        chains: dict[str, ChainFeed],
        stream: OpportunityStream,
        policy: Callable[[int], ArbPolicy],
        *,
        auto: AutoExecute | None = None,
        clock: Callable[[], int] = now_ms,
        inventory: Callable[[ArbMarket, Source, Source], Inventory] | None = None,
        transfers: TransferMode | None = None,
    ) -> None:
        self.markets = markets
        self.books = books
        self.chains = chains
        self.stream = stream
        self.policy = policy  # by the market's quote decimals (its amounts are base units)
        self.auto = auto
        self.clock = clock
        self.inventory = inventory  # what each pair may spend (CEX balances); None: not limited here
        self.transfers = transfers  # prices pool pairs across chains in transfer mode too; None: not
        self.seq = 0
        self.pass_ms: list[float] = []  # how long each evaluation pass took (the scanner's own pace)
        self._curves: dict[tuple[object, ...], tuple[object, MemoCurve]] = {}

    def _memo(self, leg: ArbLeg, key: tuple[object, ...], inputs: object) -> ArbLeg:
        """``leg`` with its curve remembered while ``inputs`` (what the curve was built from) stay the same."""
        if leg.curve is None:
            return leg
        held = self._curves.get(key)
        if held is None or held[0] != inputs:
            held = self._curves[key] = (inputs, MemoCurve(leg.curve))
        return replace(leg, curve=held[1])

    def leg(self, market: ScanMarket, source: Source, side: Side) -> ArbLeg:
        if isinstance(source, PoolSource):
            feed = self.chains[source.chain]
            view = feed.views.get(source.pool.address)
            leg = pool_leg_of(
                source,
                side,
                view,
                head_block=feed.head_block,
                gas=feed.gas.get(source.quote_token),
                chain_error=feed.error,
            )
            return self._memo(leg, (source.chain, source.pool.address, side), (id(view), view and view.block_number))
        book = self.books.book(source.venue, source.symbol)
        rules = self.books.market(source.venue, source.symbol) if book is not None else None
        leg = book_leg(source, side, book, rules, market.market, stale_feed=self.books.health(source.venue).book_stale)
        walked = None if book is None else (book.asks if side is Side.BUY else book.bids)
        levels = () if walked is None else tuple(walked.top(len(walked)))
        return self._memo(leg, (source.venue, source.symbol, side), levels)

    def snapshot(self) -> list[tuple[ScanMarket, dict[Source, ArbLeg], dict[Source, ArbLeg]]]:
        """Every source's buy and sell leg as it stands (taken on the event loop, where the
        feeds write, so a pass never sees a book half replaced)."""
        return [
            (
                market,
                {s: self.leg(market, s, Side.BUY) for s in market.sources},
                {s: self.leg(market, s, Side.SELL) for s in market.sources},
            )
            for market in self.markets
        ]

    def evaluate_all(
        self, legs: list[tuple[ScanMarket, dict[Source, ArbLeg], dict[Source, ArbLeg]]] | None = None
    ) -> list[ScannedOpportunity]:
        """One pass: every ordered pair of every market, as its inputs stand now; a pair of
        pools on two chains also in transfer mode (when the scanner prices transfers)."""
        out = []
        now = self.clock()
        for market, buys, sells in self.snapshot() if legs is None else legs:
            policy = self.policy(market.market.quote_decimals)
            if self.transfers is not None:
                self.transfers.volatility.observe(market, buys, sells, now)
            for buy_src, buy in buys.items():
                for sell_src, sell in sells.items():
                    if buy_src == sell_src:
                        continue
                    kind = kind_of(buy_src, sell_src)
                    held = Inventory() if self.inventory is None else self.inventory(market.market, buy_src, sell_src)
                    found: list[tuple[str, Opportunity, Decimal | None]] = [
                        (
                            pair_key(buy, sell),
                            evaluate(kind, market.market, buy, sell, now_ms=now, policy=policy, inventory=held),
                            None,
                        )
                    ]
                    if self.transfers is not None and is_transfer_pair(buy_src, sell_src):
                        assert isinstance(buy_src, PoolSource) and isinstance(sell_src, PoolSource)
                        transfer, risk = self.transfers.price(market, buy_src, sell_src)
                        priced = replace(policy, risk=risk)
                        opp = evaluate(kind, market.market, buy, sell, now_ms=now, policy=priced, transfer=transfer)
                        found.append((f"{pair_key(buy, sell)} via bridge", opp, risk.sigma_per_sqrt_s))
                    for pair, opportunity, sigma in found:
                        self.seq += 1
                        out.append(
                            ScannedOpportunity(
                                seq=self.seq, pair=pair, market=market.name, opportunity=opportunity, volatility=sigma
                            )
                        )
        return out

    async def scan_once(self) -> list[ScannedOpportunity]:
        """Evaluate, start what is due, publish everything."""
        published = []
        started = time.perf_counter()
        legs = self.snapshot()
        evaluated = await asyncio.to_thread(self.evaluate_all, legs)  # the feeds keep running meanwhile
        self.pass_ms = [*self.pass_ms[-99:], (time.perf_counter() - started) * 1000]
        metrics.SEEN.inc(len(evaluated))
        for scanned in evaluated:
            if scanned.taken:
                metrics.TAKEN.inc()
            if self.auto is not None and scanned.taken and scanned.opportunity.mode is ArbMode.INVENTORY:
                run_id = await self.auto.maybe_start(scanned)
                if run_id is not None:
                    metrics.STARTED.inc()
                    scanned = scanned.model_copy(update={"run_id": run_id})
            self.stream.publish(scanned)
            published.append(scanned)
        return published

    async def run(self, interval_s: float) -> None:
        await every(interval_s, self.scan_once, lambda exc: log.error("scan failed: %r", exc, exc_info=exc))
