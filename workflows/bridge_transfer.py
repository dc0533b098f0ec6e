"""BridgeTransfer: move an asset between chains and always end in a known state.

plan (quote every route, choose, say why) → approve if needed → deposit (each a transaction
landed as a TransactionLifecycle lands it, with the source confirmations on the canonical
chain; see below) → read the deposit's id from its receipt → follow it:
the VAA (Wormhole) or the relayer's fill (Across), polled by a heartbeating activity →
redeem on the destination if the route needs it (not if the VAA was already redeemed) →
verify on-chain that the recipient's balance moved → completed.

An Across deposit unfilled by its fill deadline is followed to its refund on the origin,
which is verified the same way (→ refunded). A Wormhole VAA the guardians do not sign
within ``attestation_patience_seconds`` (guardians down) puts the run in
``waiting_for_operator`` with the reason; it keeps watching and completes when they
return; ``operator_resume`` restarts the patience clock. Nothing is ever abandoned.

Each transaction's ledger id (and child id) is ``tx-<workflow id>.approve|deposit|redeem``: a
replayed or retried step finds attempt 0 in the ledger and re-sends the same signed bytes, so
a worker killed at any point never deposits or redeems twice. Since the patch
``bridge-inline-tx`` (issue 15) the transfer sends attempt 0 itself, as the lifecycle's own
first step (a local ``tx_send_settle`` under that ledger id), and a transaction mined at once
(an automining devnet) is done there: no child execution. One not mined yet is handed to a
child lifecycle with that id, whose first step finds the same attempt 0 and re-sends its
bytes, then waits, bumps or cancels it as always. ``cancel`` is honoured only before the
deposit is sent. Query ``status`` (``transactions``: every step's hash; ``child_workflow_ids``:
the lifecycles started).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.workflow import ActivityCancellationType

from workflows import search_attributes as sa
from workflows.failures import failing_with_business_error, failure_reason
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.bridge import (
        BridgePlan,
        BridgeProgress,
        BridgeRequest,
        BridgeResult,
        BridgeState,
        BridgeStatus,
        DepositRef,
    )
    from crosslane.domain.bridge_steps import (
        INLINE_TX_PATCH,
        LOCAL_STEPS_PATCH,
        BridgeActivity,
        BridgePlanInput,
        CompletionInput,
        DepositRefInput,
        RecordFailureInput,
        TrackInput,
        VerifyInput,
        inline_tx_offered,
        local_steps_offered,
    )
    from crosslane.domain.tx import TxOutcome, TxRequest, TxResult
    from crosslane.domain.tx_steps import PrepareInput, SendResult, TxActivity, settled_result
    from crosslane.telemetry.names import BRIDGE_STAGE_SECONDS

CHILD_CANCEL = "cancel"  # TransactionLifecycle's signal
PLAN_TIMEOUT = timedelta(seconds=30)  # quotes from every route, DEX reads to price gas
SHORT = timedelta(seconds=15)
TX_SEND = timedelta(seconds=10)  # the lifecycle's own timeout for its short steps
# How long an inline send looks for its receipt before a child lifecycle takes over: on an
# automining devnet a contract call is mined within milliseconds of the send, but not always
# before the node answers it; on a chain with block times this is the cost of the fallback.
TX_SETTLE_WITHIN_MS = 1_000
TRACK_WINDOW_S = 30.0
# Waiting for an operator may last days: longer polls keep the history small (≈36 events an
# hour); a change of state still returns at once and operator_resume cancels the poll.
WAITING_WINDOW_S = 300.0
HEARTBEAT = timedelta(seconds=10)
FINALIZATION_MARGIN_S = 2  # past the period by the chain's clock: its next block is after it
READY = (BridgeState.PENDING_DESTINATION_TX, BridgeState.COMPLETED, BridgeState.REFUNDED)
# States that may last forever without an operator: no VAA, no refund bundle.
PATIENCE_APPLIES = (BridgeState.PENDING_ATTESTATION, BridgeState.PENDING_REFUND)


@workflow.defn(name="BridgeTransfer")
class BridgeTransfer:
    def __init__(self) -> None:
        self._request: BridgeRequest | None = None
        self._plan: BridgePlan | None = None
        self._ref: DepositRef | None = None
        self._run = RunState(BridgeState.QUOTING)
        self._child: workflow.ChildWorkflowHandle[Any, TxResult] | None = None
        self._child_ids: dict[str, str] = {}
        self._transactions: dict[str, str] = {}  # step -> its transaction's hash (the mined one once known)
        self._completion_tx: str | None = None
        self._refund_tx: str | None = None
        self._cancel_requested = False
        self._cancel_refused = False
        self._deposit_started = False
        self._resume_requested = False
        self._waiting_since: str | None = None
        self._stage_started = 0.0
        self._stages: dict[str, float] = {}
        self._proven_at: str | None = None
        self._finalizable_at: str | None = None
        self._finalize_now = False
        self._finalize_refused = False
        self._local_steps = False
        self._inline_tx = False

    @workflow.run
    async def run(self, request: BridgeRequest) -> BridgeResult:
        return await failing_with_business_error(
            self._transfer(request), lambda why: self._run.set(BridgeState.FAILED, why)
        )

    async def _transfer(self, request: BridgeRequest) -> BridgeResult:
        self._request = request
        wf_id = workflow.info().workflow_id
        # A new run's shape as its worker offers it (one patch marker); a replayed run's as its
        # history says, whatever the replaying worker offers.
        replaying = workflow.unsafe.is_replaying()
        if (inline_tx_offered() or replaying) and workflow.patched(INLINE_TX_PATCH):
            self._local_steps = self._inline_tx = True
        elif local_steps_offered() or replaying:
            self._local_steps = workflow.patched(LOCAL_STEPS_PATCH)
        self._stage_started = workflow.time()
        workflow.upsert_search_attributes(
            [
                sa.CHAIN.value_set(request.source_chain),
                sa.DESTINATION_CHAIN.value_set(request.destination_chain),
                sa.ASSET.value_set(request.asset),
                sa.SIGNER.value_set(request.signer),
                sa.STATE.value_set(self._run.state),
            ]
        )
        self._run.set(
            BridgeState.QUOTING,
            f"{request.amount} base units of {request.asset} {request.source_chain} -> {request.destination_chain}",
        )
        plan: BridgePlan = await self._short(
            BridgeActivity.PLAN,
            BridgePlanInput(workflow_id=wf_id, request=request),
            summary="validate, quote every route, choose",
            result_type=BridgePlan,
            timeout=PLAN_TIMEOUT,
        )
        self._plan = plan
        workflow.upsert_search_attributes([sa.ROUTE.value_set(plan.route)])
        self._stage("plan")
        try:
            return await self._execute(request, plan)
        except (ActivityError, ChildWorkflowError, ApplicationError) as exc:
            # The plan is in the ledger: leave the transfer there as failed, with the reason.
            reason = failure_reason(exc)
            await self._short(
                BridgeActivity.RECORD_FAILURE,
                RecordFailureInput(workflow_id=wf_id, request=request, plan=plan, reason=reason),
                summary="record the failure in the ledger",
                timeout=SHORT,
            )
            raise

    async def _execute(self, request: BridgeRequest, plan: BridgePlan) -> BridgeResult:
        """Everything after the plan: approve, deposit, follow, complete, verify."""
        wf_id = workflow.info().workflow_id

        if plan.approval is not None:
            self._stop_if_cancelled("before the approval")
            self._run.set(BridgeState.APPROVING, f"approving {plan.route} for {plan.source_token.symbol}")
            approve = await self._land("approve", plan.approval, "approve the bridge")
            if approve.outcome is not TxOutcome.CONFIRMED:
                raise ApplicationError(
                    f"the approval {approve.mined_tx_hash} was {approve.outcome}: nothing was deposited",
                    type="BridgeCancelled" if self._cancel_requested else "ApprovalFailed",
                    non_retryable=True,
                )
            self._stage("approve")

        self._stop_if_cancelled("before the deposit")
        self._deposit_started = True
        self._run.set(
            BridgeState.PENDING_SOURCE_CONFIRMATIONS,
            f"depositing {plan.source_token.amount_text(plan.amount)} via {plan.route}",
        )
        deposit = await self._land("deposit", plan.deposit, f"deposit into {plan.route}")
        if deposit.outcome is not TxOutcome.CONFIRMED:
            raise ApplicationError(
                f"the deposit {deposit.mined_tx_hash} was {deposit.outcome}: nothing was bridged",
                type="DepositFailed",
                non_retryable=True,
            )
        ref: DepositRef = await self._short(
            BridgeActivity.DEPOSIT_REF,
            DepositRefInput(workflow_id=wf_id, plan=plan, deposit=deposit),
            summary="the deposit's id from its receipt",
            result_type=DepositRef,
            timeout=SHORT,
        )
        self._ref = ref
        self._stage("deposit")

        progress = await self._follow(ref)
        completion: TxResult | None = None
        # One destination transaction (Wormhole's redeem), or two with a wait between them (an
        # OP Stack withdrawal: prove, the finalization period, finalize).
        while progress.state is BridgeState.PENDING_DESTINATION_TX:
            step = progress.step
            self._run.set(BridgeState.PENDING_DESTINATION_TX, progress.detail)
            redeem: TxRequest | None = await self._short(
                BridgeActivity.COMPLETION,
                CompletionInput(workflow_id=wf_id, request=request, ref=ref, progress=progress),
                summary=f"check not yet done; build the {step}",
                result_type=TxRequest | None,
                timeout=SHORT,
            )
            if redeem is not None:
                completion = await self._land(step, redeem, f"{step} on {ref.destination_chain}")
            self._stage(step)
            if step != "prove":
                break
            progress = await self._follow(ref)

        result: BridgeResult = await self._short(
            BridgeActivity.VERIFY,
            VerifyInput(
                workflow_id=wf_id,
                request=request,
                plan=plan,
                ref=ref,
                progress=progress,
                completion=completion,
                stage_seconds=self._stages,
            ),
            summary="verify the balance moved on-chain",
            result_type=BridgeResult,
            timeout=SHORT,
        )
        self._completion_tx, self._refund_tx = result.completion_tx, result.refund_tx
        self._stage("verify")
        result = result.model_copy(update={"stage_seconds": self._stages})
        # a refund pays the source token back to the depositor
        delivered = plan.destination_token if result.state is BridgeState.COMPLETED else plan.source_token
        self._run.set(
            result.state,
            f"{delivered.amount_text(result.received)} to {result.recipient}"
            f" ({result.completion_tx or result.refund_tx or 'redeemed by another'})",
        )
        return result

    async def _follow(self, ref: DepositRef) -> BridgeProgress:
        """Poll until the VAA is signed, the fill landed or the refund is paid. Past the
        patience, say so and wait for an operator, still watching."""
        assert self._request is not None
        patience = self._request.attestation_patience_seconds
        state = BridgeState.PENDING_SOURCE_CONFIRMATIONS
        since = workflow.time()
        while True:
            window = WAITING_WINDOW_S if self._waiting_since is not None else TRACK_WINDOW_S
            if state in PATIENCE_APPLIES and self._waiting_since is None:  # switch to waiting on time
                window = min(window, max(1.0, patience - (workflow.time() - since)))
            track = workflow.start_activity(
                BridgeActivity.TRACK,
                TrackInput(ref=ref, current=state, max_seconds=window),
                summary=f"follow {ref.id}",
                result_type=BridgeProgress,
                start_to_close_timeout=timedelta(seconds=window + 30),
                heartbeat_timeout=HEARTBEAT,
                retry_policy=ACTIVITY_RETRY,
                cancellation_type=ActivityCancellationType.TRY_CANCEL,
            )
            await workflow.wait_condition(lambda t=track: t.done() or self._resume_requested)
            if self._resume_requested:  # the operator says it is fixed: look again now
                self._resume_requested = False
                since, self._waiting_since = workflow.time(), None
                self._run.set(state, f"operator resumed: watching {ref.id} again")
                if not track.done():
                    track.cancel()
                    with contextlib.suppress(ActivityError, asyncio.CancelledError):
                        await track
                    continue
            progress = await track
            if progress.state is BridgeState.PENDING_FINALIZATION:
                state = progress.state
                await self._wait_finalization(progress)
                continue
            if progress.state in READY:
                self._stage("wait")
                if progress.state is BridgeState.REFUNDED:
                    self._run.set(BridgeState.PENDING_REFUND, progress.detail)
                return progress
            if progress.state != state:
                state, since = progress.state, workflow.time()
            if state in PATIENCE_APPLIES and workflow.time() - since >= patience:
                if self._waiting_since is None:
                    self._waiting_since = workflow.now().isoformat()
                self._run.set(
                    BridgeState.WAITING_FOR_OPERATOR,
                    f"{progress.detail} — for {int(workflow.time() - since)} s, past the {patience} s patience; "
                    "still watching: it completes by itself when this clears; signal operator_resume after a fix",
                )
            else:
                self._run.set(state, progress.detail)

    async def _wait_finalization(self, progress: BridgeProgress) -> None:
        """A durable timer until the withdrawal is finalizable (days on mainnet: no activity
        polls meanwhile), cut short by ``finalize_now``; the chain is asked again after either."""
        assert progress.ready_at is not None
        ready = datetime.fromtimestamp(progress.ready_at, UTC)
        self._finalizable_at = ready.isoformat()
        if progress.proven_at is not None:
            self._proven_at = datetime.fromtimestamp(progress.proven_at, UTC).isoformat()
        workflow.upsert_search_attributes([sa.FINALIZABLE_AT.value_set(ready)])
        detail = progress.detail
        if self._finalize_refused:
            detail += f"; finalize_now refused: the portal finalizes only from {ready.isoformat()}"
            self._finalize_refused = False
        self._run.set(BridgeState.PENDING_FINALIZATION, detail)
        chain_now = progress.chain_time if progress.chain_time is not None else progress.ready_at
        wait = timedelta(seconds=max(1, progress.ready_at - chain_now) + FINALIZATION_MARGIN_S)
        self._finalize_now = False
        try:
            await workflow.wait_condition(
                lambda: self._finalize_now, timeout=wait, timeout_summary="finalization period"
            )
            self._finalize_refused = True  # asked early: the next look at the chain says whether it was
        except TimeoutError:
            pass

    async def _short(
        self,
        name: str,
        arg: object,
        *,
        summary: str,
        timeout: timedelta,
        result_type: Any = None,
        regular: bool = False,
    ) -> Any:
        """One short step (not the heartbeating track): a local activity since the patch
        ``bridge-local-steps`` (a marker in the workflow task that runs it, no activity task
        through the server), else (or ``regular``) a regular one."""
        local = self._local_steps and not regular
        run = workflow.execute_local_activity if local else workflow.execute_activity
        return await run(  # type: ignore[operator]
            name,
            arg,
            summary=summary,
            result_type=result_type,
            start_to_close_timeout=timeout,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _land(self, step: str, tx: TxRequest, summary: str) -> TxResult:
        """Land one transaction. Since ``bridge-inline-tx``: the lifecycle's first step here, done
        when it is mined at once; else (and before the patch) a child lifecycle, joined, not
        repeated, on replay."""
        if self._inline_tx:
            # The approval as a regular activity: the workflow task ends while it runs, so a
            # ``cancel`` sent meanwhile is taken in before the deposit (a local one would run in
            # the workflow task that goes on to send the deposit, and the signal would wait for
            # the next one).
            sent: SendResult = await self._short(
                TxActivity.SEND_SETTLE,
                # The child's ledger id: the same nonce and bytes if it takes over.
                PrepareInput(workflow_id=tx.workflow_id, request=tx, settle_within_ms=TX_SETTLE_WITHIN_MS),
                summary=f"{summary}: sign, send and look for the receipt",
                result_type=SendResult,
                timeout=TX_SEND,
                regular=step == "approve",
            )
            self._transactions[step] = sent.attempt.tx_hash
            if sent.mined is not None:
                return settled_result(tx, [sent.attempt], sent.mined)
        landed = await self._child_tx(step, tx, summary)
        self._transactions[step] = landed.mined_tx_hash
        return landed

    async def _child_tx(self, step: str, tx: TxRequest, summary: str) -> TxResult:
        """Run one transaction as a child lifecycle; an approval is cancelled if asked already."""
        self._child_ids[step] = tx.workflow_id
        # By its type name: importing ``workflows.tx_lifecycle`` here made the sandbox import it
        # again for every transfer's run (the same child type, the same history).
        self._child = await workflow.start_child_workflow(
            TxRequest.workflow_type,
            tx,
            id=tx.workflow_id,
            result_type=TxResult,
            static_summary=f"{summary} for {workflow.info().workflow_id}",
        )
        if self._cancel_requested and step == "approve":
            await self._child.signal(CHILD_CANCEL)
        try:
            return await self._child
        finally:
            self._child = None

    def _stop_if_cancelled(self, when: str) -> None:
        if self._cancel_requested:
            raise ApplicationError(
                f"cancelled {when}: nothing was deposited", type="BridgeCancelled", non_retryable=True
            )

    def _stage(self, name: str) -> None:
        now = workflow.time()
        self._stages[name] = round(now - self._stage_started, 3)
        self._stage_started = now
        # Temporal's workflow meter records nothing while replaying: one sample per stage.
        workflow.metric_meter().create_histogram_float(
            BRIDGE_STAGE_SECONDS, "seconds per bridge transfer stage (workflow time)", "s"
        ).record(self._stages[name], {"route": str(self._plan.route) if self._plan else "none", "stage": name})

    @workflow.signal
    async def cancel(self) -> None:
        """Stop before the deposit is sent (an approval in flight is cancelled); refused after."""
        if self._deposit_started:
            workflow.logger.info("cancel refused: the deposit is already sent; the transfer continues")
            self._cancel_refused = True
            return
        self._cancel_requested = True
        if self._child is not None:
            await self._child.signal(CHILD_CANCEL)

    @workflow.signal
    def operator_resume(self) -> None:
        """An operator says the cause is fixed: back to watching with the patience restarted."""
        self._resume_requested = True

    @workflow.signal
    def finalize_now(self) -> None:
        """Look at a proven withdrawal now instead of at the end of its timer (a clock that ran
        ahead); finalizing before the period ends is refused, the reason in ``status``."""
        self._finalize_now = True

    @workflow.query
    def status(self) -> BridgeStatus:
        request, plan, ref = self._request, self._plan, self._ref
        return BridgeStatus(
            request_id=request.request_id if request else "",
            state=self._run.state,
            detail=self._run.detail,
            route=plan.route if plan else None,
            reason=plan.reason if plan else None,
            source_chain=request.source_chain if request else "",
            destination_chain=request.destination_chain if request else "",
            asset=request.asset if request else "",
            amount=request.amount if request else 0,
            deposit_tx=ref.tx_hash if ref else None,
            deposit_id=ref.id if ref else None,
            completion_tx=self._completion_tx,
            refund_tx=self._refund_tx,
            child_workflow_ids=dict(self._child_ids),
            transactions=dict(self._transactions),
            waiting_since=self._waiting_since,
            proven_at=self._proven_at,
            finalizable_at=self._finalizable_at,
            cancel_refused=self._cancel_refused,
        )
