"""The arbitrage scanner against the CEX simulators and the devnet's pools: a gap injected on
a venue shows up on the stream as a taken opportunity whose size and profit are what
``evaluate`` answers on the same books; a small gap is dropped below the minimum profit; a
stopped feed makes its book stale; auto-execution starts one run per gap (cooldown)."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from connectors.dex import build_dexes
from connectors.dex.arbitrage_curves import chain_gas, pool_leg
from connectors.dex.pricing import mid_price
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.evm.client import EvmClient
from crosslane.arbitrage import ArbKind, ArbLeg, ArbMarket, ArbPolicy, BookCurve, DropReason, evaluate
from crosslane.arbitrage_runs import RunTerms
from crosslane.arbitrage_stream import ScannedOpportunity, opportunities
from crosslane.domain.arb_steps import ArbitrageRequest
from crosslane.domain.chains import ChainRegistry
from crosslane.registry import Registry, load_registry
from crosslane.routing import SymbolScale, VenueBook, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.side import Side
from crosslane.telemetry.names import OPPORTUNITIES_SEEN, OPPORTUNITIES_TAKEN, RUNS_STARTED
from devnet.anvil import find_free_port
from devnet.cex import admin_client as admin
from devnet.manager import devnet_down, devnet_up
from devnet.noise_trader import NoiseConfig, NoiseTrader
from devnet.pool_moves import move_pool
from devnet.registry_export import registry_path
from devnet.state import DevnetState
from workers.fastpath.feeds import DEPTH
from workers.scanner.service import ScannerConfig, ScannerService

COUNTERS = (OPPORTUNITIES_SEEN, OPPORTUNITIES_TAKEN, RUNS_STARTED)

pytestmark = pytest.mark.timeout(240)

REPO = Path(__file__).resolve().parents[2]

WETH_USDC = ArbMarket("WETH", "USDC", 18, 6)
SYMBOL = "ETH/USDC"
RULES = {  # the simulators' ETH/USDC filters (devnet/cex/*/profile.py)
    "binance": VenuePrecision(Decimal("0.01"), Decimal("0.0001"), Decimal("0.0001"), Decimal(5)),
    "okx": VenuePrecision(Decimal("0.01"), Decimal("0.000001"), Decimal("0.001"), Decimal(0)),
}
OKX_TO_BINANCE = "buy okx ETH/USDC / sell binance ETH/USDC"


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[DevnetState, Registry]]:
    path: Path = tmp_path_factory.mktemp("arb-scanner") / "devnet.json"
    try:
        state = await devnet_up(
            path,
            {c: find_free_port() for c in ("devnet-a", "devnet-b")},
            detached=False,
            cex=True,
            cex_ports={"binance": find_free_port(), "okx": find_free_port()},
        )
        yield state, load_registry(registry_path(path))
    finally:
        devnet_down(path)


class RecordingStarter:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def start(self, request: dict[str, Any]) -> str:
        self.requests.append(request)
        return f"wf-{request['request_id']}"


@asynccontextmanager
async def running(
    registry: Registry, starter: RecordingStarter | None = None, **config: Any
) -> AsyncIterator[ScannerService]:
    cfg = ScannerConfig(markets=["WETH/USDC"], stream="127.0.0.1:0", interval_s=0.2, block_poll_s=0.2, **config)
    service = ScannerService(registry, cfg, starter)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def first(
    service: ScannerService, match: Callable[[ScannedOpportunity], bool], limit: int = 20_000
) -> ScannedOpportunity:
    """The first published opportunity ``match`` accepts (the stream as a subscriber reads it)."""
    seen = 0
    async for scanned in opportunities(service.stream.address):
        if match(scanned):
            return scanned
        seen += 1
        assert seen < limit, "the scanner never published the opportunity looked for"
    raise AssertionError("the stream closed")


async def freeze(state: DevnetState, gaps: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Market makers paused, each venue's ETH/USDC shifted by its gap (bps); the books."""
    for name, venue in state.cex.items():
        await admin.market_maker(venue.rest_url, running=False)
        await admin.inject_gap(venue.rest_url, SYMBOL, gaps.get(name, 0))
    return {name: await admin.book(v.rest_url, SYMBOL, DEPTH) for name, v in state.cex.items()}


