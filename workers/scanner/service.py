"""``crosslane arb scan``: the scanner as a long-running process, built from the registry
file. Books follow every venue that lists a scanned market, pools are re-read per new block
on every chain that trades one, and every evaluation goes out on the loopback stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from connectors.cex.config import VenueConfig
from crosslane.arbitrage import ArbMarket, ArbPolicy, Inventory
from crosslane.arbitrage_runs import RunStarter, RunTerms
from crosslane.arbitrage_stream import DEFAULT_STREAM, split_address
from crosslane.config import settings
from crosslane.domain.chains import ChainRegistry
from crosslane.domain.tx import FeePolicy
from crosslane.money import to_base_units
from crosslane.registry import Registry
from crosslane.telemetry.prometheus import serve_metrics
from workers.scanner.books import BookFeed
from workers.scanner.cooldown import Cooldown
from workers.scanner.inventory import CexBalances, inventory_for
from workers.scanner.markets import ScanMarket, Source, default_markets, scan_market
from workers.scanner.pools import ChainFeed
from workers.scanner.scanner import AutoExecute, Scanner
from workers.scanner.stream import OpportunityStream
from workers.scanner.transfers import BridgeQuotes, TransferMode, Volatilities

log = logging.getLogger(__name__)


@dataclass
class ScannerConfig:
    """Amounts in whole units of the market's quote (profit, exposure) or asset (size)."""

    markets: list[str] = field(default_factory=list)  # ASSET/QUOTE, canonical; empty: every joined market
    stream: str = DEFAULT_STREAM
    interval_s: float = 1.0  # between evaluation passes
    block_poll_s: float = 0.5  # between head polls (pools are read only on a new block)
    max_size: Decimal = Decimal(50)  # largest size a pool curve is built for
    min_profit: Decimal = Decimal(0)
    max_exposure: Decimal | None = None
    max_book_age_ms: int = 2_000
    max_pool_age_blocks: int = 2
    auto_execute: bool = False
    cooldown_s: float = 30.0
    signer: str | None = None  # holds the DEX legs' inventory of auto-executed runs
    fees: FeePolicy | None = None  # their fee cap
    max_loss: Decimal = Decimal(0)  # what an auto-executed run's unwind may lose (quote units)
    cex_inventory: bool | None = None  # size CEX legs by the account's balances; None: when auto-executing
    inventory_poll_s: float = 2.0  # between reads of the CEX balances (through the fast path)
    fastpath_socket: Path | None = None  # None: the fast path's default socket
    transfer_mode: bool = True  # pool pairs across chains also priced as buy -> bridge -> sell
    bridge_poll_s: float = 30.0  # between bridge quotes (per pair of chains)
    risk_aversion: Decimal = Decimal(1)  # weight of the price risk while the asset is in flight
    vol_half_life_s: float = 60.0  # of the volatility estimate (EWMA of mid-price log returns)
    vol_min_returns: int = 10  # returns seen before the measured figure replaces the prior
    vol_prior: Decimal = Decimal("0.0001")  # per sqrt second, until measured (1 bp per sqrt s)

    @property
    def sizes_by_cex_inventory(self) -> bool:
        return self.auto_execute if self.cex_inventory is None else self.cex_inventory

    def run_terms(self) -> RunTerms:
        return RunTerms(
            min_profit=self.min_profit,
            max_loss=self.max_loss,
            signer=self.signer,
            fees=self.fees,
            risk_aversion=self.risk_aversion,
        )

    def policy(self, quote_decimals: int) -> ArbPolicy:
        return ArbPolicy(
            min_profit=to_base_units(self.min_profit, quote_decimals),
            max_exposure=None if self.max_exposure is None else to_base_units(self.max_exposure, quote_decimals),
            max_book_age_ms=self.max_book_age_ms,
            max_pool_age_blocks=self.max_pool_age_blocks,
        )


