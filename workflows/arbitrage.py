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
already started instead of placing it again. The same ids let a run adopt legs the fast
lane (``activities.arb_fastlane``) sent before it started (``sent_first``): no quote, the
legs joined, then accounted, reconciled and compensated as any run's. Query ``status``
(leg-by-leg sub-state).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from workflows import search_attributes as sa
from workflows.bridge_transfer import BridgeTransfer
from workflows.dex_swap import DexSwap
from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.arbitrage import ArbMode
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
        attempts_as_one,
        bridge_leg_result,
        cex_leg_result,
        dex_leg_result,
        realised_profit,
    )
    from crosslane.domain.bridge import BridgeRequest, BridgeResult
    from crosslane.domain.cex import CexExecuteInput, CexExecution
    from crosslane.domain.dex import MAX_SLIPPAGE_BPS, SwapRequest, SwapResult
    from crosslane.routing.side import Side

SHORT = timedelta(seconds=20)  # ledger writes, batched reads, a fast-path quote
CEX_LEG = timedelta(seconds=30)
# BridgeTransfer's failures after its deposit mined: the asset is no longer on the source chain
DEPOSITED_FAILURES = frozenset({"DeliveryShortfall", "RedeemFailed"})
REBALANCE_MARGIN = Decimal("0.01")  # a rebalance bridges this much more than missing: the bridge keeps a fee
FAILED_LEG_GAS = "arb-failed-leg-gas"  # a failed DEX leg's gas is read back (runs recorded before: not)
SENT_FIRST = "arb-sent-first"  # legs sent by the fast lane before the run: adopted, not quoted
FEE_DUST = Decimal("0.005")  # both legs filled: an asset imbalance this small is fees paid in the asset
# a CEX unwind on lot-size quantities, retried on fresh books while it fills nothing or in part
UNWIND_RETRY = "arb-unwind-retry"
UNWIND_ATTEMPTS = 3
UNWIND_PAUSE = timedelta(seconds=1)


