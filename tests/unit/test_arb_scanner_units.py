"""The scanner's pieces without a network: a pair's cooldown (one gap, one run), freshness of
the legs it builds (a book's age, a pool state's blocks behind the head, a chain that stops
answering), remembered curves, and the stream as a subscriber reads it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from crosslane.arbitrage import ArbKind, ArbMarket, ArbPolicy, CallableCurve, DropReason, evaluate
from crosslane.arbitrage_runs import RunTerms, arbitrage_input
from crosslane.arbitrage_stream import ScannedOpportunity, opportunities
from crosslane.domain.chains import DexPoolInfo
from crosslane.domain.tx import FeePolicy
from crosslane.registry import parse_registry
from crosslane.routing import SymbolScale, VenueBook, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.side import Side
from workers.scanner.cooldown import Cooldown
from workers.scanner.legs import MemoCurve, book_leg, pool_leg_of
from workers.scanner.markets import PoolSource, VenueSource, default_markets, kind_of, scan_market
from workers.scanner.pools import PoolView
from workers.scanner.scanner import AutoExecute
from workers.scanner.stream import OpportunityStream

MARKET = ArbMarket("WETH", "USDC", 18, 6)
RULES = VenueMarket("okx", VenueCosts(taker_bps=Decimal(10)), VenuePrecision(Decimal("0.01"), Decimal("0.0001")))
NOW = 1_000_000
POOL = PoolSource(
    "devnet-a",
    "uniswap_v3",
    DexPoolInfo(
        address="0x" + "11" * 20, token0="0x" + "22" * 20, token1="0x" + "33" * 20, fee=3000, label="WETH/USDC 0.3%"
    ),
    "0x" + "22" * 20,
    "0x" + "33" * 20,
)

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # holds the DEX legs (an anvil dev account)


class _Leg:
    def __init__(self, curve: CallableCurve) -> None:
        self.curve = curve


def book(ts_ms: int, ask: str = "2900", bid: str = "2899") -> VenueBook:
    b = VenueBook("okx", SymbolScale("ETH/USDC", 2, 4))
    b.replace_text([(bid, "10")], [(ask, "10")], update_id=1, ts_ms=ts_ms)
    return b


def pool_view(block: int) -> PoolView:
    price = Fraction(3100 * 10**6, 10**18)  # quote base units per wei
    sell = CallableCurve(
        Side.SELL, lambda size: size * 3100 * 997 // 1000 // 10**12, best_price=price,
        fee_kept=Fraction(997, 1000), capacity=50 * 10**18,
    )  # fmt: skip
    return PoolView(block, None, _Leg(sell), "")  # type: ignore[arg-type]


def judge(buy_ts: int, block: int, head: int, chain_error: str = "") -> Any:
    buy = book_leg(VenueSource("okx", "ETH/USDC"), Side.BUY, book(buy_ts), RULES, MARKET)
    sell = pool_leg_of(POOL, Side.SELL, pool_view(block), head_block=head, gas=None, chain_error=chain_error)
    policy = ArbPolicy(max_book_age_ms=2_000, max_pool_age_blocks=2)
    return evaluate(ArbKind.CEX_DEX, MARKET, buy, sell, now_ms=NOW, policy=policy)


def test_fresh_inputs_are_taken() -> None:
    opp = judge(NOW - 500, block=10, head=12)
    assert opp.decision == "taken", opp.reasons
    assert opp.buy is not None and opp.buy.book_ts_ms == NOW - 500
    assert opp.sell is not None and (opp.sell.block_number, opp.sell.head_block) == (10, 12)


def test_a_book_past_its_age_bound_is_stale() -> None:
    opp = judge(NOW - 2_001, block=10, head=10)
    assert opp.dropped_for == [DropReason.STALE_BOOK]
    assert "okx ETH/USDC: book 2001 ms old, limit 2000 ms" in opp.reasons[0]


def test_pool_state_blocks_behind_the_head_is_stale() -> None:
    opp = judge(NOW, block=10, head=13)
    assert opp.dropped_for == [DropReason.STALE_POOL]
    assert "3 behind the head" in opp.reasons[0]


def test_a_chain_that_stops_answering_is_unhealthy_even_with_a_head_that_looks_current() -> None:
    opp = judge(NOW, block=10, head=10, chain_error="RpcUnavailable: timed out")
    assert opp.dropped_for == [DropReason.VENUE_UNHEALTHY]
    assert "devnet-a unreachable: RpcUnavailable" in opp.reasons[0]


def test_no_book_yet_is_no_route_not_a_crash() -> None:
    empty = VenueBook("okx", SymbolScale("ETH/USDC", 2, 4))
    leg = book_leg(VenueSource("okx", "ETH/USDC"), Side.BUY, empty, RULES, MARKET)
    assert leg.curve is None and leg.unavailable == "no book received yet"


def test_a_remembered_curve_answers_what_the_curve_answers_once_per_size() -> None:
    calls: list[int] = []

    def amount(size: int) -> int:
        calls.append(size)
        return size * 3000 // 10**12

    curve = CallableCurve(Side.SELL, amount, best_price=Fraction(3, 10**9), fee_kept=Fraction(1), capacity=10**20)
    memo = MemoCurve(curve)
    assert memo.fill(10**18) == curve.fill(10**18)
    memo.fill(10**18)
    assert calls == [10**18, 10**18]  # the memo asked once, the direct call once
    assert (memo.side, memo.lot, memo.capacity, memo.best_price) == (
        curve.side,
        curve.lot,
        curve.capacity,
        curve.best_price,
    )


def test_cooldown_starts_a_pair_once_per_window_and_forgets_a_failed_start() -> None:
    cooldown = Cooldown(30_000)
    assert cooldown.claim("a", 0)
    assert not cooldown.claim("a", 29_999)
    assert cooldown.claim("b", 1)  # another pair is its own gap
    assert cooldown.remaining_ms("a", 10_000) == 20_000
    assert cooldown.claim("a", 30_000)
    cooldown.release("b")
    assert cooldown.claim("b", 2)


def scanned(seq: int, taken: bool = True) -> ScannedOpportunity:
    opp = judge(NOW if taken else NOW - 10_000, block=10, head=10)
    return ScannedOpportunity(
        seq=seq, pair="buy okx ETH/USDC / sell devnet-a:uniswap_v3 WETH/USDC 0.3%", market="WETH/USDC", opportunity=opp
    )


async def test_auto_execution_starts_a_taken_pair_once_and_retries_after_a_failed_start() -> None:
    requests: list[dict[str, Any]] = []
    fail = [True]

    class Starter:
        async def start(self, request: dict[str, Any]) -> str:
            if fail[0]:
                fail[0] = False
                raise RuntimeError("temporal unreachable")
            requests.append(request)
            return "wf-1"

    terms = RunTerms(signer=SIGNER, fees=FeePolicy(max_fee_per_gas_cap=100 * 10**9))
    auto = AutoExecute(Starter(), Cooldown(60_000), terms)
    assert await auto.maybe_start(scanned(1)) is None  # failed: released
    assert await auto.maybe_start(scanned(2)) == "wf-1"
    assert await auto.maybe_start(scanned(3)) is None  # cooling down
    assert await auto.maybe_start(scanned(4, taken=False)) is None
    assert len(requests) == 1 and requests[0] == arbitrage_input(scanned(2), terms)
    assert requests[0]["buy"]["symbol"] == "ETH/USDC" and requests[0]["sell"]["chain"] == "devnet-a"
    assert Decimal(requests[0]["size"]) > 0 and requests[0]["signer"] == SIGNER


def test_auto_execution_of_a_dex_leg_without_a_signer_starts_nothing() -> None:
    with pytest.raises(ValueError, match="signer"):
        arbitrage_input(scanned(2))


async def test_the_stream_delivers_every_opportunity_in_order_to_each_subscriber() -> None:
    stream = OpportunityStream(0)
    await stream.start()
    try:
        received: list[list[ScannedOpportunity]] = [[], []]

        async def read(into: list[ScannedOpportunity]) -> None:
            async for item in opportunities(stream.address):
                into.append(item)

        readers = [asyncio.create_task(read(r)) for r in received]
        while stream.subscribers < 2:
            await asyncio.sleep(0.01)
        sent = [scanned(1), scanned(2, taken=False), scanned(3)]
        for item in sent:
            stream.publish(item)
    finally:
        await stream.close()
    await asyncio.wait_for(asyncio.gather(*readers), 10)
    assert received[0] == sent and received[1] == sent
    assert [s.taken for s in received[0]] == [True, False, True]


WETH_A, USDC_A = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DAI_A = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
REGISTRY = f"""
version: 1
chains:
  devnet-a:
    family: evm
    chain_id: 31337
    rpc_urls: ["http://127.0.0.1:8545"]
    dexes:
      uniswap_v2:
        protocol: uniswap_v2
        factory: "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"
        init_code_hash: "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
        pools:
          - address: "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
            token0: "{USDC_A}"
            token1: "{WETH_A}"
            fee: 3000
            label: "WETH/USDC 0.3%"
          - address: "0xA478c2975Ab1Ea89e8196811F51A7B7Ade33eB11"
            token0: "{DAI_A}"
            token1: "{WETH_A}"
            fee: 3000
            label: "WETH/DAI 0.3%"
  solana-local: {{family: solana, cluster: localnet, rpc_urls: ["http://127.0.0.1:8899"]}}
