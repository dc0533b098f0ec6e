"""The Temporal run starter: one ``Arbitrage`` workflow per request, started by type name with
the plain input dict (no worker needed to see it was started as asked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.client import Client

from crosslane.arbitrage import ArbKind, ArbLeg, ArbMarket, ArbMode, BookCurve, evaluate
from crosslane.arbitrage_runs import RunTerms, TemporalRunStarter, arbitrage_input
from crosslane.arbitrage_stream import ScannedOpportunity
from crosslane.converter import data_converter
from crosslane.domain.arb_steps import ArbitrageRequest, ArbQuote, ArbVenue, LegName, LegQuote
from crosslane.domain.tx import FeePolicy
from crosslane.embedded.processes import stop_pid
from crosslane.routing import SymbolScale, VenueBook, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.side import Side
from devnet.sandbox import temporal_on_free_ports

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def temporal(tmp_path: Path) -> AsyncIterator[Client]:
    server, port = await temporal_on_free_ports(tmp_path)
    try:
        yield await Client.connect(f"127.0.0.1:{port}", data_converter=data_converter)
    finally:
        stop_pid(server.pid)


def scanned() -> ScannedOpportunity:
    rules = VenueMarket(
        "v",
        VenueCosts(taker_bps=Decimal(0)),
        VenuePrecision(Decimal("0.01"), Decimal("0.0001")),
    )
    legs = []
    for venue, price, side in (("a", "2900", Side.BUY), ("b", "3000", Side.SELL)):
        book = VenueBook(venue, SymbolScale("ETH/USDC", 2, 4))
        book.replace_text([(price, "1")], [(price, "1")], update_id=1, ts_ms=1)
        curve = BookCurve.from_book(book, side, rules, asset_decimals=18, quote_decimals=6)
        legs.append(ArbLeg(venue, "ETH/USDC", curve, book_ts_ms=1))
    opp = evaluate(ArbKind.CEX_CEX, ArbMarket("WETH", "USDC", 18, 6), legs[0], legs[1], now_ms=1)
    return ScannedOpportunity(seq=1, pair="buy a ETH/USDC / sell b ETH/USDC", market="WETH/USDC", opportunity=opp)


async def test_a_request_starts_one_arbitrage_workflow_with_its_plain_input(temporal: Client) -> None:
    starter = TemporalRunStarter(temporal, "arb-test")
    request = arbitrage_input(scanned(), RunTerms(min_profit=Decimal(5)))
    first = await starter.start(request)
    again = await starter.start(request)
    assert first == again == f"arb-{request['request_id']}"
    description = await temporal.get_workflow_handle(first).describe()
    assert description.workflow_type == "Arbitrage" and description.task_queue == "arb-test"
    history = await temporal.get_workflow_handle(first).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (payload,) = await data_converter.decode(started.input.payloads)
    arb = ArbitrageRequest.model_validate(payload)
    assert arb == ArbitrageRequest.model_validate(request)
    assert (arb.size, arb.min_profit, arb.kind) == (Decimal(1), Decimal(5), ArbKind.CEX_CEX)
    count = [w async for w in temporal.list_workflows(f"WorkflowId = '{first}'")]
    assert len(count) == 1


class RecordingLane:
    """A fast lane that 'sends' by marking the request sent at a fixed quote, and counts calls."""

    def __init__(self, quote: ArbQuote) -> None:
        self.quote, self.calls = quote, 0

    async def send(self, request: ArbitrageRequest) -> ArbitrageRequest:
        self.calls += 1
        return request.model_copy(update={"sent_first": self.quote})


async def test_with_a_fast_lane_the_legs_are_sent_first_and_the_run_starts_with_them(temporal: Client) -> None:
    """Auto-execution through the fast lane: the lane sends, the run's input carries what it sent."""
    request = arbitrage_input(scanned(), RunTerms(min_profit=Decimal(5)))
    arb = ArbitrageRequest.model_validate(request)
    leg = LegQuote(leg=LegName.BUY, venue=arb.buy, expected=Decimal(2900), limit=Decimal(2902))
    sold = LegQuote(leg=LegName.SELL, venue=arb.sell, expected=Decimal(3000), limit=Decimal(2998))
    quote = ArbQuote(buy=leg, sell=sold, expected_profit=Decimal(100), viable=True, reason="test", price=Decimal(2950))
    lane = RecordingLane(quote)
    started = await TemporalRunStarter(temporal, "arb-test", lane).start(request)
    assert started == arb.workflow_id and lane.calls == 1
    history = await temporal.get_workflow_handle(started).fetch_history()
    attrs = history.events[0].workflow_execution_started_event_attributes
    (payload,) = await data_converter.decode(attrs.input.payloads)
    assert ArbitrageRequest.model_validate(payload).sent_first == quote


async def test_a_transfer_mode_run_is_started_plainly_even_with_a_fast_lane(temporal: Client) -> None:
    """The lane sends both legs at once from inventory; a transfer run buys, bridges, then sells,
    each step re-quoted after the last: the lane is not asked, the run starts without legs."""
    arb = ArbitrageRequest.model_validate(arbitrage_input(scanned(), RunTerms(min_profit=Decimal(5)))).model_copy(
        update={
            "mode": ArbMode.TRANSFER,
            "buy": ArbVenue(venue="uniswap_v3", chain="devnet-a"),
            "sell": ArbVenue(venue="uniswap_v3", chain="devnet-b"),
            "signer": "0x" + "11" * 20,
            "fees": FeePolicy(max_fee_per_gas_cap=10**11),
        }
    )
    request = ArbitrageRequest.model_validate(arb.model_dump(mode="json")).model_dump(mode="json")
    lane = RecordingLane(None)  # type: ignore[arg-type]
    started = await TemporalRunStarter(temporal, "arb-test", lane).start(request)
    assert started == arb.workflow_id and lane.calls == 0
    history = await temporal.get_workflow_handle(started).fetch_history()
    attrs = history.events[0].workflow_execution_started_event_attributes
    (payload,) = await data_converter.decode(attrs.input.payloads)
    run = ArbitrageRequest.model_validate(payload)
    assert run.mode is ArbMode.TRANSFER and run.sent_first is None
