"""The Arbitrage saga's branches on Temporal's time-skipping server: the quote and the CEX
legs are mocked under their real activity names (a DEX leg is a stub ``DexSwap`` child);
admission and the realised P&L go through the real ledger (SQLite) and risk controls.

completed (P&L = the fills' sum), aborted when the re-check finds the gap closed (no leg
sent), compensated within the bound when a DEX leg reverts after the CEX leg filled,
refused by the kill switch after a day's loss, and every leg id derived from the run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.arbitrage import ArbActivities
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
)
from crosslane.domain.cex import CexExecuteInput, CexExecution, CexFill
from crosslane.ledger import Ledger
from crosslane.ledger.arbitrage import ArbBook
from crosslane.routing.side import Side
from tests.support.arb_stubs import RevertingDexSwap
from workers.orchestrator import workflow_runner
from workflows.arbitrage import Arbitrage

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CEX = ArbVenue(venue="cex", symbol="ETH/USDT")
DEX = ArbVenue(venue="uniswap_v3", chain="devnet-a")


def leg_quote(leg: LegName, venue: ArbVenue, expected: str, limit: str) -> LegQuote:
    return LegQuote(leg=leg, venue=venue, expected=Decimal(expected), limit=Decimal(limit), limit_price=Decimal("3000"))


@dataclass
class FakeMarket:
    """Quotes per phase; CEX fills at the given prices (fee in the quote currency); a DEX
    swap that reverts or fills. Every order and swap sent is recorded."""

    profits: dict[str, str] = field(default_factory=lambda: {"plan": "10", "recheck": "10"})
    cex_price: dict[str, Decimal] = field(default_factory=dict)  # step -> fill price (absent: fills at 3000)
    cex_fail: set[str] = field(default_factory=set)
    cex_filled: dict[str, Decimal] = field(default_factory=dict)  # step -> qty filled (the rest cancelled)
    quote_error: str | None = None
    cex_step: Decimal | None = None  # the fast path's finest quantity, as arb_quote tells it
    fee_in_asset: set[str] = field(default_factory=set)  # steps whose fee is taken in the asset (a Binance buy)
    orders: list[str] = field(default_factory=list)
    sent: list[CexExecuteInput] = field(default_factory=list)  # every CEX order as asked
    swaps: list[str] = field(default_factory=list)

    def activities(self) -> list[Any]:
        market = self

        @activity.defn(name=ArbActivity.QUOTE)
        async def arb_quote(inp: ArbQuoteInput) -> ArbQuote:
            if market.quote_error:
                raise ApplicationError(market.quote_error, type="InvalidRequest", non_retryable=True)
            profit = Decimal(market.profits[inp.phase])
            floor = inp.request.min_profit
            return ArbQuote(
                buy=leg_quote(LegName.BUY, inp.request.buy, "3000", "3002"),
                sell=leg_quote(LegName.SELL, inp.request.sell, str(3000 + profit), "3008"),
                expected_profit=profit,
                viable=profit >= floor,
                reason=f"expected {profit} USDT, floor {floor}",
                price=Decimal(3000),
                cex_fee_rate=Decimal("0.001"),
                cex_step=market.cex_step,
            )

        @activity.defn(name="cex_execute")
        async def cex_execute(inp: CexExecuteInput) -> CexExecution:
            parent = f"{activity.info().workflow_id}/{inp.step}"
            market.orders.append(parent)
            market.sent.append(inp)
            if inp.step in market.cex_fail:
                raise ApplicationError(f"nothing routable for {inp.side} {inp.qty}", type="InvalidRequest")
            price = market.cex_price.get(inp.step, Decimal(3000))
            filled = market.cex_filled.get(inp.step, inp.qty)
            fee = (price * filled * Decimal("0.001")).quantize(Decimal("0.000001"))
            currency = "USDT"
            if inp.step in market.fee_in_asset:
                fee, currency = (filled * Decimal("0.0012345")).normalize(), inp.symbol.split("/")[0]
            child = CexFill(
                venue="binance", client_order_id=f"c-{inp.step}", venue_order_id="1",
                state="filled" if filled == inp.qty else "cancelled",
                qty=inp.qty, filled=filled, avg_price=price, fee=fee, fee_currency=currency,
            )  # fmt: skip
            return CexExecution(
                parent_id=parent, symbol=inp.symbol, side=inp.side, qty=inp.qty, filled=filled,
                avg_price=price, children=[child],
            )  # fmt: skip

        return [arb_quote, cex_execute]


class LedgerOnly(ArbActivities):
    """The real admission and finish over the ledger; no chain registry to check names against."""

    async def _check(self, request: ArbitrageRequest) -> None:
        return None


def request(**kw: Any) -> ArbitrageRequest:
    fields: dict[str, Any] = {
        "request_id": uuid.uuid4().hex[:16],
        "asset": "ETH",
        "quote": "USDT",
        "size": "1",
        "buy": CEX,
        "sell": ArbVenue(venue="cex", symbol="ETH/USDC"),
        "min_profit": "5",
        "max_loss": "20",
    }
    fields.update(kw)
    return ArbitrageRequest.model_validate(fields)


async def run(
    env: WorkflowEnvironment, market: FakeMarket, ledger: Ledger, req: ArbitrageRequest, limits: ArbRiskLimits
) -> ArbResult:
    queue = uuid.uuid4().hex
    real = LedgerOnly(cast(ChainRuntime, SimpleNamespace(ledger=ledger)), limits)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[Arbitrage, RevertingDexSwap],
        activities=[real.arb_admit, real.arb_finish, real.arb_leg_gas, *market.activities()],
        workflow_runner=workflow_runner(),
    ):
        handle = await env.client.start_workflow(
            "Arbitrage", req, id=req.workflow_id, task_queue=queue, result_type=ArbResult
        )
        result = await handle.result()
        status = await handle.query("status", result_type=ArbStatus)  # the leg-by-leg sub-state
        assert status.legs == {str(leg.leg): leg.state for leg in result.legs}
        assert status.state == str(result.outcome) and status.request_id == req.request_id
        return result


async def test_both_legs_fill_and_pnl_is_the_sum_of_fills_and_fees(env: WorkflowEnvironment, ledger: Ledger) -> None:
    market = FakeMarket(cex_price={"sell": Decimal(3010)})
    req = request()
    result = await run(env, market, ledger, req, ArbRiskLimits())
    assert result.outcome is ArbOutcome.COMPLETED, result.reason
    # bought 1 ETH at 3000 + 3 fee, sold at 3010 - 3.01 fee
    assert result.realised_profit == Decimal("3010") - Decimal("3.01") - Decimal("3000") - Decimal("3")
    assert sorted(market.orders) == [f"{req.workflow_id}/buy", f"{req.workflow_id}/sell"]
    usdt = sum(c.amount for c in result.changes if c.currency in ("USDT", "USDC"))
    assert usdt == result.realised_profit
    assert sum(c.amount for c in result.changes if c.currency == "ETH") == 0
    [run_row] = ArbBook(ledger).runs()
    assert run_row.state == "completed" and run_row.realised_profit == result.realised_profit
    assert {leg["leg"] for leg in run_row.legs} == {"buy", "sell"}


async def test_gap_closed_at_the_recheck_aborts_with_nothing_sent(env: WorkflowEnvironment, ledger: Ledger) -> None:
    market = FakeMarket(profits={"plan": "10", "recheck": "1"})
    result = await run(env, market, ledger, request(), ArbRiskLimits())
    assert result.outcome is ArbOutcome.ABORTED
    assert "profit floor not met" in result.reason, result.reason
    assert market.orders == [] and result.realised_profit == 0
    assert ArbBook(ledger).runs()[0].state == "aborted"


async def test_dex_leg_reverts_after_the_cex_leg_filled_is_unwound_within_the_bound(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    market = FakeMarket(cex_price={"unwind": Decimal(2990)})
    req = request(sell=DEX, signer=SIGNER, fees={"max_fee_per_gas_cap": 10**11}, max_loss="25")
    result = await run(env, market, ledger, req, ArbRiskLimits())
    assert result.outcome is ArbOutcome.COMPENSATED, result.reason
    states = {leg.leg: leg.state for leg in result.legs}
    assert states == {LegName.BUY: LegState.FILLED, LegName.SELL: LegState.FAILED, LegName.UNWIND: LegState.FILLED}
    assert "SlippageExceeded" in result.reason
    # bought at 3000 + 3, sold back at 2990 - 2.99: a loss of 15.99, within 25
    assert result.realised_profit == Decimal("-15.99")
    assert -result.realised_profit <= req.max_loss
    assert sum(c.amount for c in result.changes if c.currency == "ETH") == 0
    unwind = next(o for o in market.orders if o.endswith("/unwind"))
    assert unwind == f"{req.workflow_id}/unwind"


async def test_a_cex_leg_that_rested_and_was_cancelled_in_part_is_unwound_within_the_bound(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    """Hummingbot #6195: the buy took 0.4 of 1 ETH, its remainder cancelled (never left
    resting), while the sale filled in full: the 0.6 ETH short is bought back, within max_loss."""
    market = FakeMarket(cex_filled={"buy": Decimal("0.4")}, cex_price={"sell": Decimal(3005), "unwind": Decimal(3010)})
    req = request(max_loss="25")
    result = await run(env, market, ledger, req, ArbRiskLimits())
    assert result.outcome is ArbOutcome.COMPENSATED, result.reason
    states = {leg.leg: leg.state for leg in result.legs}
    assert states == {LegName.BUY: LegState.PARTIAL, LegName.SELL: LegState.FILLED, LegName.UNWIND: LegState.FILLED}
    assert sum(c.amount for c in result.changes if c.currency == "ETH") == 0  # nothing left open
    unwind = next(leg for leg in result.legs if leg.leg is LegName.UNWIND)
    assert unwind.asset_delta == Decimal("0.6")
    # sold 1 at 3005 (- 3.005 fee), bought 0.4 at 3000 (+ 1.2) and 0.6 at 3010 (+ 1.806)
    assert result.realised_profit == Decimal("3001.995") - Decimal("1201.2") - Decimal("1807.806")
    assert -result.realised_profit <= req.max_loss
    assert sorted(market.orders) == sorted(f"{req.workflow_id}/{s}" for s in ("buy", "sell", "unwind"))


async def test_the_unwind_limit_price_holds_the_loss_bound(env: WorkflowEnvironment, ledger: Ledger) -> None:
    """The unwind's IOC price is the bound: selling 1 ETH bought for 3003 with max_loss 10
    may not go below (3003 - 10) / (1 - 0.001)."""
    market = FakeMarket()
    req = request(sell=DEX, signer=SIGNER, fees={"max_fee_per_gas_cap": 10**11}, max_loss="10")
    await run(env, market, ledger, req, ArbRiskLimits())
    unwind = next(i for i in market.sent if i.step == "unwind")
    assert unwind.side is Side.SELL and unwind.limit_price is not None
    assert unwind.limit_price * (1 - Decimal("0.001")) >= Decimal(3003) - Decimal(10)


async def test_daily_loss_trips_the_kill_switch_and_no_new_run_starts(env: WorkflowEnvironment, ledger: Ledger) -> None:
    limits = ArbRiskLimits(daily_loss_limit=Decimal(10))
    market = FakeMarket(cex_price={"unwind": Decimal(2990)})
    losing = request(sell=DEX, signer=SIGNER, fees={"max_fee_per_gas_cap": 10**11}, max_loss="25")
    first = await run(env, market, ledger, losing, limits)
    assert first.outcome is ArbOutcome.COMPENSATED and first.kill_switch is not None
    assert "kill switch" in first.kill_switch

    market.orders.clear()
    second = await run(env, market, ledger, request(), limits)
    assert second.outcome is ArbOutcome.ABORTED and "kill switch" in second.reason
    assert market.orders == []
    controls = ArbBook(ledger).controls()
    assert controls.paused and controls.reason is not None and "daily loss" in controls.reason

    ArbBook(ledger).resume()
    third = await run(env, market, ledger, request(), limits)
    assert third.outcome is ArbOutcome.COMPLETED


async def test_max_concurrent_and_per_asset_size_refuse(env: WorkflowEnvironment, ledger: Ledger) -> None:
    market = FakeMarket()
    result = await run(env, market, ledger, request(size="2"), ArbRiskLimits(max_notional={"ETH": Decimal(1)}))
    assert result.outcome is ArbOutcome.ABORTED and "above the per-run limit of 1 ETH" in result.reason
    assert market.orders == []


async def test_a_failed_first_leg_and_a_failed_second_leg_abort_with_nothing_done(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    market = FakeMarket(cex_fail={"buy", "sell"})
    result = await run(env, market, ledger, request(), ArbRiskLimits())
    assert result.outcome is ArbOutcome.ABORTED and result.realised_profit == 0
    assert "no leg filled" in result.reason


async def test_a_leg_that_cannot_be_priced_aborts_and_frees_its_slot(env: WorkflowEnvironment, ledger: Ledger) -> None:
    limits = ArbRiskLimits(max_concurrent=1)
    broken = FakeMarket(quote_error="no venue can trade ETH/USDT now (binance: no book yet)")
    first = await run(env, broken, ledger, request(), limits)
    assert first.outcome is ArbOutcome.ABORTED and "could not price the legs: InvalidRequest: no venue" in first.reason
    assert broken.orders == []
    second = await run(env, FakeMarket(), ledger, request(), limits)  # the one slot is free again
    assert second.outcome is ArbOutcome.COMPLETED, second.reason


def missed_unwind_market() -> FakeMarket:
    """The buy's fee taken in ETH, the sale and the first unwind fill nothing, the second fills."""
    return FakeMarket(
        cex_fail={"sell"},
        cex_filled={"unwind": Decimal(0)},
        cex_price={"unwind-2": Decimal(2995)},
        cex_step=Decimal("0.0001"),
        fee_in_asset={"buy"},
    )


