"""``arb_quote``'s arithmetic over priced legs (the venues and chains stubbed at ``_price``
and ``_bridge_cost``): profit = sale - buy - gas (- the bridge's fee at the asset's price and
the price risk in transfer mode), the slack above the floor split into the legs' limits, an
inventory shortfall (on a chain or a CEX venue) refusing the run with what is held, and transfer mode's later phases
pricing only what is still to do."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from temporalio.testing import ActivityEnvironment

from activities import arbitrage
from activities.arbitrage import ArbActivities
from activities.runtime import ChainRuntime
from crosslane.domain.arb_steps import ArbitrageRequest, ArbQuoteInput, ArbRiskLimits, LegName, Shortfall
from crosslane.fastpath.protocol import QuoteView, VenueBalanceView, VenueQuoteView
from crosslane.routing.side import Side

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def request(**kw: Any) -> ArbitrageRequest:
    fields: dict[str, Any] = {
        "request_id": "q1", "asset": "WETH", "quote": "USDC", "size": "2",
        "buy": {"venue": "cex", "symbol": "ETH/USDT"}, "sell": {"venue": "uniswap_v3", "chain": "devnet-a"},
        "min_profit": "10", "signer": SIGNER, "fees": {"max_fee_per_gas_cap": 10**11},
    }  # fmt: skip
    return ArbitrageRequest.model_validate({**fields, **kw})


class Priced(ArbActivities):
    """Legs priced from a table; every leg asked is recorded with its size."""

    def __init__(self, legs: dict[Side, Any], bridge: Any = None) -> None:
        super().__init__(cast(ChainRuntime, SimpleNamespace(ledger=None)), ArbRiskLimits())
        self.legs, self.bridge, self.asked = legs, bridge, []

    async def _price(
        self, request: Any, venue: Any, side: Side, size: Decimal, places: Any, *, check: bool = True, known: Any = None
    ) -> Any:  # type: ignore[override]
        self.asked.append((side, size, check))
        places[0][venue.chain or "cex"] = Decimal(3000)
        places[1][venue.chain or "cex"] = 18
        return self.legs[side]

    async def _bridge_cost(self, request: Any, size: Decimal, decimals: int, price: Decimal) -> Any:  # type: ignore[override]
        return self.bridge


def priced(amount: str, gas: str = "0", fee_rate: str = "0", shortfall: Shortfall | None = None) -> Any:
    return arbitrage._Priced(Decimal(amount), Decimal(gas), Decimal(fee_rate), shortfall=shortfall)


async def quote(activities: ArbActivities, req: ArbitrageRequest, phase: str = "plan", size: str | None = None) -> Any:
    inp = ArbQuoteInput(workflow_id=req.workflow_id, request=req, phase=phase, size=size)  # type: ignore[arg-type]
    return await ActivityEnvironment().run(activities.arb_quote, inp)


async def test_profit_is_sale_less_buy_less_gas_and_the_slack_becomes_the_limits() -> None:
    legs = Priced({Side.BUY: priced("6006", fee_rate="0.001"), Side.SELL: priced("6060", gas="4")})
    q = await quote(legs, request())
    assert q.viable and q.expected_profit == Decimal(50)  # 6060 - 6006 - 4
    # 40 above the floor of 10: 20 each way
    assert q.buy.limit == Decimal(6026) and q.sell.limit == Decimal(6040)
    assert q.buy.limit_price == Decimal("3009.99")  # 6026 / 2 / 1.001, on the tick, rounded down
    assert q.sell.slippage_bps == 33  # 20 of 6060, rounded down
    assert q.price == Decimal("3016.5")


async def test_below_the_floor_is_not_viable_and_says_by_how_much() -> None:
    legs = Priced({Side.BUY: priced("6006"), Side.SELL: priced("6012", gas="4")})
    q = await quote(legs, request())
    assert not q.viable and q.expected_profit == Decimal(2)
    assert "is below the minimum profit 10 USDC" in q.reason


async def test_an_inventory_shortfall_refuses_with_what_is_held() -> None:
    short = Shortfall(leg=LegName.SELL, chain="devnet-a", token="WETH", held=Decimal("0.2"), needed=Decimal(2))
    legs = Priced({Side.BUY: priced("6006"), Side.SELL: priced("0", shortfall=short)})
    q = await quote(legs, request())
    assert not q.viable and q.shortfall == short
    assert q.reason == f"inventory: {SIGNER} holds 0.2 WETH on devnet-a, the sell leg needs 2"


@pytest.mark.parametrize("phase", ["plan", "bridge", "sell"])
async def test_transfer_mode_charges_bridge_and_risk_and_later_phases_price_what_is_left(phase: str) -> None:
    bridge = arbitrage._Bridged(route="across", fee=Decimal("0.002"), seconds=60, risk=Decimal("1.5"))
    legs = Priced({Side.BUY: priced("6006"), Side.SELL: priced("6080", gas="4")}, bridge)
    req = request(mode="transfer", buy={"venue": "uniswap_v3", "chain": "devnet-b"})
    q = await quote(legs, req, phase, size="1.998" if phase == "sell" else None)
    if phase == "plan":  # both legs, the bridge's 0.002 WETH at 3021.5 and the risk
        assert [side for side, _, _ in legs.asked] == [Side.BUY, Side.SELL]
        assert q.expected_profit == Decimal(6080) - 6006 - 4 - Decimal("0.002") * Decimal("3021.5") - Decimal("1.5")
        assert q.bridge_route == "across" and q.bridge_seconds == 60 and q.price_risk == Decimal("1.5")
        assert [check for _, _, check in legs.asked] == [True, False]  # the asset is not on the sell chain yet
    elif phase == "bridge":  # bought already: the sale and the bridge only
        assert [side for side, _, _ in legs.asked] == [Side.SELL]
        assert q.expected_profit == Decimal(6080) - 4 - Decimal("0.002") * 3040 - Decimal("1.5")
    else:  # what arrived, its inventory checked, no bridge left to pay
        assert legs.asked == [(Side.SELL, Decimal("1.998"), True)]
        assert q.expected_profit == Decimal(6076) and q.bridge_fee == 0


class Balances:
    """A fast path answering fixed free balances per venue (a venue left out did not answer)."""

    def __init__(self, free: dict[str, dict[str, str]]) -> None:
        self.free = free

    async def balances(self, currencies: list[str]) -> list[Any]:
        return [
            VenueBalanceView(venue=v, free={c: Decimal(held.get(c, "0")) for c in currencies})
            for v, held in self.free.items()
        ]


def cex_view(side: Side, *slices: tuple[str, str, str, str]) -> QuoteView:
    legs = [VenueQuoteView(venue=v, qty=Decimal(q), avg_price=Decimal(p), fee=Decimal(f)) for v, q, p, f in slices]
    qty = sum((leg.qty for leg in legs), Decimal(0))
    notional = sum((leg.qty * leg.avg_price for leg in legs), Decimal(0))
    fees = sum((leg.fee for leg in legs), Decimal(0))
    return QuoteView(
        symbol="ETH/USDT", side=side, qty=qty, filled_qty=qty, avg_price=None, avg_price_with_fees=None,
        notional=notional, fees=fees, legs=legs,
    )  # fmt: skip


async def test_a_cex_leg_spends_what_each_venue_holds_quote_to_buy_base_to_sell() -> None:
    """A CEX buy needs its quote currency (fees included) on every venue its slices go to, a
    sell its base: the first venue short of it is the shortfall, named as the account's."""
    buy = cex_view(Side.BUY, ("binance", "1", "3000", "3"), ("okx", "1", "3001", "3.001"))
    fp = cast(Any, Balances({"binance": {"USDT": "5000"}, "okx": {"USDT": "2000", "ETH": "9"}}))
    short = await arbitrage.cex_shortfall(fp, "ETH/USDT", Side.BUY, buy.legs)
    assert short == Shortfall(
        leg=LegName.BUY, chain="cex:okx", token="USDT", held=Decimal(2000), needed=Decimal("3004.001")
    )
    assert short.describe(SIGNER) == "inventory: the account holds 2000 USDT on cex:okx, the buy leg needs 3004.001"
    covered = cast(Any, Balances({"binance": {"USDT": "3003"}, "okx": {"USDT": "3004.001"}}))
    assert await arbitrage.cex_shortfall(covered, "ETH/USDT", Side.BUY, buy.legs) is None
    sell = cex_view(Side.SELL, ("binance", "0.5", "3000", "1.5"))
    assert await arbitrage.cex_shortfall(fp, "ETH/USDT", Side.SELL, sell.legs) == Shortfall(
        leg=LegName.SELL, chain="cex:binance", token="ETH", held=Decimal(0), needed=Decimal("0.5")
    )
    unanswered = cast(Any, Balances({}))  # a venue whose balance cannot be read holds nothing
    assert (await arbitrage.cex_shortfall(unanswered, "ETH/USDT", Side.SELL, sell.legs)) is not None


async def test_the_cex_balances_are_read_when_the_run_plans_not_on_the_recheck_before_the_legs() -> None:
    """A REST call per venue: once per run, at the plan; the recheck right before the legs
    only re-prices (it stays on the fast path's books)."""
    short = Shortfall(leg=LegName.BUY, chain="cex:okx", token="USDT", held=Decimal(100), needed=Decimal(6006))

    class Covered(Priced):
        async def _cex_covered(self, venue: Any, side: Side, priced: Any) -> Any:  # type: ignore[override]
            self.asked.append(("balances", side, venue.is_cex))
            return replace(priced, shortfall=short) if venue.is_cex else priced

    legs = Covered({Side.BUY: priced("6006"), Side.SELL: priced("6060")})
    planned = await quote(legs, request())
    assert ("balances", Side.BUY, True) in legs.asked
    assert (
        not planned.viable
        and planned.reason == "inventory: the account holds 100 USDT on cex:okx, the buy leg needs 6006"
    )
    legs.asked.clear()
    rechecked = await quote(legs, request(), "recheck")
    assert rechecked.viable and not any(a[0] == "balances" for a in legs.asked)
