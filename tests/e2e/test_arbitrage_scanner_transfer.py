"""The scanner's transfer mode on the devnet's real bridges: pools of one market on two chains
are priced as buy -> bridge -> sell with the route the bridge selector takes (quoted on the
real Across and Wormhole deployments) and the price risk at the volatility the scanner
measured from the pools' mid prices; each such pair is published beside its inventory-mode
pair, with its bridge fee and price risk itemised."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crosslane.arbitrage import ArbMode
from crosslane.arbitrage_stream import ScannedOpportunity, opportunities
from crosslane.registry import load_registry
from tests.support.stack import Stack
from workers.scanner.service import ScannerConfig, ScannerService

pytestmark = pytest.mark.timeout(180)


async def test_pools_on_two_chains_are_priced_through_the_bridge_the_selector_takes(bridge_stack: Stack) -> None:
    registry = load_registry(bridge_stack.sandbox.registry_path)
    config = ScannerConfig(
        markets=["WBTC/WETH"], stream="127.0.0.1:0", interval_s=0.5, block_poll_s=0.5, bridge_poll_s=2,
        max_size=Decimal(1), vol_min_returns=3, vol_half_life_s=10,
    )  # fmt: skip
    service = ScannerService(registry, config)
    await service.start()
    found: ScannedOpportunity | None = None
    try:
        async for scanned in opportunities(service.stream.address):
            opp = scanned.opportunity
            if opp.mode is ArbMode.TRANSFER and any(i.name == "bridge fee" and i.amount < 0 for i in opp.items):
                found = scanned
                break
    finally:
        await service.stop()
    assert found is not None and found.pair.endswith(" via bridge")
    opp = found.opportunity
    assert opp.buy is not None and opp.sell is not None and opp.buy.chain != opp.sell.chain
    assert service.bridges is not None
    cost = service.bridges.costs[("WBTC", opp.buy.chain, opp.sell.chain)]
    assert cost.bridge is not None and cost.bridge.seconds > 0, cost.reason
    items = {i.name: i.amount for i in opp.items}
    assert items["price risk in flight"] <= 0 and sum(items.values()) == opp.net_profit
    reasons = " ".join(opp.reasons)
    print(found.pair, opp.decision, opp.reasons)
    assert (opp.decision == "taken" and "price risk at volatility" in reasons) or opp.dropped_for, reasons
