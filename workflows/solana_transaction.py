"""SolanaTransaction: land one SOL or SPL transfer, re-signing only when it provably cannot.

plan (validate, resolve the mint) → sign with a recent blockhash (raw bytes in the ledger
first) → send → confirm at the requested commitment → if it did not land and its
blockhash's last valid block height has passed with no status for its signature, it can
never land: sign again with a fresh blockhash and a higher priority fee (within the cap)
→ confirmed / failed (landed with an error) / cancelled, with every attempt listed.

Signals: ``cancel`` (do not re-sign: the pending attempt lands or expires). Query: ``status``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import search_attributes as sa
from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.solana import (
        SolAttempt,
        SolOutcome,
        SolPlan,
        SolResult,
        SolState,
        SolStatus,
        SolTransferRequest,
    )
    from crosslane.domain.solana_steps import (
        ConfirmOutcome,
        SolActivity,
        SolConfirmInput,
        SolConfirmResult,
        SolPlanInput,
        SolSendInput,
        SolSendResult,
        SolSignInput,
    )

SHORT = timedelta(seconds=10)  # short steps; a killed worker's step is retried after this
CONFIRM_HEARTBEAT = timedelta(seconds=5)
CONFIRM_LIMIT = timedelta(minutes=15)  # a blockhash lives ~1-2 minutes on mainnet


@workflow.defn(name="SolanaTransaction")
class SolanaTransaction:
    def __init__(self) -> None:
        self._request: SolTransferRequest | None = None
        self._plan: SolPlan | None = None
        self._run = RunState(SolState.PLANNING)
        self._attempts: list[SolAttempt] = []
        self._cancel_requested = False

    @workflow.run
    async def run(self, request: SolTransferRequest) -> SolResult:
        return await failing_with_business_error(self._transfer(request), self._failed)

    def _failed(self, detail: str) -> None:
        self._run.set(SolState.FAILED, detail)

    async def _transfer(self, request: SolTransferRequest) -> SolResult:
        self._request = request
        workflow.upsert_search_attributes(
            [
                sa.CHAIN.value_set(request.cluster),
                sa.SIGNER.value_set(request.signer),
                sa.ASSET.value_set(request.asset),
                sa.STATE.value_set(self._run.state),
            ]
        )
        wf_id = workflow.info().workflow_id
        plan: SolPlan = await workflow.execute_activity(
            SolActivity.PLAN,
            SolPlanInput(workflow_id=wf_id, request=request),
            summary=f"validate; resolve {request.asset} on {request.cluster}",
            result_type=SolPlan,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._plan = plan
        for index in range(request.max_resigns + 1):
            if index > 0 and self._cancel_requested:
                self._run.set(SolState.CANCELLED, f"attempt {index - 1} expired unlanded; not re-signing (cancelled)")
                return self._result(SolOutcome.CANCELLED, None, SolConfirmResult(outcome=ConfirmOutcome.EXPIRED))
            self._run.set(SolState.SIGNING, f"signing attempt {index}")
            attempt: SolAttempt = await workflow.execute_activity(
                SolActivity.SIGN,
                SolSignInput(workflow_id=wf_id, request=request, plan=plan, attempt_index=index),
                summary=f"sign attempt {index} with a recent blockhash",
                result_type=SolAttempt,
                start_to_close_timeout=SHORT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._attempts.append(attempt)
            sent: SolSendResult = await workflow.execute_activity(
                SolActivity.SEND,
                SolSendInput(workflow_id=wf_id, cluster=request.cluster, attempt_index=index),
                summary=f"send attempt {index}",
                result_type=SolSendResult,
                start_to_close_timeout=SHORT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._run.set(
                SolState.CONFIRMING,
                f"attempt {index} {attempt.signature} {sent.outcome}; waiting for {plan.commitment} "
                f"(valid through block height {attempt.last_valid_block_height})",
            )
            confirmed: SolConfirmResult = await workflow.execute_activity(
                SolActivity.CONFIRM,
                SolConfirmInput(
                    workflow_id=wf_id,
                    cluster=request.cluster,
                    attempt_index=index,
                    signature=attempt.signature,
                    last_valid_block_height=attempt.last_valid_block_height,
                    commitment=plan.commitment,
                    poll_interval_ms=request.poll_interval_ms,
                ),
                summary=f"confirm attempt {index} at {plan.commitment}",
                result_type=SolConfirmResult,
                start_to_close_timeout=CONFIRM_LIMIT,
                heartbeat_timeout=CONFIRM_HEARTBEAT,
                retry_policy=ACTIVITY_RETRY,
            )
            if confirmed.outcome is ConfirmOutcome.LANDED:
                self._run.set(SolState.CONFIRMED, f"attempt {index} {confirmed.commitment} in slot {confirmed.slot}")
                return self._result(SolOutcome.CONFIRMED, attempt, confirmed)
            if confirmed.outcome is ConfirmOutcome.FAILED:
                self._run.set(SolState.FAILED, f"attempt {index} landed and failed: {confirmed.error}")
                return self._result(SolOutcome.FAILED, attempt, confirmed)
            attempt.expired = True
            self._run.set(
                SolState.EXPIRED,
                f"attempt {index} can no longer land (block height passed {attempt.last_valid_block_height})",
            )
        raise ApplicationError(
            f"{request.asset} transfer {request.request_id} did not land in {len(self._attempts)} attempt(s), "
            "each proven expired; nothing was transferred",
            type="SolanaNotLanded",
            non_retryable=True,
        )

    def _result(self, outcome: SolOutcome, attempt: SolAttempt | None, confirmed: SolConfirmResult) -> SolResult:
        request, plan = self._request, self._plan
        assert request is not None and plan is not None
        return SolResult(
            request_id=request.request_id,
            cluster=request.cluster,
            signer=request.signer,
            recipient=request.recipient,
            asset=plan.asset,
            mint=plan.mint,
            amount=plan.amount,
            decimals=plan.decimals,
            outcome=outcome,
            signature=attempt.signature if attempt else None,
            slot=confirmed.slot,
            commitment=confirmed.commitment,
            error=confirmed.error,
            attempts=self._attempts,
        )

    @workflow.signal
    def cancel(self) -> None:
        """Do not re-sign: the pending attempt still lands or expires; nothing is sent after."""
        self._cancel_requested = True

    @workflow.query
    def status(self) -> SolStatus:
        request = self._request
        return SolStatus(
            request_id=request.request_id if request else "",
            cluster=request.cluster if request else "",
            signer=request.signer if request else "",
            state=self._run.state,
            attempts=self._attempts,
            detail=self._run.detail,
        )