async def thaw(state: DevnetState) -> None:
    for venue in state.cex.values():
        await admin.inject_gap(venue.rest_url, SYMBOL, 0)
        await admin.market_maker(venue.rest_url, running=True)


def book_curve(state: DevnetState, name: str, book: dict[str, Any], side: Side) -> BookCurve:
    venue_book = VenueBook(name, SymbolScale(SYMBOL, 2, 6))
    venue_book.replace_text(book["bids"], book["asks"], update_id=1, ts_ms=1)
    market = VenueMarket(name, VenueCosts(taker_bps=state.cex[name].taker_bps), RULES[name])
    return BookCurve.from_book(venue_book, side, market, asset_decimals=18, quote_decimals=6)


def expected(state: DevnetState, books: dict[str, dict[str, Any]], seen: ScannedOpportunity, policy: ArbPolicy) -> Any:
    """``evaluate`` on the venues' own books (as their admin reports them) at the same moment."""
    opp = seen.opportunity
    assert opp.buy is not None and opp.sell is not None
    buy = ArbLeg("okx", SYMBOL, book_curve(state, "okx", books["okx"], Side.BUY), book_ts_ms=opp.buy.book_ts_ms)
    sell = ArbLeg(
        "binance", SYMBOL, book_curve(state, "binance", books["binance"], Side.SELL), book_ts_ms=opp.sell.book_ts_ms
    )
    return evaluate(ArbKind.CEX_CEX, WETH_USDC, buy, sell, now_ms=opp.evaluated_at_ms, policy=policy)


async def matching(
    service: ScannerService, want: Callable[[ScannedOpportunity], Any], pair: str, tries: int = 200
) -> tuple[ScannedOpportunity, Any]:
    """The scanner's evaluations of ``pair`` until one equals ``want``'s answer for it (the
    feed catches up with the frozen books); the last mismatch is the failure."""
    last: tuple[ScannedOpportunity, Any] | None = None
    async for seen in opportunities(service.stream.address):
        if seen.pair != pair:
            continue
        answer = want(seen)
        if (seen.opportunity.size, seen.opportunity.net_profit, seen.opportunity.decision) == (
            answer.size,
            answer.net_profit,
            answer.decision,
        ):
            return seen, answer
        last = (seen, answer)
        tries -= 1
        if not tries:
            break
    assert last is not None
    published, answer = last[0].opportunity, last[1]
    raise AssertionError(
        f"published {published.size}/{published.net_profit}, evaluate says {answer.size}/{answer.net_profit}"
    )


async def test_an_injected_gap_is_published_as_evaluate_answers_and_a_small_one_is_below_min_profit(
    world: tuple[DevnetState, Registry],
) -> None:
    state, registry = world
    min_profit = Decimal(20)
    async with running(registry, min_profit=min_profit, max_book_age_ms=3_600_000) as service:
        policy = service.config.policy(6)
        try:
            books = await freeze(state, {"binance": 150})
            # the injection answered once binance's book held the shifted quotes: its bid tops okx's ask
            gap = Decimal(books["binance"]["bids"][0][0]) / Decimal(books["okx"]["asks"][0][0]) - 1
            assert gap > Decimal("0.01")
            seen, answer = await matching(service, lambda s: expected(state, books, s, policy), OKX_TO_BINANCE)
            opp = seen.opportunity
            assert opp.decision == "taken", opp.reasons
            assert opp.kind is ArbKind.CEX_CEX and opp.net_profit >= 20 * 10**6 and opp.size > 0
            assert opp.items == answer.items and opp.buy == answer.buy and opp.sell == answer.sell

            books = await freeze(state, {"binance": 10})
            seen, answer = await matching(service, lambda s: expected(state, books, s, policy), OKX_TO_BINANCE)
            assert seen.opportunity.decision == "dropped"
            assert seen.opportunity.dropped_for == [DropReason.BELOW_MIN_PROFIT]
            assert seen.opportunity.net_profit < 20 * 10**6
            assert "below the minimum profit" in seen.opportunity.reasons[0]
        finally:
            await thaw(state)