@workflow.defn(name="Arbitrage")
class Arbitrage:
    def __init__(self) -> None:
        self._request: ArbitrageRequest | None = None
        self._run = RunState(ArbState.ADMITTING)
        self._quote: ArbQuote | None = None
        self._legs: dict[str, LegState] = {}
        self._leg_detail: dict[str, str] = {}
        self._native: dict[str, Decimal] = {}

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
        sent = request.sent_first if request.sent_first is not None and workflow.patched(SENT_FIRST) else None
        if not admission.admitted:  # the fast lane sends only once admitted (the same, recorded answer)
            left = "; sent_first given: any leg sent is left for an operator" if sent is not None else ""
            return await self._finish(ArbOutcome.ABORTED, f"refused: {admission.reason}{left}", [])
        if request.mode is ArbMode.TRANSFER:
            return await self._transfer()

        if sent is not None:  # both legs are out already: adopted by their ids, never re-quoted nor aborted
            quote = self._adopt(sent)
        else:
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
        if workflow.patched(UNWIND_RETRY):
            unwind = attempts_as_one(await self._unwind_cex(exposure, legs, quote))
            self._leg_state(LegName.UNWIND, unwind.state, unwind.detail)
        else:
            unwind = await self._unwind(exposure, realised_profit(legs, Decimal(0)), quote)
        legs.append(unwind)
        left = exposure + unwind.asset_delta
        residual = f"; {left} {request.asset} still held, for an operator" if left else ""
        why = f"{failed}; unwind {unwind.state}: {unwind.detail}{residual}"
        return await self._finish(ArbOutcome.COMPENSATED, why, legs)

    async def _unwind_cex(self, exposure: Decimal, legs: list[LegResult], quote: ArbQuote) -> list[LegResult]:
        """The unwind of an inventory run: on lot-size quantities (a venue's fee taken in the
        asset leaves an exposure finer than any venue trades: that dust stays, reported), and
        on a CEX again on fresh books while it fills nothing or in part (``unwind``,
        ``unwind-2``...: each its own parent order), every attempt's limit within what
        ``max_loss`` still allows after the earlier ones. A DEX unwind is tried once."""
        request = self._request
        assert request is not None
        if not any(v.is_cex for v in (request.buy, request.sell)):
            return [await self._unwind(exposure, realised_profit(legs, Decimal(0)), quote)]
        quantum = quote.cex_step  # None: a quote from before the fast path told its step
        unwinds: list[LegResult] = []
        for attempt in range(1, UNWIND_ATTEMPTS + 1):
            left = exposure + sum((u.asset_delta for u in unwinds), start=Decimal(0))
            lots = left if quantum is None else (left / quantum).to_integral_value(rounding=ROUND_DOWN) * quantum
            if not lots:
                break
            if attempt > 1:  # the books the last attempt missed on are requoted meanwhile
                await workflow.sleep(UNWIND_PAUSE)
            step = str(LegName.UNWIND) if attempt == 1 else f"{LegName.UNWIND}-{attempt}"
            unwind = await self._unwind(lots, realised_profit([*legs, *unwinds], Decimal(0)), quote, step=step)
            unwinds.append(unwind)
            if unwind.state is LegState.FILLED:
                break
        return unwinds

    async def _priced(self, phase: str, size: Decimal | None = None) -> ArbQuote:
        assert self._request is not None
        quote: ArbQuote = await workflow.execute_activity(
            ArbActivity.QUOTE,
            ArbQuoteInput(workflow_id=workflow.info().workflow_id, request=self._request, phase=phase, size=size),
            summary=f"{phase}: both legs priced, profit floor",
            result_type=ArbQuote,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._quote = quote
        self._native.update(quote.native_price)  # a later phase prices fewer chains
        self._run.set(ArbState.QUOTING, f"{phase}: {quote.reason}")
        workflow.upsert_search_attributes([sa.EXPECTED_PROFIT.value_set(float(quote.expected_profit))])
        return quote

    def _adopt(self, sent: ArbQuote) -> ArbQuote:
        """The quote the fast lane sent both legs at, as if this run had priced it."""
        self._quote = sent
        self._native.update(sent.native_price)
        self._run.set(ArbState.QUOTING, f"legs sent before the run: {sent.reason}")
        workflow.upsert_search_attributes([sa.EXPECTED_PROFIT.value_set(float(sent.expected_profit))])
        return sent

    def _gone(self) -> str:
        assert self._quote is not None
        return f"profit floor not met: {self._quote.reason}"

    async def _leg(self, leg: LegQuote, side: Side) -> LegResult:
        """One leg to its end; a failure is this leg's result (the saga decides), not the run's."""
        assert self._request is not None
        return await self._run_leg(leg.leg, leg.venue, side, self._request.size, leg)

    async def _run_leg(self, name: LegName, venue: ArbVenue, side: Side, size: Decimal, limit: LegQuote) -> LegResult:
        self._leg_state(name, LegState.RUNNING, f"{side} {size} on {venue.describe()} within {limit.limit}")
        try:
            if venue.is_cex:
                result = await self._cex(name, venue, side, size, limit.limit_price)
            else:
                result = await self._dex(name, venue, side, size, limit.slippage_bps)
        except (ActivityError, ChildWorkflowError) as exc:
            result = LegResult(leg=name, venue=venue.describe(), state=LegState.FAILED, detail=_why(exc))
            if not venue.is_cex and workflow.patched(FAILED_LEG_GAS):
                result = await self._burnt(result, venue)
        self._leg_state(name, result.state, result.detail)
        return result

    async def _burnt(self, failed: LegResult, venue: ArbVenue) -> LegResult:
        """A failed DEX leg with the gas its mined transactions still cost (a reverted swap,
        an approval mined before the swap was refused): part of the realised P&L."""
        assert self._request is not None and self._quote is not None and venue.chain is not None
        swap_id = SwapRequest.workflow_id_of(f"{self._request.workflow_id}.{failed.leg}")
        gas = await self._gas(failed.leg, swap_id, ["approve", "swap"])
        if not gas.native:
            return failed
        price = self._quote.native_price.get(venue.chain, self._native.get(venue.chain, Decimal(0)))
        return failed.model_copy(
            update={
                "gas_cost": gas.native * price,
                "changes": [BalanceChange(place=venue.chain, currency="native", amount=-gas.native)],
                "refs": gas.tx_hashes,
                "detail": f"{failed.detail}; gas burnt {gas.native} (tx {', '.join(gas.tx_hashes)})",
            }
        )

    async def _gas(self, leg: LegName, child_id: str, steps: list[str]) -> LegGas:
        gas: LegGas = await workflow.execute_activity(
            ArbActivity.LEG_GAS,
            LegGasInput(swap_workflow_id=child_id, steps=steps),
            summary=f"{leg}: gas its mined transactions cost",
            result_type=LegGas,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        return gas

    async def _cex(
        self,
        leg: LegName,
        venue: ArbVenue,
        side: Side,
        size: Decimal,
        limit_price: Decimal | None,
        step: str | None = None,
    ) -> LegResult:
        assert venue.symbol is not None
        step = step or str(leg)  # the parent order's id within the run (a retried unwind has its own)
        execution: CexExecution = await workflow.execute_activity(
            "cex_execute",
            CexExecuteInput(step=step, symbol=venue.symbol, side=side, qty=size, limit_price=limit_price),
            summary=f"{step}: {side} {size} {venue.symbol} IOC within {limit_price}",
            result_type=CexExecution,
            start_to_close_timeout=CEX_LEG,
            retry_policy=ACTIVITY_RETRY,
        )
        return cex_leg_result(leg, execution)

    async def _dex(self, leg: LegName, venue: ArbVenue, side: Side, size: Decimal, slippage_bps: int) -> LegResult:
        request = self._request
        assert request is not None and venue.chain is not None and self._quote is not None
        decimals = self._quote.asset_decimals.get(venue.chain, 18)
        swap = request.dex_leg(leg, venue, side, size, slippage_bps, decimals)
        result: SwapResult = await workflow.execute_child_workflow(
            DexSwap.run,
            swap,
            id=swap.workflow_id,
            result_type=SwapResult,
            static_summary=f"{leg} of {workflow.info().workflow_id}",
        )
        price = self._quote.native_price.get(venue.chain, Decimal(0))
        return dex_leg_result(leg, result, asset_is_in=side is Side.SELL, native_price=price)

    async def _unwind(
        self, exposure: Decimal, realised: Decimal, quote: ArbQuote, at: ArbVenue | None = None, step: str | None = None
    ) -> LegResult:
        """Trade ``exposure`` of the asset back (sell a surplus, buy a shortfall) so that the
        run's loss stays within ``max_loss``: the bound becomes the unwind's limit. ``at``: the
        DEX where the asset is (transfer mode), else the most liquid venue the run trades."""
        request = self._request
        assert request is not None
        side = Side.SELL if exposure > 0 else Side.BUY
        size = abs(exposure)
        # sell: proceeds >= -max_loss - realised; buy: cost <= realised + max_loss
        bound = (-request.max_loss - realised) if side is Side.SELL else (realised + request.max_loss)
        venue = at or next((v for v in (request.buy, request.sell) if v.is_cex), None)
        self._leg_state(LegName.UNWIND, LegState.RUNNING, f"{side} {size} {request.asset} within {bound}")
        try:
            if venue is not None and venue.is_cex:
                fee = Decimal(1) + quote.cex_fee_rate if side is Side.BUY else Decimal(1) - quote.cex_fee_rate
                limit = venue.limit_price(max(bound, Decimal(0)) / size / fee, side)
                result = await self._cex(LegName.UNWIND, venue, side, size, limit, step)
            else:
                venue = at or (request.sell if side is Side.SELL else request.buy)  # the DEX the failed leg meant
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

    async def _transfer(self) -> ArbResult:
        """Transfer mode: buy on one chain, bridge the asset, sell on the other, re-quoting
        before every step. The quote currency is bridged to the buy chain first when the buy
        is short of it. Once bought, the run carries on only while the re-quoted sale keeps
        the loss within ``max_loss``; otherwise (or if the bridge gives the asset back) the
        asset is sold back where it was bought."""
        request = self._request
        assert request is not None and request.buy.chain is not None and request.sell.chain is not None
        legs: list[LegResult] = []
        self._run.set(ArbState.QUOTING, "pricing buy, bridge and sale")
        try:
            quote = await self._priced("plan")
            short = quote.shortfall
            if short is not None and short.leg is LegName.BUY and request.rebalance:
                missing = (short.needed - short.held) * (1 + REBALANCE_MARGIN)
                decimals = quote.quote_decimals.get(request.sell.chain, quote.quote_decimals.get(request.buy.chain, 6))
                self._run.set(ArbState.REBALANCING, f"{short.describe(str(request.signer))}: bridging {missing} over")
                moved = await self._bridge(
                    LegName.REBALANCE, request.quote, request.sell.chain, request.buy.chain, missing, decimals
                )
                legs.append(moved)
                if moved.state is not LegState.FILLED:
                    return await self._finish(ArbOutcome.ABORTED, f"rebalance {moved.state}: {moved.detail}", legs)
                quote = await self._priced("plan")
            if quote.viable:
                quote = await self._priced("recheck")
        except ActivityError as exc:
            return await self._finish(ArbOutcome.ABORTED, f"could not price the legs: {_why(exc)}", legs)
        if not quote.viable:
            return await self._finish(ArbOutcome.ABORTED, self._gone(), legs)

        self._run.set(ArbState.EXECUTING, f"buying, expected {quote.expected_profit} {request.quote}")
        buy = await self._leg(quote.buy, Side.BUY)
        legs.append(buy)
        if buy.state is not LegState.FILLED:
            return await self._finish(ArbOutcome.ABORTED, f"buy {buy.state}: {buy.detail}", legs)

        held = buy.asset_delta
        why = await self._carry_on(held, legs, "bridge")
        if why is None:
            self._run.set(ArbState.BRIDGING, f"{held} {request.asset} {request.buy.chain} -> {request.sell.chain}")
            decimals = quote.asset_decimals.get(request.buy.chain, 18)
            bridge = await self._bridge(
                LegName.BRIDGE, request.asset, request.buy.chain, request.sell.chain, held, decimals
            )
            legs.append(bridge)
            if bridge.state is LegState.FILLED:
                return await self._sell_arrived(held + bridge.asset_delta, legs)
            why = f"bridge {bridge.state}: {bridge.detail}"
            if bridge.detail.split(":", 1)[0] in DEPOSITED_FAILURES:  # the asset left the buy chain
                gone = f"{held} {request.asset} deposited into the bridge, not delivered as expected: for an operator"
                return await self._finish(ArbOutcome.COMPENSATED, f"{why}; {gone}", legs)
        # the asset is still (or again) on the buy chain: sold back there
        self._run.set(ArbState.COMPENSATING, f"{why}; selling {held} {request.asset} back on {request.buy.describe()}")
        assert self._quote is not None
        unwind = await self._unwind(held, realised_profit(legs, Decimal(0)), self._quote, at=request.buy)
        legs.append(unwind)
        left = held + unwind.asset_delta
        residual = f"; {left} {request.asset} still held on {request.buy.chain}, for an operator" if left else ""
        return await self._finish(
            ArbOutcome.COMPENSATED, f"{why}; unwind {unwind.state}: {unwind.detail}{residual}", legs
        )

    async def _carry_on(self, held: Decimal, legs: list[LegResult], phase: str) -> str | None:
        """None while the re-quoted rest of the run (bridge and sale) keeps the loss within
        ``max_loss``; else why not."""
        request = self._request
        assert request is not None
        try:
            ahead = await self._priced(phase, size=held)
        except ActivityError as exc:
            return f"could not re-quote the sale: {_why(exc)}"
        spent = realised_profit(legs, Decimal(0))
        projected = (
            spent + ahead.sell.expected - ahead.sell.gas_cost - ahead.bridge_fee * ahead.price - ahead.price_risk
        )
        if projected < -request.max_loss:
            return f"the sale no longer covers the buy: projected {projected} {request.quote} ({ahead.reason})"
        return None

    async def _sell_arrived(self, arrived: Decimal, legs: list[LegResult]) -> ArbResult:
        """Sell what the bridge delivered, no lower than the loss bound allows."""
        request = self._request
        assert request is not None and request.sell.chain is not None
        try:
            now = await self._priced("sell", size=arrived)
        except ActivityError as exc:
            now, why = None, f"could not re-quote the sale: {_why(exc)}"
        floor = -request.max_loss - realised_profit(legs, Decimal(0))  # the least the sale may bring
        if now is not None:
            room = now.sell.expected - now.sell.gas_cost - floor
            why = f"the sale would bring {now.sell.expected}, below the loss bound's {floor}" if room < 0 else ""
            if now.shortfall is not None:
                why = now.shortfall.describe(str(request.signer))
        if now is not None and not why:
            bps = int(room / now.sell.expected * 10_000) if now.sell.expected > 0 else 0
            limit = now.sell.model_copy(update={"slippage_bps": min(bps, MAX_SLIPPAGE_BPS), "limit": floor})
            self._run.set(ArbState.EXECUTING, f"selling {arrived} {request.asset} on {request.sell.describe()}")
            sell = await self._run_leg(LegName.SELL, request.sell, Side.SELL, arrived, limit)
            legs.append(sell)
            if sell.state is LegState.FILLED:
                return await self._finish(ArbOutcome.COMPLETED, "bought, bridged and sold", legs)
            why = f"sell {sell.state}: {sell.detail}"
        held = f"{arrived} {request.asset} still held on {request.sell.chain}, for an operator"
        return await self._finish(ArbOutcome.COMPENSATED, f"{why}; {held}", legs)

    async def _bridge(
        self, leg: LegName, currency: str, source: str, destination: str, amount: Decimal, decimals: int
    ) -> LegResult:
        """``amount`` of ``currency`` moved by a ``BridgeTransfer`` child, as the leg it is."""
        request = self._request
        assert request is not None and request.signer is not None and request.fees is not None
        bridge_request = BridgeRequest(
            request_id=f"{request.workflow_id}.{leg}",
            source_chain=source,
            destination_chain=destination,
            asset=currency,
            amount=int((amount * Decimal(10) ** decimals).to_integral_value(rounding=ROUND_DOWN)),
            signer=request.signer,
            route=request.bridge_route,
            fees=request.fees,
        )
        self._leg_state(leg, LegState.RUNNING, f"{amount} {currency} {source} -> {destination}")
        try:
            bridged: BridgeResult = await workflow.execute_child_workflow(
                BridgeTransfer.run,
                bridge_request,
                id=bridge_request.workflow_id,
                result_type=BridgeResult,
                static_summary=f"{leg} of {workflow.info().workflow_id}",
            )
            failure = None
        except ChildWorkflowError as exc:
            bridged, failure = None, _why(exc)
        gas = await self._gas(leg, bridge_request.workflow_id, ["approve", "deposit", "redeem"])
        if bridged is not None:
            result = bridge_leg_result(
                leg, bridged, currency, is_asset=currency == request.asset, decimals=decimals, gas=gas,
                native_price=self._native,
            )  # fmt: skip
        else:
            result = LegResult(
                leg=leg,
                venue=f"{source}->{destination}",
                state=LegState.FAILED,
                gas_cost=sum((n * self._native.get(c, Decimal(0)) for c, n in gas.per_chain.items()), Decimal(0)),
                changes=[BalanceChange(place=c, currency="native", amount=-n) for c, n in gas.per_chain.items() if n],
                refs=gas.tx_hashes,
                detail=str(failure),
            )
        self._leg_state(leg, result.state, result.detail)
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
