"""TransactionLifecycle: land one transaction, bumping it while it is stuck.

submit → wait for inclusion and N confirmations → not included within the policy →
replace with fees raised ≥ bump_bps, up to the cap → at the cap, cancel if asked →
confirmed / cancelled / reverted, with every attempt listed.

Server round trips (issue 15): a regular activity is three history events and a workflow task
turn; a local activity is one marker inside the workflow task that runs it. Since the patch
``tx-local-steps``, the short steps run as local activities, and attempt 0 is prepared and
sent in one of them (``tx_send``), so the send happens in the run's first workflow task;
only the receipt watch (``tx_wait``, heartbeating, possibly long) stays a regular activity.
Since the patch ``tx-send-settles`` (which implies the local steps, so a run records one patch
marker, not two), attempt 0 is sent by ``tx_send_settle``, which then looks once for its
receipt: a chain that mined it during the send (an automining devnet) with the confirmations
asked for settles the run in that same workflow task, without ``tx_wait``.
A run keeps the shape its history started with; a worker with ``CROSSLANE_TX_SEND_SETTLES=0``
starts new runs in the shape of ``tx-local-steps``, one with ``CROSSLANE_TX_LOCAL_STEPS=0`` in
the shape before both.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import search_attributes as sa
from workflows.failures import business_failure
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.tx import (
        AttemptKind,
        BroadcastOutcome,
        TxAttempt,
        TxRequest,
        TxResult,
        TxState,
        TxStatus,
    )
    from crosslane.domain.tx_steps import (
        LOCAL_STEPS_PATCH,
        SEND_SETTLES_PATCH,
        BroadcastInput,
        BroadcastResult,
        PrepareInput,
        ReplaceInput,
        ReplaceResult,
        SendResult,
        TxActivity,
        WaitInput,
        WaitOutcome,
        WaitResult,
        local_steps_offered,
        send_settles_offered,
        settled_result,
    )

T = TypeVar("T")

SHORT = timedelta(seconds=10)  # short steps; a local one killed with its worker re-runs after the task timeout
WAIT_HEARTBEAT = timedelta(seconds=5)


def _shape() -> tuple[bool, bool]:
    """(short steps as local activities, attempt 0's send settles when already mined): a new
    run's as its worker offers them (recording one patch marker); a replayed run's as its
    history's marker says, whatever the replaying worker offers."""
    replaying = workflow.unsafe.is_replaying()
    if (send_settles_offered() or replaying) and workflow.patched(SEND_SETTLES_PATCH):
        return True, True
    if local_steps_offered() or replaying:
        return workflow.patched(LOCAL_STEPS_PATCH), False
    return False, False


def _listed_at_start(request: TxRequest) -> bool:
    """Whether the run's start carried its chain, signer and first state as search attributes
    (``CrosslaneClient.start_tx`` sets them): a run in the ``tx-send-settles`` shape then skips
    its own first upsert. Read from the start event, so a replay decides the same."""
    listed = workflow.info().typed_search_attributes
    return (listed.get(sa.CHAIN), listed.get(sa.SIGNER), listed.get(sa.STATE)) == (
        request.chain,
        request.signer,
        TxState.PREPARING,
    )


@workflow.defn(name="TransactionLifecycle")
class TransactionLifecycle:
    def __init__(self) -> None:
        self._request: TxRequest | None = None
        self._run = RunState(TxState.PREPARING)
        self._attempts: list[TxAttempt] = []
        self._bump_requested = False
        self._cancel_requested = False
        self._local_steps = False
        self._send_settles = False

    @workflow.run
    async def run(self, request: TxRequest) -> TxResult:
        try:
            return await self._land(request)
        except ActivityError as exc:
            self._run.set(TxState.FAILED, str(exc.cause or exc))
            failure = business_failure(exc)
            if failure is exc:
                raise
            raise failure from exc

    async def _land(self, request: TxRequest) -> TxResult:
        self._request = request
        wf_id = workflow.info().workflow_id
        self._local_steps, self._send_settles = _shape()
        if not (self._send_settles and _listed_at_start(request)):
            workflow.upsert_search_attributes(
                [
                    sa.CHAIN.value_set(request.chain),
                    sa.SIGNER.value_set(request.signer),
                    sa.STATE.value_set(self._run.state),
                ]
            )
        prepare = PrepareInput(workflow_id=wf_id, request=request)
        if self._send_settles:
            sent = await self._step(
                TxActivity.SEND_SETTLE, prepare, SendResult, "validate, take a nonce, sign, send and look for attempt 0"
            )
            first = sent.attempt
            self._attempts.append(first)
            self._note_broadcast(first)
            if sent.mined is not None:
                return self._result(sent.mined)
        elif self._local_steps:
            first = await self._step(
                TxActivity.SEND, prepare, TxAttempt, "validate, take a nonce, sign and send attempt 0"
            )
            self._attempts.append(first)
            self._note_broadcast(first)
        else:
            first = await self._step(TxActivity.PREPARE, prepare, TxAttempt, "validate, take a nonce, sign attempt 0")
            self._attempts.append(first)
            await self._broadcast(first)
        self._run.set(TxState.PENDING, f"nonce {first.nonce} sent")
        while True:
            waited = await self._wait()
            if waited is not None and waited.outcome is WaitOutcome.MINED:
                return self._result(waited)
            if waited is not None and waited.outcome is WaitOutcome.NONCE_CONSUMED:
                self._run.set(TxState.FAILED, "nonce used by a transaction that is not ours")
                raise ApplicationError(
                    f"nonce {first.nonce} of {request.signer} on {request.chain} was used by another transaction",
                    type="NonceConsumed",
                    non_retryable=True,
                )
            self._bump_requested = False
            kind = AttemptKind.CANCEL if self._cancel_requested else AttemptKind.REPLACEMENT
            replaced = await self._replace(kind)
            if replaced.at_cap and request.policy.cancel_at_cap:
                self._cancel_requested = True
                kind = AttemptKind.CANCEL
                replaced = await self._replace(kind)
            if replaced.attempt is None:
                self._run.set(TxState.AT_CAP, replaced.detail + "; waiting at the cap")
                # Re-offer the last attempt: the node may have dropped it while the base fee was above it.
                await self._broadcast(self._attempts[-1])
                continue
            self._attempts.append(replaced.attempt)
            await self._broadcast(replaced.attempt)
            self._run.set(
                TxState.CANCELLING if kind is AttemptKind.CANCEL else TxState.REPLACING,
                f"attempt {replaced.attempt.index} ({kind}) at {replaced.attempt.max_fee_per_gas} wei/gas",
            )

    async def _step(self, name: TxActivity, arg: object, result_type: type[T], summary: str) -> T:
        """One short step: a local activity since the patch, else a regular one."""
        run = workflow.execute_local_activity if self._local_steps else workflow.execute_activity
        result: T = await run(  # type: ignore[operator]
            name,
            arg,
            summary=summary,
            result_type=result_type,
            start_to_close_timeout=SHORT,
            retry_policy=ACTIVITY_RETRY,
        )
        return result

    async def _broadcast(self, attempt: TxAttempt) -> None:
        assert self._request is not None
        sent = await self._step(
            TxActivity.BROADCAST,
            BroadcastInput(
                workflow_id=workflow.info().workflow_id,
                chain=self._request.chain,
                attempt_index=attempt.index,
                protected=self._request.protected,
            ),
            BroadcastResult,
            f"broadcast attempt {attempt.index}",
        )
        attempt.broadcast = sent.outcome
        self._note_broadcast(attempt)

    def _note_broadcast(self, attempt: TxAttempt) -> None:
        if attempt.broadcast is BroadcastOutcome.UNDERPRICED:
            self._run.detail = f"attempt {attempt.index} refused as underpriced; the next bump goes higher"
        elif attempt.broadcast is BroadcastOutcome.FEE_BELOW_BASE_FEE:
            self._run.detail = f"attempt {attempt.index} is below the base fee; waiting, then re-pricing"

    async def _replace(self, kind: AttemptKind) -> ReplaceResult:
        assert self._request is not None
        return await self._step(
            TxActivity.REPLACE,
            ReplaceInput(
                workflow_id=workflow.info().workflow_id,
                request=self._request,
                attempt_index=len(self._attempts),
                kind=kind,
            ),
            ReplaceResult,
            f"sign {kind} attempt {len(self._attempts)}",
        )

    async def _wait(self) -> WaitResult | None:
        """Wait for inclusion; ``None`` when a signal asks to act before the window ends."""
        request = self._request
        assert request is not None
        policy = request.policy
        window = timedelta(seconds=policy.replace_after_seconds or 3600)
        handle = workflow.start_activity(
            TxActivity.WAIT,
            WaitInput(
                workflow_id=workflow.info().workflow_id,
                chain=request.chain,
                signer=request.signer,
                nonce=self._attempts[0].nonce,
                tx_hashes=[a.tx_hash for a in self._attempts],
                confirmations=policy.confirmations,
                max_blocks=policy.replace_after_blocks,
                max_seconds=policy.replace_after_seconds,
                poll_interval_ms=policy.poll_interval_ms,
                # At the cap a dropped attempt cannot be re-priced: wait out the window instead.
                detect_drops=self._run.state is not TxState.AT_CAP,
                protected=request.protected,
            ),
            summary=f"wait for inclusion of {len(self._attempts)} attempt(s)",
            result_type=WaitResult,
            start_to_close_timeout=window + timedelta(minutes=5),
            heartbeat_timeout=WAIT_HEARTBEAT,
            retry_policy=ACTIVITY_RETRY,
        )
        await workflow.wait_condition(lambda: handle.done() or self._bump_requested or self._cancel_pending)
        if handle.done():
            return handle.result()
        handle.cancel()
        return None

    @property
    def _cancel_pending(self) -> bool:
        """A cancel was asked for and no cancel attempt has been sent yet."""
        return self._cancel_requested and not any(a.kind is AttemptKind.CANCEL for a in self._attempts)

    def _result(self, waited: WaitResult) -> TxResult:
        assert self._request is not None
        result = settled_result(self._request, self._attempts, waited)
        self._run.set(
            TxState(result.outcome.value), f"attempt {result.mined_attempt_index} mined in block {result.block_number}"
        )
        return result

    @workflow.signal
    def bump_now(self) -> None:
        """Replace the pending attempt now instead of at the end of the policy window."""
        self._bump_requested = True

    @workflow.signal
    def cancel(self) -> None:
        """Replace the pending attempt with a 0-value self-send for the same nonce."""
        self._cancel_requested = True

    @workflow.query
    def status(self) -> TxStatus:
        request = self._request
        return TxStatus(
            request_id=request.request_id if request else "",
            chain=request.chain if request else "",
            signer=request.signer if request else "",
            state=self._run.state,
            nonce=self._attempts[0].nonce if self._attempts else None,
            attempts=self._attempts,
            detail=self._run.detail,
        )