async def test_a_stopped_feed_makes_its_book_stale(world: tuple[DevnetState, Registry]) -> None:
    _, registry = world
    async with running(registry, max_book_age_ms=1_500) as service:
        fresh = await first(service, lambda s: s.pair == OKX_TO_BINANCE and s.opportunity.buy is not None)
        assert DropReason.STALE_BOOK not in fresh.opportunity.dropped_for, fresh.opportunity.reasons
        await service.books.stop_venue("okx")
        stopped_ms = int(time.time() * 1000)
        stale = await first(
            service,
            lambda s: s.pair == OKX_TO_BINANCE and s.opportunity.evaluated_at_ms > stopped_ms + 1_500,
        )
        assert DropReason.STALE_BOOK in stale.opportunity.dropped_for
        assert any(r.startswith("stale book: okx ETH/USDC: book") for r in stale.opportunity.reasons)
        assert not any("binance ETH/USDC: book" in r for r in stale.opportunity.reasons)
        assert service.scanner is not None
        print("pass ms", sorted(service.scanner.pass_ms))


async def test_auto_execution_starts_one_run_per_gap(world: tuple[DevnetState, Registry]) -> None:
    state, registry = world
    starter = RecordingStarter()
    before = {name: REGISTRY.get_sample_value(f"{name}_total") or 0.0 for name in COUNTERS}
    async with running(
        registry,
        starter,
        auto_execute=True,
        cooldown_s=3600,
        min_profit=Decimal(20),
        max_book_age_ms=3_600_000,
        cex_inventory=False,  # no fast path here to read the balances through (the runs are only recorded)
    ) as service:
        try:
            await freeze(state, {"binance": 150})
            taken = []
            async for seen in opportunities(service.stream.address):
                if seen.pair == OKX_TO_BINANCE and seen.taken:
                    taken.append(seen)
                    if len(taken) == 5:
                        break
        finally:
            await thaw(state)
        assert service.scanner is not None and service.scanner.auto is not None
        runs = [run_id for pair, run_id in service.scanner.auto.started if pair == OKX_TO_BINANCE]
        all_started = len(service.scanner.auto.started)
    assert len(runs) == 1  # five taken evaluations of one gap, one run
    # The scanner's /metrics counters moved with what it did.
    moved = {name: (REGISTRY.get_sample_value(f"{name}_total") or 0.0) - before[name] for name in COUNTERS}
    assert moved[RUNS_STARTED] == all_started
    assert moved[OPPORTUNITIES_TAKEN] >= len(taken) and moved[OPPORTUNITIES_SEEN] > moved[OPPORTUNITIES_TAKEN]
    started = [s for s in taken if s.run_id is not None]
    assert len(started) <= 1 and all(s.run_id is None for s in taken[1:])
    (request,) = [r for r in starter.requests if f"wf-{r['request_id']}" == runs[0]]
    arb = ArbitrageRequest.model_validate(request)
    assert arb.kind is ArbKind.CEX_CEX and arb.size > 0 and arb.min_profit == Decimal(20)


