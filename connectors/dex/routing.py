"""Best route for a swap across a chain's deployments, fee tiers and two-hop paths via WETH.

    finder = RouteFinder(client)                      # every deployment in ChainConfig.dexes
    selection = await finder.best(usdc, wbtc, TradeType.EXACT_IN, 5_000 * 10**6)
    selection.best.amount_out, selection.best.route   # USDC -> WETH -> WBTC on uniswap_v3
    selection.quotes                                  # every candidate that could fill, best first

Candidates are the direct pools of every deployment (each V3 fee tier) and, when neither
token is WETH, two-hop routes ``token_in -> WETH -> token_out`` within one deployment (one
router call executes a route, so a route never mixes deployments). Every candidate pool,
plus the WETH pools that price gas, is read in one batched state read (V2 reserves ride in
the V3 reader's Multicall3 batches, all pinned to one block), then every route is quoted
off-chain with the protocols' exact integer math.

Ranking is gas-aware where gas can be priced: exact-in routes by output minus the gas
cost in the output token, exact-out routes by input plus the gas cost in the input token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from statistics import median_low

from eth_utils.address import to_checksum_address

from connectors.dex.base import Dex, DexProtocol, Pool, PoolQuote, PoolState, TradeType, require_positive
from connectors.dex.errors import InsufficientLiquidity, PoolNotFound
from connectors.dex.factories import build_dexes
from connectors.dex.gas import estimate_swap_gas
from connectors.dex.pricing import (
    convert,
    fee_retained,
    mid_price,
    path_mid_price,
    shortfall,
    to_bps,
)
from connectors.dex.reads import read_batch
from connectors.dex.uniswap_v2 import PairState
from connectors.dex.uniswap_v2.pair import reserves_read
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.evm.client import EvmClient
from connectors.evm.fees import suggest_fees
from crosslane.domain.evm import checksum_address
from crosslane.errors import InvalidRequest


@dataclass(frozen=True)
class Route:
    """Pools of one deployment in trade order; ``path`` has one more token than ``pools``."""

    dex: str
    protocol: DexProtocol
    pools: tuple[Pool, ...]
    path: tuple[str, ...]

    @property
    def token_in(self) -> str:
        return self.path[0]

    @property
    def token_out(self) -> str:
        return self.path[-1]

    @property
    def fees(self) -> tuple[int, ...]:
        return tuple(p.fee for p in self.pools)


@dataclass
class MarketSnapshot:
    """Pool states (by pool address) read at one block; pools that do not exist are absent.

    V3 snapshots may be widened in place while quoting (more bitmap words, same block)."""

    block_number: int
    states: dict[str, PoolState] = field(default_factory=dict)

    def state(self, pool: Pool) -> PoolState | None:
        return self.states.get(pool.address)


@dataclass(frozen=True)
class PricedRoute:
    """One route quoted for one size. Amounts in base units, ratios in bps (see pricing.py).

    ``mid_amount`` is what the trade would get (exact-in: output) or cost (exact-out: input)
    at the route's pre-trade mid price with no fee; ``price_impact_bps`` compares the
    execution price with that mid price, LP fees included; ``slippage_bps`` is the part
    caused by the size alone (vs an infinitesimal trade that pays the same fees).
    """

    route: Route
    trade_type: TradeType
    amount_in: int
    amount_out: int
    hops: tuple[PoolQuote, ...]
    block_number: int
    mid_amount: int
    price_impact_bps: Decimal
    slippage_bps: Decimal
    lp_fee_bps: Decimal
    gas_estimate: int
    gas_price_wei: int
    gas_cost_wei: int
    gas_cost_in_output: int | None
    gas_cost_in_input: int | None

    @property
    def ranking_amount(self) -> int:
        """Exact-in: output net of gas (higher is better); exact-out: input plus gas (lower is better)."""
        if self.trade_type is TradeType.EXACT_IN:
            return self.amount_out - (self.gas_cost_in_output or 0)
        return self.amount_in + (self.gas_cost_in_input or 0)


@dataclass(frozen=True)
class RouteSelection:
    best: PricedRoute
    quotes: tuple[PricedRoute, ...]  # every route that could fill, best first
    candidates: int  # routes considered (including those whose pools do not exist)
    market: MarketSnapshot


class RouteFinder:
    """Route selection over ``dexes`` (default: every deployment of the client's chain)."""

    def __init__(self, client: EvmClient, dexes: Mapping[str, Dex] | None = None, *, weth: str | None = None) -> None:
        self.client = client
        self.dexes: dict[str, Dex] = dict(dexes) if dexes is not None else build_dexes(client)
        self.weth = to_checksum_address(weth) if weth else _chain_weth(client)

    def deployments(self, names: Iterable[str] | None) -> dict[str, Dex]:
        """The deployments to route through; refuses names the chain does not have."""
        if names is None:
            return self.dexes
        wanted = list(names)
        unknown = sorted(set(wanted) - set(self.dexes))
        if unknown:
            known = ", ".join(sorted(self.dexes)) or "none"
            raise InvalidRequest(f"unknown DEX {unknown[0]!r} on {self.client.chain.name}; known: {known}")
        return {name: self.dexes[name] for name in wanted}

    def candidates(
        self, token_in: str, token_out: str, *, max_hops: int = 2, dex_names: Iterable[str] | None = None
    ) -> list[Route]:
        """Every route to consider (pure: CREATE2 addresses, no I/O)."""
        token_in, token_out = _checksum(token_in), _checksum(token_out)
        if token_in == token_out:
            raise InvalidRequest(f"token_in and token_out are the same token ({token_in})")
        routes = []
        for name, dex in self.deployments(dex_names).items():
            routes += [
                Route(name, dex.protocol, (p,), (token_in, token_out)) for p in dex.candidate_pools(token_in, token_out)
            ]
            if max_hops >= 2 and self.weth not in (token_in, token_out):
                for first in dex.candidate_pools(token_in, self.weth):
                    for second in dex.candidate_pools(self.weth, token_out):
                        routes.append(Route(name, dex.protocol, (first, second), (token_in, self.weth, token_out)))
        return routes

    def pricing_pools(self, tokens: Iterable[str], dex_names: Iterable[str] | None = None) -> list[Pool]:
        """WETH/token pools of every deployment: they price gas in ``tokens``."""
        pools = []
        for token in tokens:
            token = _checksum(token)
            if token == self.weth:
                continue
            for dex in self.deployments(dex_names).values():
                pools += dex.candidate_pools(self.weth, token)
        return pools

    async def read(self, pools: Iterable[Pool]) -> MarketSnapshot:
        """State of every pool that exists, in one batched read (round trips: V3's two or
        three phases, with V2 reserves in the first; one for V2 alone)."""
        unique = list({p.address: p for p in pools}.values())
        v2 = [p for p in unique if p.protocol is DexProtocol.UNISWAP_V2]
        v3 = [p for p in unique if p.protocol is DexProtocol.UNISWAP_V3]
        reader = next((d.reader for d in self.dexes.values() if isinstance(d, UniswapV3)), None)
        extra = [reserves_read(p.address) for p in v2]
        if v3 and reader is not None:
            snapshots, reserves, block = await reader.read_with(v3, extra, missing_ok=True)
        else:
            batch = await read_batch(self.client, extra)
            snapshots, reserves, block = [], batch.results, batch.block_number
        market = MarketSnapshot(block)
        for pool, snapshot in zip(v3, snapshots, strict=False):
            if snapshot is not None:
                market.states[pool.address] = snapshot
        for pool, result in zip(v2, reserves, strict=True):
            if result is not None:
                market.states[pool.address] = PairState(pool, int(result[0]), int(result[1]), block)
        return market

    async def gas_price(self) -> int:
        """Wei per gas a swap is expected to pay: next base fee plus the suggested tip."""
        fees = await suggest_fees(self.client)
        return fees.base_fee + fees.max_priority_fee_per_gas

    async def best(
        self,
        token_in: str,
        token_out: str,
        trade_type: TradeType,
        amount: int,
        *,
        max_hops: int = 2,
        dex_names: Iterable[str] | None = None,
        gas_price_wei: int | None = None,
        labels: Mapping[str, str] | None = None,
        market: MarketSnapshot | None = None,
    ) -> RouteSelection:
        """The best route for ``amount`` (base units of token_in for exact-in, of token_out
        for exact-out). Raises InvalidRequest (bad amount, tokens or DEX names),
        PoolNotFound (no route's pools exist) or InsufficientLiquidity (none can fill).
        ``labels`` (address -> symbol) name the tokens in those errors. ``market``: pool
        state already read at a block (a scanner's, a fast lane's): not read again."""
        require_positive(amount, "amount")
        routes = self.candidates(token_in, token_out, max_hops=max_hops, dex_names=dex_names)
        pools = [p for r in routes for p in r.pools] + self.pricing_pools((token_in, token_out), dex_names)
        if market is not None:
            gas_price_wei = gas_price_wei if gas_price_wei is not None else await self.gas_price()
        elif gas_price_wei is None:
            market, gas_price_wei = await asyncio.gather(self.read(pools), self.gas_price())
        else:
            market = await self.read(pools)
        live = [r for r in routes if all(market.state(p) is not None for p in r.pools)]
        name_in, name_out = ((labels or {}).get(t, t) for t in (_checksum(token_in), _checksum(token_out)))
        if not live:
            where = ", ".join(sorted(self.deployments(dex_names))) or "no deployment"
            via_weth = max_hops >= 2 and self.weth not in (_checksum(token_in), _checksum(token_out))
            raise PoolNotFound(
                f"no pool for {name_in} -> {name_out} on {self.client.chain.name} "
                f"({where}, {'direct or via WETH' if via_weth else 'direct'})"
            )
        quotes = await self.quote(live, market, trade_type, amount, gas_price_wei)
        if not quotes:
            raise InsufficientLiquidity(
                f"no route on {self.client.chain.name} can fill {amount} ({trade_type}) of {name_in} -> {name_out}"
            )
        return RouteSelection(quotes[0], tuple(quotes), len(routes), market)

    async def quote(
        self, routes: Sequence[Route], market: MarketSnapshot, trade_type: TradeType, amount: int, gas_price_wei: int
    ) -> list[PricedRoute]:
        """PoolQuote every route on ``market``; routes that cannot fill are left out. Best first."""
        quotes = []
        for route in routes:
            try:
                hops = await self._hops(route, market, trade_type, amount)
            except InsufficientLiquidity:
                continue
            quotes.append(self._price(route, market, trade_type, hops, gas_price_wei))
        if trade_type is TradeType.EXACT_IN:
            quotes.sort(key=lambda q: (-q.ranking_amount, len(q.hops), sum(q.route.fees)))
        else:
            quotes.sort(key=lambda q: (q.ranking_amount, len(q.hops), sum(q.route.fees)))
        return quotes

    async def _hops(self, route: Route, market: MarketSnapshot, trade_type: TradeType, amount: int) -> list[PoolQuote]:
        hops: list[PoolQuote] = []
        if trade_type is TradeType.EXACT_IN:
            for pool, token in zip(route.pools, route.path, strict=False):
                hop = await self._quote_pool(
                    route.dex, market, pool, lambda s, t=token, a=amount: s.quote_exact_in(t, a)
                )
                hops.append(hop)
                amount = hop.amount_out
        else:
            for pool, token in zip(reversed(route.pools), reversed(route.path), strict=False):
                hop = await self._quote_pool(
                    route.dex, market, pool, lambda s, t=token, a=amount: s.quote_exact_out(t, a)
                )
                hops.insert(0, hop)
                amount = hop.amount_in
        return hops

    async def _quote_pool(
        self, dex_name: str, market: MarketSnapshot, pool: Pool, quote: Callable[[PoolState], PoolQuote]
    ) -> PoolQuote:
        # A V3 swap past the snapshot's bitmap words reads more of them, at the same block.
        result, widened = await self.dexes[dex_name].complete(market.states[pool.address], quote)
        market.states[pool.address] = widened
        return result

    def _price(
        self, route: Route, market: MarketSnapshot, trade_type: TradeType, hops: list[PoolQuote], gas_price_wei: int
    ) -> PricedRoute:
        states = [market.states[p.address] for p in route.pools]
        amount_in, amount_out = hops[0].amount_in, hops[-1].amount_out
        mid = path_mid_price(states, route.path)
        if trade_type is TradeType.EXACT_IN:
            mid_amount = convert(amount_in, mid)
        else:
            mid_amount = -(-amount_out * mid.denominator // mid.numerator) if mid else 0
        kept = fee_retained(route.fees)
        gas = estimate_swap_gas(route.protocol, hops)
        gas_cost = gas * gas_price_wei
        return PricedRoute(
            route=route,
            trade_type=trade_type,
            amount_in=amount_in,
            amount_out=amount_out,
            hops=tuple(hops),
            block_number=market.block_number,
            mid_amount=mid_amount,
            price_impact_bps=to_bps(shortfall(amount_in, amount_out, mid)),
            slippage_bps=to_bps(shortfall(amount_in, amount_out, mid * kept)),
            lp_fee_bps=to_bps(1 - kept),
            gas_estimate=gas,
            gas_price_wei=gas_price_wei,
            gas_cost_wei=gas_cost,
            gas_cost_in_output=self.wei_in(market, route.token_out, gas_cost),
            gas_cost_in_input=self.wei_in(market, route.token_in, gas_cost),
        )

    def wei_in(self, market: MarketSnapshot, token: str, wei: int) -> int | None:
        """``wei`` of ETH in ``token`` base units at the WETH/token pools' median mid price;
        None when no WETH/token pool was read."""
        if _checksum(token) == self.weth:
            return wei
        prices = [
            mid_price(state, self.weth)
            for state in market.states.values()
            if {state.pool.token0, state.pool.token1} == {self.weth, _checksum(token)}
        ]
        prices = [p for p in prices if p > 0]
        if not prices:
            return None
        price: Fraction = median_low(prices)
        return convert(wei, price)


def _chain_weth(client: EvmClient) -> str:
    chain = client.chain
    token = chain.tokens.get("WETH")
    address = token.address if token else chain.contracts.get("WETH9")
    if not address:
        raise InvalidRequest(f"{chain.name} has no WETH in its registry: two-hop routes need it")
    return to_checksum_address(address)


def _checksum(token: str) -> str:
    try:
        return checksum_address(token)
    except (ValueError, TypeError):
        raise InvalidRequest(f"not a token address: {token!r}") from None
