"""What the scanner watches: for each canonical market (asset/quote), the venues that list it
(through the registry's asset map) and the pools that trade its two tokens on each chain.
Every pair of these sources is a candidate: CEX↔CEX, CEX↔DEX, DEX↔DEX (across chains too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address

from crosslane.arbitrage import ArbKind, ArbMarket
from crosslane.domain.chains import DexPoolInfo
from crosslane.registry import Registry


@dataclass(frozen=True)
class VenueSource:
    venue: str
    symbol: str  # as the venue lists it


@dataclass(frozen=True)
class PoolSource:
    chain: str
    dex: str
    pool: DexPoolInfo
    asset_token: str
    quote_token: str

    @property
    def venue(self) -> str:
        return f"{self.chain}:{self.dex}"

    @property
    def label(self) -> str:
        return self.pool.label or self.pool.address


Source = VenueSource | PoolSource


@dataclass(frozen=True)
class ScanMarket:
    market: ArbMarket
    venues: tuple[VenueSource, ...] = ()
    pools: tuple[PoolSource, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.market.asset}/{self.market.quote}"

    @property
    def sources(self) -> tuple[Source, ...]:
        return (*self.venues, *self.pools)


def kind_of(buy: Source, sell: Source) -> ArbKind:
    on_chain = (isinstance(buy, PoolSource), isinstance(sell, PoolSource))
    if on_chain == (False, False):
        return ArbKind.CEX_CEX
    if on_chain == (True, True):
        return ArbKind.DEX_DEX
    return ArbKind.CEX_DEX


def _decimals(registry: Registry, asset: str) -> int | None:
    entry = registry.assets.get(asset)
    if entry is None:
        return None
    if entry.decimals is not None:
        return entry.decimals
    return next((t.decimals for t in entry.chains.values()), None)


def pool_markets(registry: Registry) -> list[tuple[str, str]]:
    """Each pair of canonical assets some chain's pools trade (as token0, token1)."""
    found: dict[tuple[str, str], None] = {}
    for chain_name, chain in registry.chains.items():
        if chain.family != "evm":
            continue
        for deployment in chain.dexes.values():
            for pool in deployment.pools:
                a = registry.canonical_asset(chain=chain_name, address=pool.token0)
                b = registry.canonical_asset(chain=chain_name, address=pool.token1)
                if a is not None and b is not None and (b, a) not in found:
                    found.setdefault((a, b))
    return list(found)


def default_markets(registry: Registry, venue_symbols: dict[str, set[str]]) -> list[ScanMarket]:
    """Every market the pools trade, oriented as a venue lists it (``venue_symbols``: each
    venue's loaded markets), kept when it has at least two sources to pair."""
    markets = []
    for a, b in pool_markets(registry):
        candidates = [scan_market(registry, f"{x}/{y}", venue_symbols) for x, y in ((a, b), (b, a))]
        best = max(candidates, key=lambda m: len(m.venues))
        if len(best.sources) >= 2:
            markets.append(best)
    return markets


def scan_market(registry: Registry, name: str, venue_symbols: dict[str, set[str]] | None = None) -> ScanMarket:
    """The sources of ``name`` (``ASSET/QUOTE``, canonical): each venue whose code map lists it
    (and, when ``venue_symbols`` is given, whose markets include that symbol) and each pool
    of the two tokens on every EVM chain."""
    asset, _, quote = name.partition("/")
    asset_decimals, quote_decimals = _decimals(registry, asset), _decimals(registry, quote)
    if asset_decimals is None or quote_decimals is None:
        raise ValueError(
            f"{name}: the registry's asset map has no decimals for {asset if asset_decimals is None else quote}"
        )
    venues = []
    for venue in registry.venues:
        symbol = registry.venue_symbol(asset, quote, venue)
        if symbol is not None and (venue_symbols is None or symbol in venue_symbols.get(venue, set())):
            venues.append(VenueSource(venue, symbol))
    pools = []
    for chain_name, chain in registry.chains.items():
        if chain.family != "evm":
            continue
        tokens = registry.tokens_on(chain_name)
        if asset not in tokens or quote not in tokens:
            continue
        a, q = to_checksum_address(tokens[asset].address), to_checksum_address(tokens[quote].address)
        for dex, deployment in chain.dexes.items():
            for pool in deployment.pools:
                if {to_checksum_address(pool.token0), to_checksum_address(pool.token1)} == {a, q}:
                    pools.append(PoolSource(chain_name, dex, pool, a, q))
    return ScanMarket(ArbMarket(asset, quote, asset_decimals, quote_decimals), tuple(venues), tuple(pools))
