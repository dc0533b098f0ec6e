"""Activity names and their input/output models for transaction lifecycles.

Workflows call activities by these names, so workflow code never imports a connector.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from crosslane.domain.tx import AttemptKind, BroadcastOutcome, TxAttempt, TxRequest


class TxActivity(StrEnum):
    PREPARE = "tx_prepare"
    BROADCAST = "tx_broadcast"
    REPLACE = "tx_replace"
    WAIT = "tx_wait"
    SCAN_SIGNER = "tx_scan_signer"


class PrepareInput(BaseModel):
    workflow_id: str
    request: TxRequest


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
