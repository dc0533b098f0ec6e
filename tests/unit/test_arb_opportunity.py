"""An opportunity says why it is taken or dropped, and its profit is the exact sum of its
itemised terms: legs at best price, fees, impact, gas (approvals only when missing), the
bridge fee and the price risk in flight."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.bridges.planning import RouteOffers, transfer_cost
from crosslane.arbitrage import (
    APPROVAL_GAS,
    ArbKind,
    ArbLeg,
    ArbMode,
    ArbPolicy,
    BridgeCost,
    DropReason,
    Inventory,
    Opportunity,
    PriceRisk,
    TransferCost,
    TxGas,
    evaluate,
)
from crosslane.domain.bridge import BridgeRoute, RoutePreferences, RouteQuote
from crosslane.registry import parse_registry
from crosslane.routing.side import Side
from tests.unit.test_arb_curves import MILLI_ETH, book, v2_curve
from tests.unit.test_arb_optimizer import GAS, MARKET

ETH = 10**18
NOW = 1_000_000


def cex_buy(**kw: object) -> ArbLeg:
    """Binance asks: 10 ETH at 3000.00, 10 more at 3001.00; 10 bps taker."""
    fields: dict[str, object] = {"book_ts_ms": NOW - 100, **kw}
    return ArbLeg("binance", "ETH/USDC", book(Side.BUY, [(300_000, 10_000), (300_100, 10_000)]), **fields)  # type: ignore[arg-type]


def dex_sell(weth: int = 1_000, usdc: int = 3_060_000, **kw: object) -> ArbLeg:
    """A V2 pool pricing WETH at 3060 USDC (2 % above the venue)."""
    fields: dict[str, object] = {"chain": "devnet-a", "gas": GAS, "block_number": 100, "head_block": 101, **kw}
    curve = v2_curve(Side.SELL, weth * ETH, usdc * 10**6, 10**30)
    return ArbLeg("devnet-a:uniswap_v2", "WETH/USDC 0.3%", curve, **fields)  # type: ignore[arg-type]


def run(buy: ArbLeg | None = None, sell: ArbLeg | None = None, **kw: object) -> Opportunity:
    return evaluate(ArbKind.CEX_DEX, MARKET, buy or cex_buy(), sell or dex_sell(), now_ms=NOW, **kw)  # type: ignore[arg-type]


def test_a_profitable_spread_is_taken_at_the_optimum_with_itemised_profit() -> None:
    opp = run(policy=ArbPolicy(min_profit=10 * 10**6))
    assert opp.decision == "taken" and opp.dropped_for == []
    assert "the most profitable size on the curves" in opp.reasons[0]
    assert opp.size % MILLI_ETH == 0 and 0 < opp.size < 20 * ETH
    items = {i.name: i.amount for i in opp.items}
    assert items["buy fee"] < 0 and items["sell fee"] < 0 and items["gas: sell"] < 0
    assert items["bridge fee"] == 0 and items["price risk in flight"] == 0  # inventory mode
    assert sum(items.values()) == opp.net_profit == opp.proceeds - opp.cost + items["gas: sell"]
    assert opp.buy is not None and opp.buy.book_ts_ms == NOW - 100
    assert opp.sell is not None and (opp.sell.block_number, opp.sell.head_block) == (100, 101)
    # the optimum beats its neighbours on the same curves
    for other in (opp.size - MILLI_ETH, opp.size + MILLI_ETH):
        assert (
            run(policy=ArbPolicy(max_exposure=None), inventory=Inventory(asset_at_sell=other)).net_profit
            <= opp.net_profit
        )


def test_below_min_profit_is_dropped_naming_the_best_it_found() -> None:
    opp = run(policy=ArbPolicy(min_profit=10**6 * 10**6))
    assert opp.decision == "dropped" and opp.dropped_for == [DropReason.BELOW_MIN_PROFIT]
    assert opp.reasons[0].startswith("below min profit: best net ")
    assert "is below the minimum profit 1000000 USDC" in opp.reasons[0]
    assert opp.size > 0 and opp.net_profit > 0  # still says what it would have been


def test_no_spread_is_below_min_profit() -> None:
    opp = run(sell=dex_sell(usdc=2_990_000))
    assert opp.dropped_for == [DropReason.BELOW_MIN_PROFIT] and opp.net_profit < 0


def test_limits_hold_the_size_and_say_so() -> None:
    free = run()
    held = run(inventory=Inventory(asset_at_sell=free.size // 2))
    assert held.decision == "taken" and held.size <= free.size // 2
    assert "size held at the limit: " in held.reasons[0] and "WETH held at devnet-a:uniswap_v2" in held.reasons[0]
    exposure = run(policy=ArbPolicy(max_exposure=3_000 * 10**6))  # about one ETH
    assert exposure.size <= ETH and "exposure limit 3000 USDC" in exposure.reasons[0]
    cash = run(inventory=Inventory(quote_at_buy=1_500 * 10**6))
    assert (
        cash.buy is not None and cash.buy.quote <= 1_500 * 10**6 < cash.buy.quote + 3_003_000
    )  # one more lot would not fit


def test_limits_below_the_smallest_size_drop_the_opportunity() -> None:
    opp = run(policy=ArbPolicy(max_exposure=1), inventory=Inventory(quote_at_buy=0, asset_at_sell=0))
    assert opp.decision == "dropped"
    assert opp.dropped_for == [DropReason.EXPOSURE_LIMIT, DropReason.INVENTORY_LIMIT]
    assert len(opp.reasons) == 3 and all(
        "allows less than the smallest tradable size 0.001 WETH" in r for r in opp.reasons
    )


def test_stale_inputs_unhealthy_venues_and_missing_routes_are_dropped() -> None:
    stale_book = run(buy=cex_buy(book_ts_ms=NOW - 5_000))
    assert stale_book.dropped_for == [DropReason.STALE_BOOK]
    assert stale_book.reasons == ["stale book: binance ETH/USDC: book 5000 ms old, limit 2000 ms"]
    stale_pool = run(sell=dex_sell(block_number=90, head_block=101))
    assert stale_pool.dropped_for == [DropReason.STALE_POOL] and "11 behind the head" in stale_pool.reasons[0]
    sick = run(buy=cex_buy(healthy=False, health_detail="venue down"))
    assert sick.dropped_for == [DropReason.VENUE_UNHEALTHY] and sick.reasons == [
        "venue unhealthy: binance ETH/USDC: venue down"
    ]
    nothing = run(sell=ArbLeg("devnet-b:uniswap_v3", "WETH/USDC", None, unavailable="no WETH/USDC pool"))
    assert nothing.dropped_for == [DropReason.NO_ROUTE] and nothing.size == 0 and nothing.net_profit == 0
    assert nothing.reasons == ["no route: devnet-b:uniswap_v3 WETH/USDC: no WETH/USDC pool"]
    both = run(buy=cex_buy(book_ts_ms=NOW - 5_000, healthy=False), policy=ArbPolicy(min_profit=10**15))
    assert both.dropped_for == [DropReason.VENUE_UNHEALTHY, DropReason.STALE_BOOK, DropReason.BELOW_MIN_PROFIT]


def test_approvals_are_paid_only_when_missing() -> None:
    paid = run(sell=dex_sell(approval_missing=True))
    free = run()
    items = {i.name: i.amount for i in paid.items}
    assert items["gas: approve WETH on devnet-a"] == -GAS.cost(APPROVAL_GAS)
    assert not any(i.name.startswith("gas: approve") for i in free.items)
    assert paid.size == free.size and paid.net_profit == free.net_profit - GAS.cost(APPROVAL_GAS)


def test_transfer_mode_pays_the_bridge_and_the_price_risk_in_flight() -> None:
    quote = RouteQuote(
        route=BridgeRoute.ACROSS, fee=5 * 10**15, source_gas=10**14, destination_gas=0, expected_seconds=900,
        security_score=80, min_amount=0,
    )  # fmt: skip
    bridge = BridgeCost.from_quote(quote, 10 * ETH)  # 5 bps of the amount, plus gas
    risk = PriceRisk(Decimal(2), Decimal("0.0001"))
    deposit = TxGas("bridge deposit on devnet-a", GAS, 110_000)
    calm = run(transfer=TransferCost(bridge, [deposit]))
    risky = run(transfer=TransferCost(bridge, [deposit]), policy=ArbPolicy(risk=risk))
    assert calm.mode is ArbMode.TRANSFER
    items = {i.name: i.amount for i in risky.items}
    size_value = -(-risky.size * 3_000 * 10**6 // ETH)  # at the buy leg's best price, 3000 USDC
    # costs are rounded up, so each item is -ceil(cost) == floor(-cost)
    assert items["price risk in flight"] == -size_value * 2 * 30 // 10_000  # 2 x 1 bp x sqrt(900 s)
    assert items["bridge fee"] == -bridge.cost_in_asset(risky.size) * 3_000 * 10**6 // ETH
    assert items["gas: bridge deposit on devnet-a"] == -GAS.cost(110_000)
    assert risky.size <= calm.size and risky.net_profit < calm.net_profit
    # transfer mode needs no asset held on the selling side
    assert run(transfer=TransferCost(bridge), inventory=Inventory(asset_at_sell=0)).decision == "taken"


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2_900_000, 3_200_000), st.integers(0, 50), st.booleans(), st.integers(0, 3_600),
    st.decimals(0, 5, places=2), st.integers(0, 10**6),
)  # fmt: skip
def test_net_profit_is_the_sum_of_its_items(
    pool_usdc: int, fee_bps: int, approval: bool, seconds: int, aversion: Decimal, fixed: int
) -> None:
    bridge = BridgeCost("across", Fraction(fee_bps, 10_000), fixed, max(1, seconds))
    opp = run(
        sell=dex_sell(usdc=pool_usdc, approval_missing=approval),
        transfer=TransferCost(bridge) if seconds else None,
        policy=ArbPolicy(min_profit=-(10**15), risk=PriceRisk(aversion, Decimal("0.0002"))),
    )
    assert sum(i.amount for i in opp.items) == opp.net_profit
    assert opp.buy is not None and opp.sell is not None
    costs = sum(
        -i.amount for i in opp.items if i.name.startswith("gas") or i.name in ("bridge fee", "price risk in flight")
    )
    assert opp.net_profit == opp.proceeds - opp.cost - costs
    assert opp.proceeds == opp.sell.at_best - opp.sell.fee - opp.sell.impact
    assert opp.cost == opp.buy.at_best + opp.buy.fee + opp.buy.impact


def test_the_registry_asset_map_joins_venue_symbols_and_chain_tokens() -> None:
    registry = parse_registry(
        """
