"""DexLiquidity: one liquidity operation (V2 add/remove, V3 mint/increase/decrease/collect/
burn) from plan to exact result.

plan (read the chain, refuse bad input before any side effect) → approvals the allowance
does not cover, each a child TransactionLifecycle → the operation itself, a child
TransactionLifecycle → settle from the receipt's events.

Child request ids are ``<workflow id>.<step>`` (``lp-42.approve-token0``, ``lp-42.v3_mint``),
so a retried or replayed step joins the same lifecycle, whose ledger entry re-sends the
same signed bytes: nothing is approved or sent twice.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import search_attributes as sa
from workflows.child_tx import send_planned_tx
from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.dex_liquidity import (
        LiquidityActivity,
        LiquidityPlan,
        LiquidityPlanInput,
        LiquidityRequest,
        LiquidityResult,
        LiquiditySettleInput,
        LiquidityState,
        LiquidityStatus,
        PlannedTx,
    )
    from crosslane.domain.tx import TxOutcome, TxResult

READ_TIMEOUT = timedelta(seconds=30)


@workflow.defn(name="DexLiquidity")
class DexLiquidity:
    def __init__(self) -> None:
        self._request: LiquidityRequest | None = None
        self._run = RunState(LiquidityState.PLANNING)
        self._tx_hashes: dict[str, str] = {}

    @workflow.run
    async def run(self, request: LiquidityRequest) -> LiquidityResult:
        return await failing_with_business_error(
            self._execute(request), lambda why: self._run.set(LiquidityState.FAILED, why)
        )

    async def _execute(self, request: LiquidityRequest) -> LiquidityResult:
        self._request = request
        workflow_id = workflow.info().workflow_id
        workflow.upsert_search_attributes(
            [sa.CHAIN.value_set(request.chain), sa.SIGNER.value_set(request.owner), sa.STATE.value_set(self._run.state)]
        )
        self._run.set(LiquidityState.PLANNING, f"{request.action}: reading the chain")
        plan: LiquidityPlan = await workflow.execute_activity(
            LiquidityActivity.PLAN,
            LiquidityPlanInput(workflow_id=workflow_id, request=request),
            summary=f"plan {request.action}",
            result_type=LiquidityPlan,
            start_to_close_timeout=READ_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        approvals = []
        for approval in plan.approvals:
            self._run.set(LiquidityState.APPROVING, approval.purpose)
            approved = await self._transact(request, approval)
            if approved.outcome is not TxOutcome.CONFIRMED:
                raise ApplicationError(
                    f"{approval.step} ended {approved.outcome} ({approved.mined_tx_hash}): {approval.purpose}",
                    type="ApprovalFailed",
                    non_retryable=True,
                )
            approvals.append(approved.mined_tx_hash)

        self._run.set(LiquidityState.SENDING, plan.action_tx.purpose)
        sent = await self._transact(request, plan.action_tx)
        if sent.outcome is TxOutcome.CANCELLED:
            raise ApplicationError(
                f"{plan.action_tx.step} was cancelled ({sent.mined_tx_hash}); nothing changed",
                type="TransactionCancelled",
                non_retryable=True,
            )
        self._run.set(LiquidityState.SETTLING, f"reading the receipt of {sent.mined_tx_hash}")
        settled: LiquidityResult = await workflow.execute_activity(
            LiquidityActivity.SETTLE,
            LiquiditySettleInput(workflow_id=workflow_id, request=request, plan=plan, tx_hash=sent.mined_tx_hash),
            summary=f"settle {request.action} from its events",
            result_type=LiquidityResult,
            start_to_close_timeout=READ_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        result = settled.model_copy(update={"approval_tx_hashes": approvals})
        self._run.set(
            LiquidityState.DONE,
            f"{request.action}: {result.amount0} base units of {plan.pool.token0},"
            f" {result.amount1} of {plan.pool.token1}, liquidity {result.liquidity}"
            + (f", token id {result.token_id}" if result.token_id is not None else ""),
        )
        return result

    async def _transact(self, request: LiquidityRequest, tx: PlannedTx) -> TxResult:
        result = await send_planned_tx(
            tx, chain=request.chain, signer=request.owner, fees=request.fees, policy=request.policy
        )
        self._tx_hashes[tx.step] = result.mined_tx_hash
        return result

    @workflow.query
    def status(self) -> LiquidityStatus:
        request = self._request
        return LiquidityStatus(
            request_id=request.request_id if request else "",
            chain=request.chain if request else "",
            owner=request.owner if request else "",
            action=request.action if request else None,
            state=self._run.state,
            detail=self._run.detail,
            tx_hashes=dict(self._tx_hashes),
        )
