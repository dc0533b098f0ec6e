"""DexSwap: one token swap on a DEX, from quote to exact settled amounts.

quote (validate, best route, limit from the slippage bound, sandwich check, calldata) →
approve the router if the allowance falls short (child TransactionLifecycle) → check the
swap would still succeed and size its gas → the swap (child TransactionLifecycle, to the
private relay when protected) → settle from the receipt's events.

Child request ids are ``<workflow id>.approve`` and ``<workflow id>.swap``: a replayed or
retried step joins the same lifecycle, whose ledger entry re-sends the same signed bytes,
so nothing is approved or swapped twice. A swap the price moved past before it was mined
reverts in the router and fails this run with ``SlippageExceeded``: the input tokens never
left the signer (an approval may remain).

Signals ``bump_now`` and ``cancel`` go to the transaction in flight (a cancel before the
swap is sent stops the run with nothing sent); query ``status``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import search_attributes as sa
from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState
from workflows.tx_lifecycle import TransactionLifecycle

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.dex import SwapPlan, SwapQuote, SwapRequest, SwapResult, SwapState, SwapStatus, TradeType
    from crosslane.domain.dex_steps import BuildSwapInput, DexActivity, QuoteInput, SwapSettleInput
    from crosslane.domain.tx import TxOutcome, TxRequest, TxResult

QUOTE_TIMEOUT = timedelta(seconds=20)  # a few batched reads and a sandwich simulation
SHORT = timedelta(seconds=10)  # read-only steps; a killed worker's step is retried after this


@workflow.defn(name="DexSwap")
class DexSwap:
    def __init__(self) -> None:
        self._request: SwapRequest | None = None
        self._run = RunState(SwapState.QUOTING)
        self._quote: SwapQuote | None = None
        self._child: workflow.ChildWorkflowHandle[TransactionLifecycle, TxResult] | None = None
        self._child_ids: dict[str, str] = {}
        self._tx_hashes: dict[str, str] = {}
        self._cancel_requested = False

    @workflow.run
    async def run(self, request: SwapRequest) -> SwapResult:
        return await failing_with_business_error(
            self._swap(request), lambda why: self._run.set(SwapState.FAILED, why)
        )

    async def _swap(self, request: SwapRequest) -> SwapResult:
        self._request = request
        wf_id = workflow.info().workflow_id
        workflow.upsert_search_attributes(
            [
                sa.CHAIN.value_set(request.chain),
                sa.SIGNER.value_set(request.signer),
                sa.STATE.value_set(self._run.state),
            ]
        )
        self._run.set(
            SwapState.QUOTING, f"{request.trade_type} {request.amount} {request.token_in}->{request.token_out}"
        )
        plan: SwapPlan = await workflow.execute_activity(
            DexActivity.QUOTE,
            QuoteInput(workflow_id=wf_id, request=request),
            summary="validate, route, price, plan",
            result_type=SwapPlan,
            start_to_close_timeout=QUOTE_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._quote = plan.quote
        quote = plan.quote
        route = quote.route.describe()
        limit = (quote.token_out if quote.trade_type is TradeType.EXACT_IN else quote.token_in).amount_text(quote.limit)
        self._run.set(
            SwapState.QUOTING,
            f"{quote.token_in.amount_text(quote.amount_in)} -> {quote.token_out.amount_text(quote.amount_out)}"
            f" via {route} (limit {limit})",
        )

        approve: TxResult | None = None
        if plan.approval is not None:
            self._stop_if_cancelled("before the approval")
            self._run.set(SwapState.APPROVING, f"approving the router for {quote.token_in.symbol}")
            approve = await self._land("approve", plan.approval)
            if approve.outcome is not TxOutcome.CONFIRMED:
                raise ApplicationError(
                    f"the approval {approve.mined_tx_hash} was {approve.outcome}: nothing was swapped",
                    type="SwapCancelled" if self._cancel_requested else "ApprovalFailed",
                    non_retryable=True,
                )

        self._stop_if_cancelled("before the swap was sent")
        self._run.set(SwapState.BUILDING, "checking the swap still meets its limit")
        swap_tx: TxRequest = await workflow.execute_activity(
            DexActivity.BUILD_SWAP,
            BuildSwapInput(workflow_id=wf_id, request=request, plan=plan),
            summary="re-check the limit, size the gas",
            result_type=TxRequest,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._stop_if_cancelled("before the swap was sent")
        self._run.set(SwapState.SWAPPING, f"{route}{' (protected)' if request.protected else ''}")
        swap = await self._land("swap", swap_tx)
        if swap.outcome is TxOutcome.CANCELLED:
            raise ApplicationError(
                f"the swap was cancelled: {swap.mined_tx_hash} took its nonce, nothing was swapped",
                type="SwapCancelled",
                non_retryable=True,
            )

        self._run.set(SwapState.SETTLING, f"reading the receipt of {swap.mined_tx_hash}")
        result: SwapResult = await workflow.execute_activity(
            DexActivity.SETTLE,
            SwapSettleInput(workflow_id=wf_id, request=request, plan=plan, swap=swap, approve=approve),
            summary="exact amounts from the receipt's events",
            result_type=SwapResult,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._run.set(
            SwapState.SETTLED,
            f"{quote.token_in.amount_text(result.amount_in)} -> {quote.token_out.amount_text(result.amount_out)}"
            f" in block {result.block_number}",
        )
        return result

    async def _land(self, step: str, tx: TxRequest) -> TxResult:
        """Run one transaction as a child lifecycle (joined, not repeated, on replay)."""
        self._child_ids[step] = tx.workflow_id
        self._child = await workflow.start_child_workflow(
            TransactionLifecycle.run,
            tx,
            id=tx.workflow_id,
            result_type=TxResult,
            static_summary=f"{step} for {workflow.info().workflow_id}",
        )
        if self._cancel_requested:
            await self._child.signal(TransactionLifecycle.cancel)
        try:
            result: TxResult = await self._child
        finally:
            self._child = None
        self._tx_hashes[step] = result.mined_tx_hash
        return result

    def _stop_if_cancelled(self, when: str) -> None:
        if self._cancel_requested:
            raise ApplicationError(f"cancelled {when}: nothing was swapped", type="SwapCancelled", non_retryable=True)


    @workflow.signal
    async def bump_now(self) -> None:
        """Replace the transaction in flight (approval or swap) with higher fees now."""
        if self._child is not None:
            await self._child.signal(TransactionLifecycle.bump_now)

    @workflow.signal
    async def cancel(self) -> None:
        """Stop before the swap is sent, or replace the one in flight with a 0-value self-send."""
        self._cancel_requested = True
        if self._child is not None:
            await self._child.signal(TransactionLifecycle.cancel)

    @workflow.query
    def status(self) -> SwapStatus:
        request = self._request
        return SwapStatus(
            request_id=request.request_id if request else "",
            chain=request.chain if request else "",
            signer=request.signer if request else "",
            state=self._run.state,
            detail=self._run.detail,
            quote=self._quote,
            approve_workflow_id=self._child_ids.get("approve"),
            swap_workflow_id=self._child_ids.get("swap"),
            approve_tx_hash=self._tx_hashes.get("approve"),
            swap_tx_hash=self._tx_hashes.get("swap"),
        )