version: 1
chains:
  devnet-a: {family: evm, chain_id: 31337, rpc_urls: ["http://127.0.0.1:8545"]}
assets:
  WETH:
    chains: {devnet-a: {address: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", decimals: 18}}
    venues: {binance: ETH}
  USDC:
    chains: {devnet-a: {address: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", decimals: 6}}
    venues: {binance: USDC}
venues:
  binance: {exchange: binance, taker_bps: 7.5}
""",
        "registry.yaml",
    )
    assert registry.venue_symbol("WETH", "USDC", "binance") == "ETH/USDC"
    assert registry.venue_symbol("WETH", "USDC", "okx") is None
    assert registry.canonical_asset(venue="binance", code="ETH") == "WETH"
    assert registry.canonical_asset(chain="devnet-a", address="0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2") == "WETH"
    assert registry.canonical_asset(chain="devnet-b", address="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2") is None


def bridge_offers() -> RouteOffers:
    common = {"source_gas": 10**14, "destination_gas": 0, "min_amount": 10**15}
    return RouteOffers(
        [
            RouteQuote(route=BridgeRoute.ACROSS, fee=10**15, expected_seconds=60, security_score=70, **common),
            RouteQuote(route=BridgeRoute.WORMHOLE, fee=0, expected_seconds=1_200, security_score=90, **common),
        ],
        unavailable={},
    )


def test_dex_to_dex_across_chains_bridges_through_the_selectors_route() -> None:
    cheap = ArbLeg(
        "devnet-a:uniswap_v2", "WETH/USDC 0.3%", v2_curve(Side.BUY, 1_000 * ETH, 2_940_000 * 10**6, 900 * ETH),
        chain="devnet-a", gas=GAS, block_number=5, head_block=5,
    )  # fmt: skip
    dear = dex_sell(chain="devnet-b", block_number=9, head_block=9)
    transfer = transfer_cost(bridge_offers(), 10 * ETH, RoutePreferences())
    assert transfer.bridge is not None and transfer.bridge.route == "across"
    opp = evaluate(
        ArbKind.DEX_DEX, MARKET, cheap, dear, now_ms=NOW, transfer=transfer,
        policy=ArbPolicy(risk=PriceRisk(Decimal(1), Decimal("0.0001"))),
    )  # fmt: skip
    assert opp.decision == "taken" and opp.mode is ArbMode.TRANSFER
    assert opp.reasons[1].startswith("bridge: across: total cost ")
    items = {i.name: i.amount for i in opp.items}
    assert items["bridge fee"] < 0 and items["price risk in flight"] < 0 and items["gas: buy"] < 0

    nothing = transfer_cost(bridge_offers(), 10 * ETH, RoutePreferences(max_seconds=10))
    dropped = evaluate(ArbKind.DEX_DEX, MARKET, cheap, dear, now_ms=NOW, transfer=nothing)
    assert dropped.decision == "dropped" and dropped.dropped_for == [DropReason.NO_ROUTE]
    assert dropped.reasons[0].startswith("no route: no bridge route: no bridge route can take this transfer (")
    assert "beyond the 10 s allowed" in dropped.reasons[0]
