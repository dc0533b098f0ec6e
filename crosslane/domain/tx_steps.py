"""Activity names and their input/output models for transaction lifecycles.

Workflows call activities by these names, so workflow code never imports a connector.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, Field

from crosslane.domain.tx import AttemptKind, BroadcastOutcome, TxAttempt, TxOutcome, TxRequest, TxResult


class TxActivity(StrEnum):
    PREPARE = "tx_prepare"
    BROADCAST = "tx_broadcast"
    REPLACE = "tx_replace"
    SEND = "tx_send"  # tx_prepare and tx_broadcast of attempt 0 in one step
    SEND_SETTLE = "tx_send_settle"  # tx_send, then settle at once if the receipt is already there
    WAIT = "tx_wait"
    SCAN_SIGNER = "tx_scan_signer"


LOCAL_STEPS_PATCH = "tx-local-steps"  # TransactionLifecycle's workflow.patched id (issue 15)
LOCAL_STEPS_ENV = "CROSSLANE_TX_LOCAL_STEPS"
SEND_SETTLES_PATCH = "tx-send-settles"  # implies the local steps: one patch marker, not two
SEND_SETTLES_ENV = "CROSSLANE_TX_SEND_SETTLES"


@cache
def local_steps_offered() -> bool:
    """Whether this worker runs new lifecycles' short steps as local activities
    (``$CROSSLANE_TX_LOCAL_STEPS``, on unless ``0``; ``0`` is the way back to regular
    activities). A run already started keeps its shape whatever this says."""
    return os.environ.get(LOCAL_STEPS_ENV, "1").strip() != "0"


@cache
def send_settles_offered() -> bool:
    """Whether this worker's new lifecycles look for attempt 0's receipt right after sending
    it, in the same local step, and settle there when it is already mined with the confirmations
    asked for (``$CROSSLANE_TX_SEND_SETTLES``, on unless ``0``; needs the local steps)."""
    return local_steps_offered() and os.environ.get(SEND_SETTLES_ENV, "1").strip() != "0"


class PrepareInput(BaseModel):
    workflow_id: str
    request: TxRequest
    settle_within_ms: int = Field(
        default=0,
        ge=0,
        le=5_000,
        description="tx_send_settle: keep looking for the receipt this long after the send (0: one look)",
    )


class BroadcastInput(BaseModel):
    workflow_id: str
    chain: str
    attempt_index: int
    protected: bool = False  # to the chain's private relay, not the public mempool


class BroadcastResult(BaseModel):
    outcome: BroadcastOutcome
    endpoint_note: str = ""


class ReplaceInput(BaseModel):
    workflow_id: str
    request: TxRequest
    attempt_index: int = Field(ge=1, description="the index the new attempt takes; makes retries idempotent")
    kind: AttemptKind


class ReplaceResult(BaseModel):
    attempt: TxAttempt | None = None
    at_cap: bool = False
    detail: str = ""


class WaitOutcome(StrEnum):
    MINED = "mined"
    NOT_INCLUDED = "not_included"
    DROPPED = "dropped"  # the node no longer has the latest attempt (evicted or refused)
    NONCE_CONSUMED = "nonce_consumed"


class WaitInput(BaseModel):
    workflow_id: str
    chain: str
    signer: str
    nonce: int
    tx_hashes: list[str]
    confirmations: int
    max_blocks: int | None
    max_seconds: int | None
    poll_interval_ms: int
    detect_drops: bool = True
    protected: bool = False  # a held transaction is known to the relay, not to the public nodes


class WaitResult(BaseModel):
    outcome: WaitOutcome
    tx_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    status: int | None = None
    gas_used: int | None = None
    effective_gas_price: int | None = None
    blocks_waited: int = 0


class SendResult(BaseModel):
    """``tx_send_settle``'s answer: attempt 0 as sent, and its receipt when the same step
    found it mined with enough confirmations (and settled it in the ledger); else ``None``
    and the lifecycle watches for it with ``tx_wait``."""

    attempt: TxAttempt
    mined: WaitResult | None = None


def settled_result(request: TxRequest, attempts: list[TxAttempt], mined: WaitResult) -> TxResult:
    """The lifecycle's result for the receipt ``mined`` (``WaitOutcome.MINED``) of one of
    ``attempts``: confirmed, cancelled (the cancel attempt mined) or reverted. One function for
    ``TransactionLifecycle`` and for a workflow that sends attempt 0 itself (``BridgeTransfer``
    since ``bridge-inline-tx``), so both answer the same result for the same receipt."""
    assert mined.tx_hash is not None
    attempt = next(a for a in attempts if a.tx_hash == mined.tx_hash)
    if mined.status != 1:
        outcome = TxOutcome.REVERTED
    elif attempt.kind is AttemptKind.CANCEL:
        outcome = TxOutcome.CANCELLED
    else:
        outcome = TxOutcome.CONFIRMED
    return TxResult(
        request_id=request.request_id,
        chain=request.chain,
        signer=request.signer,
        nonce=attempt.nonce,
        outcome=outcome,
        mined_tx_hash=mined.tx_hash,
        mined_attempt_index=attempt.index,
        block_number=mined.block_number or 0,
        block_hash=mined.block_hash or "",
        gas_used=mined.gas_used or 0,
        effective_gas_price=mined.effective_gas_price or 0,
        attempts=attempts,
    )


class ScanInput(BaseModel):
    chain: str
    signer: str


class StuckTx(BaseModel):
    nonce: int
    tx_hash: str | None
    owner_workflow_id: str | None = Field(default=None, description="the lifecycle holding this nonce, if ours")
    to: str
    value: int
    data: str
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    reason: str


class ScanResult(BaseModel):
    chain: str
    signer: str
    mined_nonce: int = Field(description="the next nonce the chain will mine (latest transaction count)")
    pending_nonce: int
    base_fee: int
    stuck: list[StuckTx]
    gaps: list[int]
