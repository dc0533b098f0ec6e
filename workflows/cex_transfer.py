"""CexTransfer: move an asset between a CEX account and a chain address, exactly once.

withdraw: plan (venue currency and network, fee, minimum, precision, recipient) → ask the
venue once under our reference (``withdrawOrderId``/``clientId``, derived from the workflow
id; looked up before asking, so a worker killed after the request finds it) → look at the
venue on durable timers until it has sent and confirmed → verify on chain what arrived.

deposit: plan (our signer's key and balance, the account's deposit address) → our transaction
as a child ``TransactionLifecycle`` (id ``tx-<workflow id>.deposit``: joined, never sent
twice) → look at the venue until it credits that transaction → verify the credited amount.

A failure after the plan is recorded in the ledger with its reason. Query ``status``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from workflows import search_attributes as sa
from workflows.failures import failing_with_business_error, failure_reason
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState
from workflows.tx_lifecycle import TransactionLifecycle

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.cex_transfer import (
        CexTransferRequest,
        CexTransferResult,
        CexTransferState,
        CexTransferStatus,
        TransferDirection,
    )
    from crosslane.domain.cex_transfer_steps import (
        CexTransferActivity,
        CexTransferPlan,
        DepositStatusInput,
        PlanInput,
        TransferFailureInput,
        TransferVerifyInput,
        VenueDeposit,
        VenueTransferStatus,
        VenueWithdrawal,
        WithdrawInput,
    )
    from crosslane.domain.tx import TxOutcome, TxResult

SHORT = timedelta(seconds=30)
# Polling backs off x1.5 from the request's poll_seconds: up to every 10 s while a transfer is
# as quick as venues usually are, then up to every 10 min, so a withdrawal a venue holds for
# review (hours, days) keeps its history small (a 10 s pace would hit Temporal's history limit
# in about a day). The first 10 minutes poll exactly as before, so recorded histories replay.
MAX_POLL_S = 10.0
PATIENT_AFTER = timedelta(minutes=10)
MAX_PATIENT_POLL_S = 600.0
GONE = (VenueTransferStatus.FAILED, VenueTransferStatus.CANCELED)


def next_poll_delay(delay: float, waited: timedelta) -> float:
    """The next pause between two looks at the venue, after ``waited`` in this wait."""
    return min(delay * 1.5, MAX_POLL_S if waited < PATIENT_AFTER else MAX_PATIENT_POLL_S)


@workflow.defn(name="CexTransfer")
class CexTransfer:
    def __init__(self) -> None:
        self._request: CexTransferRequest | None = None
        self._plan: CexTransferPlan | None = None
        self._run = RunState(CexTransferState.PLANNING)
        self._withdrawal: VenueWithdrawal | None = None
        self._deposit: VenueDeposit | None = None
        self._tx_hash: str | None = None

    @workflow.run
    async def run(self, request: CexTransferRequest) -> CexTransferResult:
        return await failing_with_business_error(
            self._transfer(request), lambda why: self._run.set(CexTransferState.FAILED, why)
        )

    async def _transfer(self, request: CexTransferRequest) -> CexTransferResult:
        self._request = request
        wf_id = workflow.info().workflow_id
        workflow.upsert_search_attributes(
            [
                sa.CHAIN.value_set(request.chain),
                sa.ASSET.value_set(request.asset),
                sa.ROUTE.value_set(f"{request.venue}:{request.direction}"),
                sa.STATE.value_set(self._run.state),
            ]
        )
        self._run.set(
            CexTransferState.PLANNING,
            f"{request.direction} {request.amount} {request.asset} {request.venue} <-> {request.chain}",
        )
        plan: CexTransferPlan = await workflow.execute_activity(
            CexTransferActivity.PLAN,
            PlanInput(workflow_id=wf_id, request=request),
            summary="check venue, network, amount and address; record the plan",
            result_type=CexTransferPlan,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        self._plan = plan
        try:
            if request.direction is TransferDirection.WITHDRAW:
                return await self._withdraw(plan)
            return await self._deposit_in(plan)
        except (ActivityError, ChildWorkflowError, ApplicationError) as exc:
            reason = failure_reason(exc)
            await workflow.execute_activity(
                CexTransferActivity.RECORD_FAILURE,
                TransferFailureInput(workflow_id=wf_id, plan=plan, reason=reason),
                summary="record the failure in the ledger",
                start_to_close_timeout=SHORT,
                retry_policy=ACTIVITY_RETRY,
            )
            raise

    async def _withdraw(self, plan: CexTransferPlan) -> CexTransferResult:
        request, wf_id = plan.request, workflow.info().workflow_id
        self._run.set(CexTransferState.REQUESTING, f"asking {request.venue} for {plan.client_ref}")
        step = WithdrawInput(workflow_id=wf_id, plan=plan)
        withdrawal: VenueWithdrawal = await workflow.execute_activity(
            CexTransferActivity.WITHDRAW,
            step,
            summary=f"withdraw {request.amount} {request.asset} to {request.address}",
            result_type=VenueWithdrawal,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        delay, since = request.poll_seconds, workflow.now()
        while True:
            self._withdrawal = withdrawal
            self._tx_hash = withdrawal.tx_hash
            if withdrawal.status is VenueTransferStatus.OK and withdrawal.tx_hash:
                break
            if withdrawal.status in GONE:
                raise ApplicationError(
                    f"{request.venue} reports withdrawal {withdrawal.id} {withdrawal.status}",
                    type="WithdrawalFailed",
                    non_retryable=True,
                )
            if withdrawal.tx_hash:
                self._run.set(
                    CexTransferState.PENDING_CONFIRMATIONS,
                    f"withdrawal {withdrawal.id} sent in {withdrawal.tx_hash}; waiting for {request.venue} to confirm",
                )
            else:
                self._run.set(
                    CexTransferState.VENUE_PROCESSING,
                    f"withdrawal {withdrawal.id} accepted by {request.venue}; not sent yet",
                )
            await workflow.sleep(delay)
            delay = next_poll_delay(delay, workflow.now() - since)
            withdrawal = await workflow.execute_activity(
                CexTransferActivity.WITHDRAWAL_STATUS,
                step,
                summary=f"look at withdrawal {withdrawal.id}",
                result_type=VenueWithdrawal,
                start_to_close_timeout=SHORT,
                retry_policy=ACTIVITY_RETRY,
            )
        return await self._verify(TransferVerifyInput(workflow_id=wf_id, plan=plan, withdrawal=withdrawal))

    async def _deposit_in(self, plan: CexTransferPlan) -> CexTransferResult:
        request, wf_id = plan.request, workflow.info().workflow_id
        tx = plan.deposit_tx
        assert tx is not None
        self._run.set(CexTransferState.SENDING, f"sending {request.amount} {request.asset} to {plan.deposit_address}")
        sent: TxResult = await workflow.execute_child_workflow(
            TransactionLifecycle.run,
            tx,
            id=tx.workflow_id,
            result_type=TxResult,
            static_summary=f"deposit to {request.venue} for {wf_id}",
        )
        if sent.outcome is not TxOutcome.CONFIRMED:
            raise ApplicationError(
                f"the deposit transaction {sent.mined_tx_hash} was {sent.outcome}: nothing reached {request.venue}",
                type="DepositFailed",
                non_retryable=True,
            )
        self._tx_hash = sent.mined_tx_hash
        step = DepositStatusInput(workflow_id=wf_id, plan=plan, tx_hash=sent.mined_tx_hash)
        delay, since = request.poll_seconds, workflow.now()
        while True:
            deposit: VenueDeposit | None = await workflow.execute_activity(
                CexTransferActivity.DEPOSIT_STATUS,
                step,
                summary=f"look for {sent.mined_tx_hash} at {request.venue}",
                result_type=VenueDeposit | None,  # type: ignore[arg-type]
                start_to_close_timeout=SHORT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._deposit = deposit
            if deposit is not None and deposit.status is VenueTransferStatus.OK:
                break
            if deposit is not None and deposit.status in GONE:
                raise ApplicationError(
                    f"{request.venue} reports deposit {deposit.id} {deposit.status}", type="DepositFailed",
                    non_retryable=True,
                )  # fmt: skip
            seen = f"seen as deposit {deposit.id}" if deposit else "not seen yet"
            self._run.set(
                CexTransferState.WAITING_FOR_CREDIT,
                f"{sent.mined_tx_hash} mined; {request.venue}: {seen}, waiting for its confirmations",
            )
            await workflow.sleep(delay)
            delay = next_poll_delay(delay, workflow.now() - since)
        return await self._verify(TransferVerifyInput(workflow_id=wf_id, plan=plan, deposit=deposit, deposit_tx=sent))

    async def _verify(self, inp: TransferVerifyInput) -> CexTransferResult:
        result: CexTransferResult = await workflow.execute_activity(
            CexTransferActivity.VERIFY,
            inp,
            summary="verify on chain / on the venue; record",
            result_type=CexTransferResult,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        where = (
            f"{result.address} on {result.chain}" if result.direction is TransferDirection.WITHDRAW else result.venue
        )
        self._run.set(CexTransferState.COMPLETED, f"{result.received} {result.asset} to {where} ({result.tx_hash})")
        return result

    @workflow.query
    def status(self) -> CexTransferStatus:
        request, plan = self._request, self._plan
        return CexTransferStatus(
            request_id=request.request_id if request else "",
            state=self._run.state,
            detail=self._run.detail,
            venue=request.venue if request else "",
            direction=request.direction if request else None,
            asset=request.asset if request else "",
            chain=request.chain if request else "",
            amount=request.amount if request else 0,
            client_ref=plan.client_ref if plan else None,
            withdrawal_id=self._withdrawal.id if self._withdrawal else None,
            deposit_id=self._deposit.id if self._deposit else None,
            tx_hash=self._tx_hash,
            deposit_address=plan.deposit_address if plan else None,
        )