class ScannerService:
    def __init__(self, registry: Registry, config: ScannerConfig, starter: RunStarter | None = None) -> None:
        if config.auto_execute and starter is None:
            raise ValueError("auto-execution needs a run starter")
        self.registry = registry
        self.config = config
        self.starter = starter
        self.books = BookFeed([VenueConfig.from_registry(n, v) for n, v in registry.venues.items()])
        _, port = split_address(config.stream)
        self.stream = OpportunityStream(port)
        self.chains: dict[str, ChainFeed] = {}
        self.markets: list[ScanMarket] = []
        self.scanner: Scanner | None = None
        self.balances: CexBalances | None = None
        self.bridges: BridgeQuotes | None = None
        self._stopped = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Scanner:
        listed = await self.books.load()
        if self.config.markets:
            markets = [scan_market(self.registry, name, listed) for name in self.config.markets]
        else:
            markets = default_markets(self.registry, listed)
        if not markets:
            raise ValueError("no market to scan: the registry's asset map joins no venue or pool pair")
        self.markets = markets
        chain_registry = ChainRegistry.from_registry(self.registry)
        chain_configs = chain_registry.chains
        per_chain: dict[str, list] = {}  # type: ignore[type-arg]
        for market in markets:
            for venue in market.venues:
                self.books.follow(venue.venue, venue.symbol)
            max_size = to_base_units(self.config.max_size, market.market.asset_decimals)
            for pool in market.pools:
                per_chain.setdefault(pool.chain, []).append((pool, max_size))
        owner = self.config.signer  # its token balances size the pool legs (read with each block)
        self.chains = {name: ChainFeed(chain_configs[name], srcs, owner) for name, srcs in per_chain.items()}
        await self.stream.start()
        auto = None
        if self.config.auto_execute and self.starter is not None:
            auto = AutoExecute(
                self.starter,
                Cooldown(int(self.config.cooldown_s * 1000)),
                self.config.run_terms(),
                running=getattr(self.starter, "running", None),  # a starter that can tell when a run ended
            )
        if self.config.sizes_by_cex_inventory and any(m.venues for m in markets):
            self.balances = CexBalances(markets, self.config.fastpath_socket)
            self._tasks.append(asyncio.create_task(self.balances.run(self.config.inventory_poll_s), name="balances"))
        inventory = self._inventory if self.balances is not None or owner is not None else None
        transfers = None
        if self.config.transfer_mode and any(len({p.chain for p in m.pools}) > 1 for m in markets):
            fees = self.config.fees or FeePolicy(max_fee_per_gas_cap=100 * 10**9)
            self.bridges = BridgeQuotes(chain_registry, markets, fees)
            self._tasks.append(asyncio.create_task(self.bridges.run(self.config.bridge_poll_s), name="bridges"))
            volatility = Volatilities(self.config.vol_half_life_s, self.config.vol_min_returns, self.config.vol_prior)
            transfers = TransferMode(self.bridges.cost, volatility, self.config.risk_aversion)
        self.scanner = Scanner(
            markets,
            self.books,
            self.chains,
            self.stream,
            self.config.policy,
            auto=auto,
            inventory=inventory,
            transfers=transfers,
        )
        for feed in self.chains.values():
            self._tasks.append(asyncio.create_task(feed.run(self.config.block_poll_s), name=f"pools-{feed.chain.name}"))
        self._tasks.append(asyncio.create_task(self.scanner.run(self.config.interval_s), name="scan"))
        log.info(
            "scanning %s on %s: %d pair(s) per pass; auto-execution %s; sized by balances: %s",
            ", ".join(m.name for m in markets),
            self.stream.address,
            sum(len(m.sources) * (len(m.sources) - 1) for m in markets),
            "on" if auto else "off",
            ", ".join(k for k, on in (("CEX", self.balances), ("chains", owner)) if on) or "off",
        )
        return self.scanner

    def _inventory(self, market: ArbMarket, buy: Source, sell: Source) -> Inventory:
        cex = None if self.balances is None else self.balances.free
        chains = None if self.config.signer is None else {name: feed.held for name, feed in self.chains.items()}
        return inventory_for(market, buy, sell, cex, chains)

    async def stop(self) -> None:
        """Once (a second call does nothing)."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.stream.close()
        await self.books.close()
        await asyncio.gather(*(c.close() for c in self.chains.values()), return_exceptions=True)
        if self.bridges is not None:
            await self.bridges.close()


async def serve(registry: Registry, config: ScannerConfig, starter: RunStarter | None = None) -> None:
    """Until SIGINT/SIGTERM."""
    service = ScannerService(registry, config, starter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    log.info("scanner metrics %s", serve_metrics(settings()) or "off")
    try:
        await stop.wait()
    finally:
        await service.stop()