assets:
  WETH:
    chains: {{devnet-a: {{address: "{WETH_A}", decimals: 18}}}}
    venues: {{binance: ETH, okx: ETH}}
  USDC:
    chains: {{devnet-a: {{address: "{USDC_A}", decimals: 6}}}}
    venues: {{binance: USDC, okx: USDC}}
  DAI:
    chains: {{devnet-a: {{address: "{DAI_A}", decimals: 18}}}}
venues:
  binance: {{exchange: binance}}
  okx: {{exchange: okx}}
"""


def test_the_asset_map_joins_listed_venue_markets_and_pools_of_the_same_tokens() -> None:
    registry = parse_registry(REGISTRY, "registry.yaml")
    listed = {"binance": {"ETH/USDC", "ETH/USDT"}, "okx": {"ETH/USDT"}}
    market = scan_market(registry, "WETH/USDC", listed)
    assert market.market == ArbMarket("WETH", "USDC", 18, 6)
    assert market.venues == (VenueSource("binance", "ETH/USDC"),)  # okx does not list ETH/USDC
    assert [(p.venue, p.label) for p in market.pools] == [("devnet-a:uniswap_v2", "WETH/USDC 0.3%")]
    assert kind_of(market.venues[0], market.pools[0]) is ArbKind.CEX_DEX
    # by default: each market the pools trade, oriented as a venue lists it, with two sources or more
    assert [m.name for m in default_markets(registry, listed)] == ["WETH/USDC"]
    assert [m.name for m in default_markets(registry, {"binance": set(), "okx": set()})] == []


async def test_auto_execution_starts_no_second_run_into_the_depth_a_run_in_flight_is_taking() -> None:
    """One gap opens two CEX pairs (okx and kraken against binance) that both sell into the
    same bids (a CEX leg routes over the consolidated book): the second starts only once the
    first has ended; a pair taking other depth starts meanwhile."""
    started: list[str] = []
    live: set[str] = set()

    class Starter:
        async def start(self, request: dict[str, Any]) -> str:
            run_id = f"wf-{len(started) + 1}"
            started.append(run_id)
            live.add(run_id)
            return run_id

    async def running(run_id: str) -> bool:
        return run_id in live

    def cex_pair(seq: int, buy: str, sell: str, market: str = "ETH/USDC") -> ScannedOpportunity:
        opp = judge(NOW, block=10, head=10)
        assert opp.buy is not None and opp.sell is not None
        legs = {
            "buy": opp.buy.model_copy(update={"venue": buy, "market": market, "chain": None}),
            "sell": opp.sell.model_copy(update={"venue": sell, "market": market, "chain": None}),
        }
        opp = opp.model_copy(update={**legs, "evaluated_at_ms": NOW + seq})
        return ScannedOpportunity(
            seq=seq, pair=f"buy {buy} {market} / sell {sell} {market}", market=market, opportunity=opp
        )

    auto = AutoExecute(Starter(), Cooldown(60_000), RunTerms(), running=running)
    assert await auto.maybe_start(cex_pair(1, "okx", "binance")) == "wf-1"
    assert await auto.maybe_start(cex_pair(2, "kraken", "binance")) is None  # the same bids, wf-1 in flight
    assert await auto.maybe_start(cex_pair(3, "okx", "binance", "BTC/USDC")) == "wf-2"  # other depth
    live.discard("wf-1")
    assert await auto.maybe_start(cex_pair(4, "kraken", "binance")) == "wf-3"  # wf-1 ended: its depth is free
    assert started == ["wf-1", "wf-2", "wf-3"]


async def test_without_a_way_to_ask_a_run_holds_its_depth_for_hold_ms() -> None:
    class Starter:
        async def start(self, request: dict[str, Any]) -> str:
            return f"wf-{request['request_id']}"

    now = [NOW]
    terms = RunTerms(signer=SIGNER, fees=FeePolicy(max_fee_per_gas_cap=100 * 10**9))
    auto = AutoExecute(Starter(), Cooldown(0), terms, hold_ms=5_000, clock=lambda: now[0])
    first = await auto.maybe_start(scanned(1))
    assert first is not None
    assert await auto.maybe_start(scanned(2)) is None
    now[0] += 5_000
    assert await auto.maybe_start(scanned(3)) is not None