async def test_an_unwind_that_fills_nothing_is_retried_on_lots_within_the_bound(
    env: WorkflowEnvironment, ledger: Ledger
) -> None:
    """The buy's fee was taken in ETH (0.9987655 ETH held, finer than any venue trades), the
    sale filled nothing, and so did the first unwind (the bids it was priced on were
    requoted): the unwind is sent again, on lot-size quantities and within what max_loss
    still allows; the dust below a lot is reported for an operator."""
    market = missed_unwind_market()
    req = request(max_loss="20")
    result = await run(env, market, ledger, req, ArbRiskLimits())
    assert result.outcome is ArbOutcome.COMPENSATED, result.reason
    assert [(leg.leg, leg.state) for leg in result.legs] == [
        (LegName.BUY, LegState.FILLED),
        (LegName.SELL, LegState.FAILED),
        (LegName.UNWIND, LegState.FILLED),  # its two attempts, as one leg
    ]
    unwinds = [i for i in market.sent if i.step.startswith("unwind")]
    assert [(i.step, i.side, i.qty) for i in unwinds] == [
        ("unwind", Side.SELL, Decimal("0.9987")),
        ("unwind-2", Side.SELL, Decimal("0.9987")),
    ]
    for sent in unwinds:  # bought 1 ETH for 3000 (fee in ETH): no sale below (3000 - 20) / 0.9987 net of fees
        assert sent.limit_price is not None
        assert sent.limit_price * Decimal("0.9987") * (1 - Decimal("0.001")) >= Decimal(3000) - Decimal(20)
    assert "0.0000655 ETH still held, for an operator" in result.reason
    assert sorted(market.orders) == sorted(f"{req.workflow_id}/{s}" for s in ("buy", "sell", "unwind", "unwind-2"))
