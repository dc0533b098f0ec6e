"""Transfer mode in the scanner: buy on one chain's pool, bridge the asset, sell on another
chain's pool. What it costs beyond the legs: the bridge the selector would take (quoted
per pair of chains at a steady pace, :class:`BridgeQuotes`) and the price risk while the
asset is in flight, at the volatility measured from the mid prices the scanner sees
(:class:`Volatilities`, one EWMA estimator per source of each market)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from connectors.bridges.planning import quote_transfer_cost
from connectors.bridges.registry import bridge_adapters
from connectors.evm.client import EvmClient
from crosslane.arbitrage import ArbLeg, ArbMarket, PriceRisk, TransferCost
from crosslane.arbitrage.volatility import EwmaVolatility
from crosslane.domain.bridge import BridgeRequest
from crosslane.domain.chains import ChainRegistry
from crosslane.domain.tx import FeePolicy
from crosslane.pacing import every
from workers.scanner.markets import PoolSource, ScanMarket, Source

log = logging.getLogger(__name__)

QUOTER = "0x000000000000000000000000000000000000dEaD"  # a bridge quote signs nothing: any address


def mid(buy: ArbLeg, sell: ArbLeg) -> Fraction | None:
    """A source's mid price: halfway between its best ask (buy curve) and best bid (sell curve)."""
    if buy.curve is None or sell.curve is None:
        return None
    return (buy.curve.best_price + sell.curve.best_price) / 2


@dataclass
class Volatilities:
    """Each source's recent volatility (per market), from its mid price at every pass.

    A transfer pair is charged the larger of its two sources' figures (the asset is exposed
    to both prices: bought at one, sold at the other); ``prior`` until both have enough
    returns to measure."""

    half_life_s: float = 60.0
    min_returns: int = 10
    prior: Decimal = Decimal("0.0001")
    _series: dict[tuple[str, Source], EwmaVolatility] = field(default_factory=dict)

    def observe(self, market: ScanMarket, buys: dict[Source, ArbLeg], sells: dict[Source, ArbLeg], t_ms: int) -> None:
        for source, buy in buys.items():
            price = mid(buy, sells[source])
            if price is None:
                continue
            key = (market.name, source)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = EwmaVolatility(self.half_life_s, self.min_returns)
            series.observe(t_ms, float(price))

    def sigma(self, market: ScanMarket, *sources: Source) -> tuple[Decimal, str]:
        """The figure a pair of ``sources`` is charged and where it comes from, in words."""
        measured = [self._series.get((market.name, s)) or EwmaVolatility(min_returns=self.min_returns) for s in sources]
        figures = [m.sigma for m in measured]
        count = min(m.returns for m in measured)
        if any(f is None for f in figures):
            return self.prior, f"volatility {_bp(self.prior)} (prior: {count} of {self.min_returns} returns seen)"
        sigma = Decimal(f"{max(f for f in figures if f is not None):.6g}")
        return sigma, f"volatility {_bp(sigma)} measured (EWMA over {count}+ mid-price returns)"


def _bp(sigma: Decimal) -> str:
    return f"{(sigma * 10_000).normalize():f} bp/sqrt s"


@dataclass
class TransferMode:
    """What the scanner needs to price a transfer pair: the bridge's cost for it (or why
    none carries it), the volatility estimators and the risk aversion."""

    bridge: Callable[[ArbMarket, PoolSource, PoolSource], TransferCost]
    volatility: Volatilities = field(default_factory=Volatilities)
    risk_aversion: Decimal = Decimal(1)

    def price(self, market: ScanMarket, buy: PoolSource, sell: PoolSource) -> tuple[TransferCost, PriceRisk]:
        """The pair's transfer cost (its reason saying which volatility it was charged at) and risk."""
        cost = self.bridge(market.market, buy, sell)
        sigma, how = self.volatility.sigma(market, buy, sell)
        risk = PriceRisk(self.risk_aversion, sigma)
        reason = f"{cost.reason}; price risk at {how}, risk aversion {self.risk_aversion}"
        return TransferCost(cost.bridge, cost.txs, reason), risk


def is_transfer_pair(buy: Source, sell: Source) -> bool:
    return isinstance(buy, PoolSource) and isinstance(sell, PoolSource) and buy.chain != sell.chain


class BridgeQuotes:
    """The bridge the selector would take from each chain to each other for each market's
    asset, re-quoted every ``poll_s`` for ``reference`` (whole units of the asset; the fee
    scales with the size, the gas does not: ``BridgeCost.from_quote``)."""

    def __init__(
        self, chains: ChainRegistry, markets: list[ScanMarket], fees: FeePolicy, reference: Decimal = Decimal(1)
    ) -> None:
        self.chains = chains
        self.fees = fees
        self.reference = reference
        self._clients: dict[str, EvmClient] = {}
        self.adapters = bridge_adapters(chains.bridges, self._client)
        self.pairs = sorted(
            {
                (m.market.asset, m.market.asset_decimals, b.chain, s.chain)
                for m in markets
                for b in m.pools
                for s in m.pools
                if b.chain != s.chain
            }
        )
        self.costs: dict[tuple[str, str, str], TransferCost] = {}

    def _client(self, chain: str) -> EvmClient:
        if chain not in self._clients:
            self._clients[chain] = EvmClient(self.chains.get(chain))
        return self._clients[chain]

    def cost(self, market: ArbMarket, buy: PoolSource, sell: PoolSource) -> TransferCost:
        found = self.costs.get((market.asset, buy.chain, sell.chain))
        return found or TransferCost(None, reason=f"{buy.chain} -> {sell.chain} not quoted yet")

    async def refresh(self) -> None:
        for asset, decimals, source, destination in self.pairs:
            key = (asset, source, destination)
            if not self.adapters:
                self.costs[key] = TransferCost(None, reason="no bridge is configured (the registry has no bridges)")
                continue
            amount = int(self.reference.scaleb(decimals))
            try:
                request = BridgeRequest(
                    request_id=f"scan-{source}-{destination}",
                    source_chain=source,
                    destination_chain=destination,
                    asset=asset,
                    amount=amount,
                    signer=QUOTER,
                    fees=self.fees,
                )
                self.costs[key] = await quote_transfer_cost(self.chains, self._client, self.adapters, request)
            except Exception as exc:  # noqa: BLE001 - one pair failing must not stop the others
                self.costs[key] = TransferCost(None, reason=f"bridge quote failed: {type(exc).__name__}: {exc}")
                log.warning("%s %s -> %s: bridge quote failed: %s", asset, source, destination, exc)

    async def run(self, poll_s: float) -> None:
        await every(poll_s, self.refresh, lambda exc: log.warning("bridge quotes failed: %s", exc))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
