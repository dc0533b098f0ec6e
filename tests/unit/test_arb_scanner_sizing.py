"""How the scanner sizes what it publishes, without a network: CEX legs within what the
account holds on their venues (quote to buy, base to sell), and pool pairs across chains
also priced in transfer mode (buy, bridge, sell) with the price risk at the volatility it
measured from the mid prices it saw, each taken or dropped with its reason."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from connectors.bridges.planning import transfer_cost
from crosslane.arbitrage import ArbKind, ArbLeg, ArbMode, ArbPolicy, DropReason, Inventory, PriceRisk, evaluate
from crosslane.arbitrage_runs import RunTerms, arbitrage_input
from crosslane.domain.arb_steps import ArbitrageRequest
from crosslane.domain.bridge import RoutePreferences
from crosslane.domain.chains import DexPoolInfo
from crosslane.domain.tx import FeePolicy
from crosslane.routing.side import Side
from tests.unit.test_arb_curves import v2_curve
from tests.unit.test_arb_opportunity import ETH, NOW, bridge_offers, cex_buy, dex_sell
from tests.unit.test_arb_optimizer import GAS, MARKET
from workers.scanner.inventory import inventory_for
from workers.scanner.markets import PoolSource, ScanMarket, Source, VenueSource
from workers.scanner.scanner import Scanner
from workers.scanner.transfers import TransferMode, Volatilities

BINANCE = VenueSource("binance", "ETH/USDC")
OKX = VenueSource("okx", "ETH/USDC")
USDC = 10**6


def pool(chain: str, n: int) -> PoolSource:
    info = DexPoolInfo(address="0x" + f"{n:02x}" * 20, token0="0x" + "22" * 20, token1="0x" + "33" * 20, fee=3000)
    return PoolSource(chain, "uniswap_v2", info, "0x" + "22" * 20, "0x" + "33" * 20)


def test_a_cex_buy_is_sized_within_the_quote_held_on_its_venue_and_says_so() -> None:
    """The account holds 1,500 USDC at binance: the buy there is capped at what 1,500 USDC
    pays for, and the reason names the balance; with 1 USDC the pair is dropped for it."""
    free = evaluate(ArbKind.CEX_DEX, MARKET, cex_buy(), dex_sell(), now_ms=NOW)
    held = inventory_for(MARKET, BINANCE, pool("devnet-a", 1), {"binance": {"USDC": Decimal("1500.4"), "ETH": 0}})
    assert held == Inventory(quote_at_buy=1_500_400_000, asset_at_sell=None)  # a pool side is not limited here
    capped = evaluate(ArbKind.CEX_DEX, MARKET, cex_buy(), dex_sell(), now_ms=NOW, inventory=held)
    assert free.decision == capped.decision == "taken" and capped.size < free.size
    assert capped.buy is not None and capped.buy.quote <= 1_500_400_000
    assert "size held at the limit: 1500.4 USDC held at binance" in capped.reasons[0]

    broke = inventory_for(MARKET, BINANCE, pool("devnet-a", 1), {"binance": {"USDC": Decimal(1)}})
    dropped = evaluate(ArbKind.CEX_DEX, MARKET, cex_buy(), dex_sell(), now_ms=NOW, inventory=broke)
    assert dropped.decision == "dropped" and dropped.dropped_for == [DropReason.INVENTORY_LIMIT]
    assert dropped.reasons == [
        "inventory limit: 1 USDC held at binance allows less than the smallest tradable size 0.001 WETH"
    ]


def test_a_cex_sell_spends_the_base_held_on_its_venue_and_an_unread_venue_holds_nothing() -> None:
    held = inventory_for(MARKET, BINANCE, OKX, {"binance": {"USDC": Decimal(10**6)}, "okx": {"ETH": Decimal("0.25")}})
    assert held == Inventory(quote_at_buy=10**12, asset_at_sell=ETH // 4)
    assert inventory_for(MARKET, BINANCE, OKX, {}) == Inventory(quote_at_buy=0, asset_at_sell=0)
    assert inventory_for(MARKET, BINANCE, OKX, None) == Inventory()  # balances not read: not limited here


def test_a_pool_leg_spends_what_the_signer_holds_on_its_chain() -> None:
    """The pool buy spends the quote token its owner holds on that chain, the pool sell the
    asset token: a sale of more WETH than the signer holds is held at it, and says so."""
    a, b = pool("devnet-a", 1), pool("devnet-b", 2)
    chains = {"devnet-a": {a.quote_token: 5_000 * USDC}, "devnet-b": {b.asset_token: ETH // 2}}
    assert inventory_for(MARKET, a, b, None, chains) == Inventory(quote_at_buy=5_000 * USDC, asset_at_sell=ETH // 2)
    assert inventory_for(MARKET, BINANCE, b, None, {}) == Inventory(quote_at_buy=None, asset_at_sell=0)
    held = inventory_for(MARKET, BINANCE, pool("devnet-a", 1), None, {"devnet-a": {a.asset_token: ETH // 2}})
    opp = evaluate(ArbKind.CEX_DEX, MARKET, cex_buy(), dex_sell(), now_ms=NOW, inventory=held)
    assert opp.decision == "taken" and opp.size == ETH // 2
    assert "size held at the limit: 0.5 WETH held at devnet-a:uniswap_v2" in opp.reasons[0]


def legs(cheap_usdc: int, dear_usdc: int) -> tuple[ScanMarket, dict[Source, ArbLeg], dict[Source, ArbLeg]]:
    """A V2 pool on devnet-a pricing WETH at ``cheap_usdc``, one on devnet-b at ``dear_usdc``
    (1,000 WETH deep each), both sides of each."""
    a, b = pool("devnet-a", 1), pool("devnet-b", 2)
    market = ScanMarket(MARKET, (), (a, b))

    def leg(src: PoolSource, side: Side, usdc: int) -> ArbLeg:
        curve = v2_curve(side, 1_000 * ETH, usdc * 1_000 * USDC, 900 * ETH)
        return ArbLeg(src.venue, f"pool {src.chain}", curve, chain=src.chain, gas=GAS, block_number=5, head_block=5)

    buys: dict[Source, ArbLeg] = {a: leg(a, Side.BUY, cheap_usdc), b: leg(b, Side.BUY, dear_usdc)}
    sells: dict[Source, ArbLeg] = {a: leg(a, Side.SELL, cheap_usdc), b: leg(b, Side.SELL, dear_usdc)}
    return market, buys, sells


def scanner(volatility: Volatilities, clock: Callable[[], int] = lambda: NOW, min_profit: int = 0) -> Scanner:
    across = transfer_cost(bridge_offers(), 10 * ETH, RoutePreferences())  # 0.01 % fee, 60 s in flight
    transfers = TransferMode(lambda market, buy, sell: across, volatility, Decimal(1))
    none = cast(Any, None)
    return Scanner([], none, {}, none, lambda _: ArbPolicy(min_profit=min_profit), clock=clock, transfers=transfers)


def transfer_of(found: list[Any]) -> Any:
    pair = "buy devnet-a:uniswap_v2 pool devnet-a / sell devnet-b:uniswap_v2 pool devnet-b via bridge"
    [scanned] = [s for s in found if s.pair == pair]
    return scanned.opportunity


def test_a_cross_chain_pool_gap_beyond_bridge_and_risk_is_published_in_transfer_mode() -> None:
    """4 % between the chains' pools: bought on devnet-a, bridged, sold on devnet-b, taken,
    its price risk charged at the prior until the scanner has measured enough returns. The
    inventory-mode pair of the same pools is published beside it; a pair on one chain is not
    priced as a transfer."""
    found = scanner(Volatilities(prior=Decimal("0.0001"))).evaluate_all([legs(2_940, 3_060)])
    opp = transfer_of(found)
    assert opp.decision == "taken" and opp.mode is ArbMode.TRANSFER and opp.kind is ArbKind.DEX_DEX
    items = {i.name: i.amount for i in opp.items}
    assert items["bridge fee"] < 0 and items["price risk in flight"] < 0
    assert opp.reasons[1].startswith("bridge: across: ")
    assert "price risk at volatility 1 bp/sqrt s (prior: 0 of 10 returns seen), risk aversion 1" in opp.reasons[1]
    modes = sorted(str(s.opportunity.mode) for s in found)
    assert modes == ["inventory", "inventory", "transfer", "transfer"]  # both directions, both modes


def test_a_gap_the_bridge_and_the_price_risk_eat_is_dropped_saying_so() -> None:
    """1.5 % between the chains: the legs alone earn it, but at 20 bp per sqrt s over the
    bridge's 60 s the price risk takes more than the gap: dropped for the transfer's cost."""
    opp = transfer_of(scanner(Volatilities(prior=Decimal("0.002"))).evaluate_all([legs(2_940, 2_985)]))
    assert opp.decision == "dropped" and opp.dropped_for == [DropReason.TRANSFER_COST]
    assert opp.reasons[0].startswith("bridge fee and price risk exceed the gap: the gap earns ")
    assert " over 60 s in flight leave " in opp.reasons[0]
    # the same gap at a calm market's risk is worth taking
    calm = transfer_of(scanner(Volatilities(prior=Decimal("0.00001"))).evaluate_all([legs(2_940, 2_985)]))
    assert calm.decision == "taken", calm.reasons


def test_the_price_risk_is_charged_at_the_volatility_measured_from_the_mids_seen() -> None:
    """devnet-b's pool swings 0.1 % up and down every pass (2 s apart); once 10 returns are in,
    the pair is charged at that measured figure (the larger of its two pools'), not the prior."""
    now = [NOW]
    vol = Volatilities(half_life_s=30, min_returns=10, prior=Decimal("0.0001"))
    scan = scanner(vol, clock=lambda: now[0])
    for i in range(11):
        now[0] = NOW + 2_000 * i
        found = scan.evaluate_all([legs(2_940, 3_060 if i % 2 else 3_057)])
    opp = transfer_of(found)
    market = legs(2_940, 3_060)[0]
    sigma, how = vol.sigma(market, *market.pools)
    assert "measured" in how and Decimal("0.0006") < sigma < Decimal("0.0008")  # ln(3060/3057) / sqrt(2 s)
    assert opp.decision == "taken" and opp.buy is not None
    items = {i.name: i.amount for i in opp.items}
    # the asset's value as evaluate charges it: the size at the buy pool's pre-trade price
    assert -items["price risk in flight"] == PriceRisk(Decimal(1), sigma).cost(opp.buy.at_best, 60)
    assert f"price risk at {how}" in " ".join(opp.reasons)


def test_a_transfer_opportunity_started_by_the_scanner_runs_at_the_volatility_it_was_charged() -> None:
    """Auto-execution of a transfer-mode opportunity: the run's request is in transfer mode, at
    the scanner's risk aversion and the volatility it priced the gap at (not the request's
    default), so the run re-quotes each step as the scanner did."""
    found = scanner(Volatilities(prior=Decimal("0.00003"))).evaluate_all([legs(2_940, 3_060)])
    pair = "buy devnet-a:uniswap_v2 pool devnet-a / sell devnet-b:uniswap_v2 pool devnet-b via bridge"
    [scanned] = [s for s in found if s.pair == pair]
    assert scanned.volatility == Decimal("0.00003")
    terms = RunTerms(signer="0x" + "22" * 20, fees=FeePolicy(max_fee_per_gas_cap=10**11), risk_aversion=Decimal(3))
    request = ArbitrageRequest.model_validate(arbitrage_input(scanned, terms))
    assert request.mode is ArbMode.TRANSFER
    assert (request.volatility, request.risk_aversion) == (Decimal("0.00003"), Decimal(3))
    inventory = [s for s in found if s.opportunity.mode is ArbMode.INVENTORY]
    assert inventory and all(s.volatility is None for s in inventory)
