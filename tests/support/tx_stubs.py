"""Stand-ins for workflow tests: a ``TransactionLifecycle`` whose every transaction confirms at
once, and a ``tx_send_settle`` (the lifecycle's first step, which ``BridgeTransfer`` runs
itself since ``bridge-inline-tx``) that finds attempt 0 mined at once, but for the steps it is
told to hold.

In a module of its own so that the workflow sandbox, which re-imports a workflow's module,
loads only Temporal and the domain models."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.tx import AttemptKind, BroadcastOutcome, TxAttempt, TxOutcome, TxRequest, TxResult
    from crosslane.domain.tx_steps import PrepareInput, SendResult, TxActivity, WaitOutcome, WaitResult

BLOCK_HASH = "0x" + "11" * 32


def stub_hash(request_id: str) -> str:
    """The stubs' transaction hash for a request: the same for its send and its lifecycle."""
    return "0x" + hashlib.sha256(request_id.encode()).hexdigest()


@workflow.defn(name="TransactionLifecycle")
class ConfirmingLifecycle:
    @workflow.run
    async def run(self, request: TxRequest) -> TxResult:
        return TxResult(
            request_id=request.request_id,
            chain=request.chain,
            signer=request.signer,
            nonce=0,
            outcome=TxOutcome.CONFIRMED,
            mined_tx_hash=stub_hash(request.request_id),
            mined_attempt_index=0,
            block_number=1,
            block_hash=BLOCK_HASH,
            gas_used=21_000,
            effective_gas_price=1,
            attempts=[],
        )


@dataclass
class StubSends:
    """``tx_send_settle``: attempt 0 signed and mined at once, unless its request id ends with
    one of ``held`` (sent, not mined yet: the caller hands it to a lifecycle). ``sent``: the
    ledger ids it was called with, in order."""

    held: tuple[str, ...] = ()
    sent: list[str] = field(default_factory=list)

    @activity.defn(name=TxActivity.SEND_SETTLE)
    async def tx_send_settle(self, inp: PrepareInput) -> SendResult:
        self.sent.append(inp.workflow_id)
        attempt = TxAttempt(
            index=0,
            kind=AttemptKind.ORIGINAL,
            tx_hash=stub_hash(inp.request.request_id),
            nonce=len(self.sent) - 1,
            max_fee_per_gas=2,
            max_priority_fee_per_gas=1,
            broadcast=BroadcastOutcome.SENT,
        )
        if inp.request.request_id.endswith(self.held):
            return SendResult(attempt=attempt)
        mined = WaitResult(
            outcome=WaitOutcome.MINED,
            tx_hash=attempt.tx_hash,
            block_number=1,
            block_hash=BLOCK_HASH,
            status=1,
            gas_used=21_000,
            effective_gas_price=1,
        )
        return SendResult(attempt=attempt, mined=mined)