async def test_a_pool_moved_below_the_venues_is_bought_there_and_sold_on_a_venue(
    world: tuple[DevnetState, Registry],
) -> None:
    state, registry = world
    chain = ChainRegistry.from_registry(registry).get("devnet-a")
    client = EvmClient(chain)
    try:
        v3 = build_dexes(client)["uniswap_v3"]
        assert isinstance(v3, UniswapV3)
        info = next(p for p in chain.dexes["uniswap_v3"].pools if p.label == "WETH/USDC 0.3%")
        pool = v3.pool_for(info.token0, info.token1, info.fee)
        weth, usdc = chain.tokens["WETH"].address, chain.tokens["USDC"].address
        async with running(registry, min_profit=Decimal(1), max_book_age_ms=3_600_000) as service:
            try:
                books = await freeze(state, {})
                move = await move_pool(client, v3, pool, weth, Decimal(-300))
                assert move.moved_bps <= -300
                block = await client.block_number()
                pair = f"buy devnet-a:uniswap_v3 {info.label} / sell binance ETH/USDC"
                seen = await first(
                    service,
                    lambda s: (
                        s.pair == pair and s.opportunity.buy is not None and s.opportunity.buy.block_number == block
                    ),
                )
                opp = seen.opportunity
                assert opp.decision == "taken", opp.reasons
                leg = await pool_leg(v3, pool, weth, Side.BUY, 50 * 10**18, await v3.pool_state(pool))
                gas = await chain_gas(client, usdc)
                buy = ArbLeg(
                    "devnet-a:uniswap_v3",
                    info.label,
                    leg.curve,
                    chain="devnet-a",
                    block_number=block,
                    head_block=block,
                    gas=gas,
                )
                sell = ArbLeg(
                    "binance",
                    SYMBOL,
                    book_curve(state, "binance", books["binance"], Side.SELL),
                    book_ts_ms=opp.sell.book_ts_ms if opp.sell else None,
                )
                answer = evaluate(
                    ArbKind.CEX_DEX, WETH_USDC, buy, sell, now_ms=opp.evaluated_at_ms, policy=service.config.policy(6)
                )
                assert (opp.size, opp.net_profit) == (answer.size, answer.net_profit)
                assert mid_price(await v3.pool_state(pool), weth) == move.after
            finally:
                await thaw(state)
                await move_pool(client, v3, pool, weth, Decimal(300))
    finally:
        await client.close()


async def test_the_quant_example_starts_a_run_for_a_gap_worth_it(
    world: tuple[DevnetState, Registry], capsys: pytest.CaptureFixture[str]
) -> None:
    state, registry = world
    spec = importlib.util.spec_from_file_location("arb_quant", REPO / "examples" / "arb_quant.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    starter = RecordingStarter()
    async with running(registry, max_book_age_ms=3_600_000) as service:
        try:
            await freeze(state, {"binance": 150})
            terms = RunTerms(min_profit=Decimal(20))
            await asyncio.wait_for(example.trade(service.stream.address, terms, 3600.0, starter, 1), 120)
        finally:
            await thaw(state)
    (request,) = starter.requests
    arb = ArbitrageRequest.model_validate(request)
    assert arb.min_profit == Decimal(20) and arb.size > 0
    assert f"started wf-{request['request_id']}: buy " in capsys.readouterr().out


async def test_the_noise_trader_moves_pool_prices(world: tuple[DevnetState, Registry]) -> None:
    _, registry = world
    chain = ChainRegistry.from_registry(registry).get("devnet-b")
    trader = NoiseTrader([chain], NoiseConfig(seed=7, vol_bps=20))
    try:
        before = {id(t): mid_price(await t.dex.pool_state(t.pool), t.asset) for t in trader.pools}
        for _ in range(4):
            await trader.step()
        after = {id(t): mid_price(await t.dex.pool_state(t.pool), t.asset) for t in trader.pools}
    finally:
        await trader.close()
    assert trader.steps >= 1
    assert sum(before[k] != after[k] for k in before) >= 1


async def test_pool_legs_are_sized_within_what_the_signer_holds_on_chain(world: tuple[DevnetState, Registry]) -> None:
    """With ``--signer`` the scanner reads that address's balances of the pools' tokens with
    each block: a signer holding nothing has no WETH to sell into a pool (nor USDC to buy
    with), and every such pair says so instead of sizing on inventory it does not have."""
    _, registry = world
    empty = "0x" + "ab" * 20
    async with running(registry, signer=empty, max_book_age_ms=3_600_000) as service:
        seen = await first(  # once the book and the pool are in
            service,
            lambda s: (
                " / sell devnet-a:" in s.pair
                and s.opportunity.kind is ArbKind.CEX_DEX
                and DropReason.NO_ROUTE not in s.opportunity.dropped_for
            ),
        )
    assert DropReason.INVENTORY_LIMIT in seen.opportunity.dropped_for, seen.opportunity.reasons
    assert any("0 WETH held at devnet-a:" in r for r in seen.opportunity.reasons), seen.opportunity.reasons
