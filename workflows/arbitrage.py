"""Arbitrage: buy on one venue and sell on another at once, from inventory held on each
side (inventory mode), as a saga that ends ``completed``, ``aborted`` or ``compensated``.

admit (kill switch, concurrent runs, per-asset size) → quote both legs → re-check the
profit floor right before the legs and derive each leg's limit from it → both legs at
once (a CEX leg through the fast path as an IOC at its limit price, a DEX leg as a
``DexSwap`` child whose slippage bound is its limit) → if the asset did not net to zero
(one leg failed or filled in part): unwind the difference on the most liquid venue the
run trades (the fast path's consolidated book when it has a CEX leg), never losing more
than ``max_loss`` → record the realised P&L (which may trip the daily-loss kill switch).

Every leg's id derives from the workflow id (fast-path parent ``arb-<id>/buy``, child
``swap-arb-<id>.sell``), so a retried activity or a restarted worker joins the leg it
already started instead of placing it again. Query ``status`` (leg-by-leg sub-state).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from workflows import search_attributes as sa
from workflows.dex_swap import DexSwap
from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.arb_steps import (
        Admission,
        AdmitInput,
        ArbActivity,
        ArbitrageRequest,
        ArbOutcome,
        ArbQuote,
        ArbQuoteInput,
        ArbResult,
        ArbState,
        ArbStatus,
        ArbVenue,
        BalanceChange,
        FinishInput,
        LegGas,
        LegGasInput,
        LegName,
        LegQuote,
        LegResult,
        LegState,
        cex_leg_result,
        dex_leg_result,
        realised_profit,
    )
    from crosslane.domain.cex import CexExecuteInput, CexExecution
    from crosslane.domain.dex import MAX_SLIPPAGE_BPS, SwapRequest, SwapResult, TradeType
    from crosslane.routing.side import Side

SHORT = timedelta(seconds=20)  # ledger writes, batched reads, a fast-path quote
CEX_LEG = timedelta(seconds=30)
FAILED_LEG_GAS = "arb-failed-leg-gas"  # a failed DEX leg's gas is read back (runs recorded before: not)
FEE_DUST = Decimal("0.005")  # both legs filled: an asset imbalance this small is fees paid in the asset


@workflow.defn(name="Arbitrage")
class Arbitrage:
    def __init__(self) -> None:
        self._request: ArbitrageRequest | None = None
        self._run = RunState(ArbState.ADMITTING)
        self._quote: ArbQuote | None = None
        self._legs: dict[str, LegState] = {}
        self._leg_detail: dict[str, str] = {}

    @workflow.run
    async def run(self, request: ArbitrageRequest) -> ArbResult:
        return await failing_with_business_error(
            self._arbitrage(request), lambda why: self._run.set(ArbState.FAILED, why)
        )

    async def _arbitrage(self, request: ArbitrageRequest) -> ArbResult:
        self._request = request
        wf_id = workflow.info().workflow_id
        workflow.upsert_search_attributes(
            [
                sa.ARB_KIND.value_set(request.kind),
                sa.ASSET.value_set(request.asset),
                sa.STATE.value_set(self._run.state),
            ]
        )
        self._run.set(
            ArbState.ADMITTING, f"{request.kind}: buy {request.buy.describe()}, sell {request.sell.describe()}"
        )
        admission: Admission = await workflow.execute_activity(
            ArbActivity.ADMIT,
            AdmitInput(workflow_id=wf_id, request=request),
            summary="kill switch, concurrent runs, per-asset size",
            result_type=Admission,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        if not admission.admitted:
            return await self._finish(ArbOutcome.ABORTED, f"refused: {admission.reason}", [])

        self._run.set(ArbState.QUOTING, "pricing both legs")
        try:
            if not (await self._priced("plan")).viable:
                return await self._finish(ArbOutcome.ABORTED, self._gone(), [])
            quote = await self._priced("recheck")  # right before the legs: the floor must still hold
        except ActivityError as exc:  # a venue or chain that cannot quote: nothing was sent
            return await self._finish(ArbOutcome.ABORTED, f"could not price the legs: {_why(exc)}", [])
        if not quote.viable:
            return await self._finish(ArbOutcome.ABORTED, self._gone(), [])

        self._run.set(ArbState.EXECUTING, f"both legs at once, expected {quote.expected_profit} {request.quote}")
        legs = list(await asyncio.gather(self._leg(quote.buy, Side.BUY), self._leg(quote.sell, Side.SELL)))
        exposure = sum((leg.asset_delta for leg in legs), start=Decimal(0))
        done = [leg for leg in legs if leg.state in (LegState.FILLED, LegState.PARTIAL)]
        if not done:
            return await self._finish(
                ArbOutcome.ABORTED, "no leg filled: " + "; ".join(leg.detail for leg in legs), legs
            )
        filled = all(leg.state is LegState.FILLED for leg in legs)
        if filled and abs(exposure) <= request.size * FEE_DUST:  # a venue's fee taken in the asset
            return await self._finish(ArbOutcome.COMPLETED, "both legs filled", legs)

        failed = "; ".join(f"{leg.leg} {leg.state}: {leg.detail}" for leg in legs if leg.state is not LegState.FILLED)
        self._run.set(ArbState.COMPENSATING, f"{failed}; unwinding {exposure} {request.asset}")
        unwind = await self._unwind(exposure, realised_profit(legs, Decimal(0)), quote)
        legs.append(unwind)
        left = exposure + unwind.asset_delta
        residual = f"; {left} {request.asset} still held, for an operator" if left else ""
        why = f"{failed}; unwind {unwind.state}: {unwind.detail}{residual}"
        return await self._finish(ArbOutcome.COMPENSATED, why, legs)

    async def _priced(self, phase: str) -> ArbQuote:
        assert self._request is not None
        quote: ArbQuote = await workflow.execute_activity(
            ArbActivity.QUOTE,
            ArbQuoteInput(workflow_id=workflow.info().workflow_id, request=self._request, phase=phase),
            summary=f"{phase}: both legs priced, profit floor",
            result_type=ArbQuote,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._quote = quote
        self._run.set(ArbState.QUOTING, f"{phase}: {quote.reason}")
        workflow.upsert_search_attributes([sa.EXPECTED_PROFIT.value_set(float(quote.expected_profit))])
        return quote

    def _gone(self) -> str:
        assert self._quote is not None
        return f"profit floor not met: {self._quote.reason}"

    async def _leg(self, leg: LegQuote, side: Side) -> LegResult:
        """One leg to its end; a failure is this leg's result (the saga decides), not the run's."""
        assert self._request is not None
        self._leg_state(leg.leg, LegState.RUNNING, f"{side} on {leg.venue.describe()} within {leg.limit}")
        try:
            if leg.venue.is_cex:
                result = await self._cex(leg.leg, leg.venue, side, self._request.size, leg.limit_price)
            else:
                result = await self._dex(leg.leg, leg.venue, side, self._request.size, leg.slippage_bps)
        except (ActivityError, ChildWorkflowError) as exc:
            result = LegResult(leg=leg.leg, venue=leg.venue.describe(), state=LegState.FAILED, detail=_why(exc))
            if not leg.venue.is_cex and workflow.patched(FAILED_LEG_GAS):
                result = await self._burnt(result, leg.venue)
        self._leg_state(leg.leg, result.state, result.detail)
        return result

    async def _burnt(self, failed: LegResult, venue: ArbVenue) -> LegResult:
        """A failed DEX leg with the gas its mined transactions still cost (a reverted swap,
        an approval mined before the swap was refused): part of the realised P&L."""
        assert self._request is not None and self._quote is not None and venue.chain is not None
        swap_id = SwapRequest.workflow_id_of(f"{self._request.workflow_id}.{failed.leg}")
        gas: LegGas = await workflow.execute_activity(
            ArbActivity.LEG_GAS,
            LegGasInput(swap_workflow_id=swap_id),
            summary=f"{failed.leg}: gas its mined transactions cost",
            result_type=LegGas,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        if not gas.native:
            return failed
        price = self._quote.native_price.get(venue.chain, Decimal(0))
        return failed.model_copy(
            update={
                "gas_cost": gas.native * price,
                "changes": [BalanceChange(place=venue.chain, currency="native", amount=-gas.native)],
                "refs": gas.tx_hashes,
                "detail": f"{failed.detail}; gas burnt {gas.native} (tx {', '.join(gas.tx_hashes)})",
            }
        )

    async def _cex(
        self, leg: LegName, venue: ArbVenue, side: Side, size: Decimal, limit_price: Decimal | None
    ) -> LegResult:
        assert venue.symbol is not None
        execution: CexExecution = await workflow.execute_activity(
            "cex_execute",
            CexExecuteInput(step=str(leg), symbol=venue.symbol, side=side, qty=size, limit_price=limit_price),
            summary=f"{leg}: {side} {size} {venue.symbol} IOC within {limit_price}",
            result_type=CexExecution,
            start_to_close_timeout=CEX_LEG,
            retry_policy=ACTIVITY_RETRY,
        )
        return cex_leg_result(leg, execution)

    async def _dex(self, leg: LegName, venue: ArbVenue, side: Side, size: Decimal, slippage_bps: int) -> LegResult:
        request = self._request
        assert request is not None and request.signer is not None and request.fees is not None
        assert venue.chain is not None and self._quote is not None
        decimals = self._quote.asset_decimals.get(venue.chain, 18)
        amount = int((size * Decimal(10) ** decimals).to_integral_value(rounding=ROUND_DOWN))
        swap = SwapRequest(
            request_id=f"{request.workflow_id}.{leg}",  # workflow id: SwapRequest.workflow_id_of(request_id)
            chain=venue.chain,
            signer=request.signer,
            token_in=request.asset if side is Side.SELL else request.quote,
            token_out=request.quote if side is Side.SELL else request.asset,
            trade_type=TradeType.EXACT_IN if side is Side.SELL else TradeType.EXACT_OUT,
            amount=amount,
            slippage_bps=slippage_bps,
            dexes=[venue.venue],
            max_hops=1,
            max_sandwich_bps=None,
            fees=request.fees,
        )
        result: SwapResult = await workflow.execute_child_workflow(
            DexSwap.run,
            swap,
            id=swap.workflow_id,
            result_type=SwapResult,
            static_summary=f"{leg} of {workflow.info().workflow_id}",
        )
        price = self._quote.native_price.get(venue.chain, Decimal(0))
        return dex_leg_result(leg, result, asset_is_in=side is Side.SELL, native_price=price)

    async def _unwind(self, exposure: Decimal, realised: Decimal, quote: ArbQuote) -> LegResult:
        """Trade ``exposure`` of the asset back (sell a surplus, buy a shortfall) so that the
        run's loss stays within ``max_loss``: the bound becomes the unwind's limit."""
        request = self._request
        assert request is not None
        side = Side.SELL if exposure > 0 else Side.BUY
        size = abs(exposure)
        # sell: proceeds >= -max_loss - realised; buy: cost <= realised + max_loss
        bound = (-request.max_loss - realised) if side is Side.SELL else (realised + request.max_loss)
        venue = next((v for v in (request.buy, request.sell) if v.is_cex), None)
        self._leg_state(LegName.UNWIND, LegState.RUNNING, f"{side} {size} {request.asset} within {bound}")
        try:
            if venue is not None:
                fee = Decimal(1) + quote.cex_fee_rate if side is Side.BUY else Decimal(1) - quote.cex_fee_rate
                limit = venue.limit_price(max(bound, Decimal(0)) / size / fee, side)
                result = await self._cex(LegName.UNWIND, venue, side, size, limit)
            else:
                venue = request.sell if side is Side.SELL else request.buy  # the DEX the failed leg meant
                market = size * quote.price
                gas = (quote.buy if side is Side.BUY else quote.sell).gas_cost
                room = market - bound - gas if side is Side.SELL else bound - market - gas
                bps = int(max(room, Decimal(0)) / market * 10_000) if market > 0 else 0
                result = await self._dex(LegName.UNWIND, venue, side, size, min(bps, MAX_SLIPPAGE_BPS))
        except (ActivityError, ChildWorkflowError) as exc:
            why = _why(exc)
            result = LegResult(
                leg=LegName.UNWIND,
                venue=venue.describe() if venue else "",
                state=LegState.FAILED,
                detail=f"could not unwind within max loss {request.max_loss} {request.quote}: {why}",
            )
            if venue is not None and not venue.is_cex and workflow.patched(FAILED_LEG_GAS):
                result = await self._burnt(result, venue)
        self._leg_state(LegName.UNWIND, result.state, result.detail)
        return result

    async def _finish(self, outcome: ArbOutcome, reason: str, legs: list[LegResult]) -> ArbResult:
        request = self._request
        assert request is not None
        self._run.set(ArbState.SETTLING, reason)
        result: ArbResult = await workflow.execute_activity(
            ArbActivity.FINISH,
            FinishInput(
                workflow_id=workflow.info().workflow_id,
                request=request,
                outcome=outcome,
                reason=reason,
                expected_profit=self._quote.expected_profit if self._quote else None,
                asset_price=self._quote.price if self._quote else Decimal(0),
                legs=legs,
            ),
            summary=f"{outcome}: realised P&L into the ledger",
            result_type=ArbResult,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        workflow.upsert_search_attributes([sa.REALISED_PROFIT.value_set(float(result.realised_profit))])
        final = {
            ArbOutcome.COMPLETED: ArbState.COMPLETED,
            ArbOutcome.ABORTED: ArbState.ABORTED,
            ArbOutcome.COMPENSATED: ArbState.COMPENSATED,
        }[outcome]
        self._run.set(final, f"{reason}; realised {result.realised_profit} {request.quote}")
        return result

    def _leg_state(self, leg: LegName, state: LegState, detail: str) -> None:
        self._legs[str(leg)] = state
        self._leg_detail[str(leg)] = detail

    @workflow.query
    def status(self) -> ArbStatus:
        request = self._request
        return ArbStatus(
            request_id=request.request_id if request else "",
            kind=str(request.kind) if request else "",
            state=self._run.state,
            detail=self._run.detail,
            quote=self._quote,
            legs=dict(self._legs),
            leg_detail=dict(self._leg_detail),
        )


def _why(exc: ActivityError | ChildWorkflowError) -> str:
    """The step's business error as ``Type: message``."""
    cause = exc.cause
    return f"{cause.type}: {cause.message}" if isinstance(cause, ApplicationError) else str(cause or exc)
