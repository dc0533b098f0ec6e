"""``arb_quote``'s arithmetic over priced legs (the venues and chains stubbed at ``_price``
and ``_bridge_cost``): profit = sale - buy - gas (- the bridge's fee at the asset's price and
the price risk in transfer mode), the slack above the floor split into the legs' limits, an
inventory shortfall refusing the run with what is held, and transfer mode's later phases
pricing only what is still to do."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from temporalio.testing import ActivityEnvironment

from activities import arbitrage
from activities.arbitrage import ArbActivities
from activities.runtime import ChainRuntime
from crosslane.domain.arb_steps import ArbitrageRequest, ArbQuoteInput, ArbRiskLimits, LegName, Shortfall
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
