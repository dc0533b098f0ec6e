"""Transfer mode on Temporal's time-skipping server: buy WETH on devnet-a, bridge it, sell it
on devnet-b, re-quoting before every step. The quote is mocked under its real activity name
per phase; the swaps and the bridge are stub children (``DexSwap`` fills at set prices,
``BridgeTransfer`` delivers less 0.1 % or is refunded); admission and the realised P&L go
through the real ledger (SQLite).

completed (P&L = fills, bridge fee and gas; the asset nets to zero on each chain), the quote
bridged over first when the buy is short, sold back on the buy chain when the sale no longer
covers the buy before the bridge or when the bridge refunds, and bad input refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pydantic import ValidationError
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.runtime import ChainRuntime
from crosslane.domain.arb_steps import (
    ArbActivity,
    ArbitrageRequest,
    ArbOutcome,
    ArbQuote,
    ArbQuoteInput,
    ArbResult,
    ArbRiskLimits,
    ArbStatus,
    ArbVenue,
    LegName,
    LegQuote,
    LegState,
    Shortfall,
)
from crosslane.ledger import Ledger
from crosslane.ledger.arbitrage import ArbBook
from tests.support.arb_stubs import DeliveringBridge, FillingDexSwap, RefundingBridge, ShortDeliveringBridge
from tests.unit.test_arbitrage_workflow import LedgerOnly
from workers.orchestrator import workflow_runner
from workflows.arbitrage import Arbitrage

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
A = ArbVenue(venue="uniswap_v3", chain="devnet-a")
B = ArbVenue(venue="uniswap_v3", chain="devnet-b")
GAS = Decimal("0.0001") * 3000  # each stub swap: 100k gas at 1 gwei, the native coin at 3000 USDC


@dataclass
class TransferQuotes:
    """The sale's price per phase (USDC per WETH on devnet-b); the first plan may find the
    buy short of USDC. Every phase asked is recorded with the size it priced."""

    sell_price: dict[str, Decimal] = field(default_factory=dict)  # absent: 3030
    short_first: bool = False
    asked: list[tuple[str, Decimal]] = field(default_factory=list)

    def activity(self) -> Any:
        quotes = self

        @activity.defn(name=ArbActivity.QUOTE)
        async def arb_quote(inp: ArbQuoteInput) -> ArbQuote:
            size = inp.size or inp.request.size
            quotes.asked.append((inp.phase, size))
            sell = quotes.sell_price.get(inp.phase, Decimal(3030)) * size
            buy = Decimal(0) if inp.phase in ("bridge", "sell") else Decimal(3000) * size
            profit = sell - buy - Decimal(3) - Decimal(1)  # the bridge's 0.001 WETH, the price risk
            short = None
            if quotes.short_first and not any(p == "plan" for p, _ in quotes.asked[:-1]):
                short = Shortfall(leg=LegName.BUY, chain="devnet-a", token="USDC", held=Decimal(1000), needed=buy)
            floor = inp.request.min_profit
            return ArbQuote(
                buy=LegQuote(leg=LegName.BUY, venue=A, expected=buy, limit=buy + 2, slippage_bps=10),
                sell=LegQuote(leg=LegName.SELL, venue=B, expected=sell, limit=sell - 2, slippage_bps=10),
                expected_profit=profit,
                viable=short is None and profit >= floor,
                reason=f"expected {profit} USDC" if short is None else short.describe(SIGNER),
                price=Decimal(3000),
                native_price={"devnet-a": Decimal(3000), "devnet-b": Decimal(3000)},
                asset_decimals={"devnet-a": 18, "devnet-b": 18},
                quote_decimals={"devnet-a": 6, "devnet-b": 6},
                shortfall=short,
                bridge_route="across",
                bridge_fee=Decimal("0.001") * size,
                bridge_seconds=60,
                price_risk=Decimal(1),
            )

        return arb_quote


def transfer_request(**kw: Any) -> ArbitrageRequest:
    fields: dict[str, Any] = {
        "request_id": uuid.uuid4().hex[:16],
        "mode": "transfer",
        "asset": "WETH",
        "quote": "USDC",
        "size": "1",
        "buy": A,
        "sell": B,
        "min_profit": "5",
        "max_loss": "20",
        "signer": SIGNER,
        "fees": {"max_fee_per_gas_cap": 10**11},
    }
    fields.update(kw)
    return ArbitrageRequest.model_validate(fields)


async def run(
    env: WorkflowEnvironment, quotes: TransferQuotes, ledger: Ledger, bridge: type, req: ArbitrageRequest
) -> ArbResult:
    queue = uuid.uuid4().hex
    real = LedgerOnly(cast(ChainRuntime, SimpleNamespace(ledger=ledger)), ArbRiskLimits())
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[Arbitrage, FillingDexSwap, bridge],
        activities=[real.arb_admit, real.arb_finish, real.arb_leg_gas, quotes.activity()],
        workflow_runner=workflow_runner(),
    ):
        handle = await env.client.start_workflow(
            "Arbitrage", req, id=req.workflow_id, task_queue=queue, result_type=ArbResult
        )
        result = await handle.result()
        status = await handle.query("status", result_type=ArbStatus)
        assert status.legs == {str(leg.leg): leg.state for leg in result.legs}
        return result


def net(result: ArbResult) -> dict[tuple[str, str], Decimal]:
    return {(c.place, c.currency): c.amount for c in result.changes}


async def test_bought_bridged_and_sold_pnl_is_fills_bridge_fee_and_gas(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    quotes = TransferQuotes()
    result = await run(env, quotes, ledger, DeliveringBridge, transfer_request())
    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    assert [leg.leg for leg in result.legs] == [LegName.BUY, LegName.BRIDGE, LegName.SELL]
    # re-quoted before every step: the sale priced for what the bridge delivered
    assert [p for p, _ in quotes.asked] == ["plan", "recheck", "bridge", "sell"]
    assert quotes.asked[-1][1] == Decimal("0.999")
    moved = net(result)
    assert ("devnet-a", "WETH") not in moved and ("devnet-b", "WETH") not in moved  # bought, bridged, sold
    assert moved[("devnet-a", "USDC")] == Decimal(-3000)
    assert moved[("devnet-b", "USDC")] == Decimal("0.999") * 3030
    assert moved[("devnet-a", "native")] == moved[("devnet-b", "native")] == Decimal("-0.0001")
    # the bridge's 0.001 WETH fee is in the sale's smaller size
    assert result.realised_profit == Decimal("0.999") * 3030 - 3000 - 2 * GAS
    [row] = ArbBook(ledger).runs()
    assert row.state == "completed" and {leg["leg"] for leg in row.legs} == {"buy", "bridge", "sell"}


async def test_a_buy_short_of_quote_is_rebalanced_over_the_bridge_first(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    quotes = TransferQuotes(short_first=True)
    result = await run(env, quotes, ledger, DeliveringBridge, transfer_request())
    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    assert [leg.leg for leg in result.legs] == [LegName.REBALANCE, LegName.BUY, LegName.BRIDGE, LegName.SELL]
    [rebalance] = [leg for leg in result.legs if leg.leg is LegName.REBALANCE]
    # 2000 USDC missing, 1 % more sent for the bridge's fee; the fee it kept is a cost of the run
    assert rebalance.changes[0].place == "devnet-b" and rebalance.changes[0].amount == Decimal(-2020)
    assert rebalance.quote_delta == Decimal("-2.02")
    assert result.realised_profit == Decimal("0.999") * 3030 - 3000 - 2 * GAS - Decimal("2.02")
    assert [p for p, _ in quotes.asked][:2] == ["plan", "plan"]  # priced again once rebalanced


async def test_a_gap_closed_before_the_bridge_is_sold_back_on_the_buy_chain_within_the_bound(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    quotes = TransferQuotes(sell_price={"bridge": Decimal(2900)})
    req = transfer_request()
    result = await run(env, quotes, ledger, DeliveringBridge, req)
    assert result.outcome is ArbOutcome.COMPENSATED, result.reason
    assert "the sale no longer covers the buy" in result.reason
    states = {leg.leg: leg.state for leg in result.legs}
    assert states == {LegName.BUY: LegState.FILLED, LegName.UNWIND: LegState.FILLED}  # nothing bridged
    [unwind] = [leg for leg in result.legs if leg.leg is LegName.UNWIND]
    assert unwind.venue == "devnet-a:uniswap_v3" and unwind.asset_delta == -1
    assert result.realised_profit == 2990 - 3000 - 2 * GAS
    assert -req.max_loss <= result.realised_profit < 0


async def test_a_refunded_bridge_is_sold_back_on_the_buy_chain(env: WorkflowEnvironment, ledger: Ledger) -> None:
    result = await run(env, TransferQuotes(), ledger, RefundingBridge, transfer_request())
    assert result.outcome is ArbOutcome.COMPENSATED, result.reason
    assert "bridge failed" in result.reason and "refunded" in result.reason
    assert [leg.leg for leg in result.legs] == [LegName.BUY, LegName.BRIDGE, LegName.UNWIND]
    assert ("devnet-a", "WETH") not in net(result) and ("devnet-b", "WETH") not in net(result)
    assert result.realised_profit == 2990 - 3000 - 2 * GAS


async def test_a_bridge_that_took_the_deposit_but_did_not_deliver_is_left_for_an_operator(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    """No sale back on the buy chain: the asset left it with the deposit."""
    result = await run(env, TransferQuotes(), ledger, ShortDeliveringBridge, transfer_request())
    assert result.outcome is ArbOutcome.COMPENSATED, result.reason
    assert [leg.leg for leg in result.legs] == [LegName.BUY, LegName.BRIDGE]
    assert "DeliveryShortfall" in result.reason and "deposited into the bridge" in result.reason
    assert "for an operator" in result.reason


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sell": {"venue": "cex", "symbol": "ETH/USDT"}}, "transfer mode buys on one chain's DEX"),
        ({"sell": {"venue": "uniswap_v2", "chain": "devnet-a"}}, "sells on another chain's DEX"),
        ({"volatility": "-0.1"}, "volatility"),
        ({"bridge_route": "teleport"}, "bridge_route"),
    ],
    ids=["cex-leg", "same-chain", "negative-volatility", "unknown-route"],
)
def test_bad_transfer_requests_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        transfer_request(**changes)
