"""Plain immutable values the ledger hands out, so callers never hold ORM state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from crosslane.domain.tx import AttemptKind


class OperationStatus(StrEnum):
    PENDING = "pending"  # intent recorded, side effect not yet attempted
    IN_PROGRESS = "in_progress"  # side effect attempted, outcome not final
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AttemptStatus(StrEnum):
    SIGNED = "signed"  # raw bytes stored, maybe not yet sent
    BROADCAST = "broadcast"
    MINED = "mined"
    REVERTED = "reverted"  # mined, but execution failed: the nonce is consumed
    REPLACED = "replaced"  # another attempt at the same nonce was mined
    DROPPED = "dropped"


# A bridge transfer's state is a ``crosslane.domain.bridge.BridgeState`` value, or
# ``planned``: route chosen and recorded, nothing sent yet. The ledger keeps plain strings
# (it does not own that vocabulary) but knows which states are final: a late write from a
# stale activity attempt never moves a transfer out of one.
BRIDGE_TRANSFER_PLANNED = "planned"
BRIDGE_TRANSFER_FINAL_STATES = frozenset({"completed", "refunded", "failed"})


@dataclass(frozen=True, slots=True)
class OperationRecord:
    id: int
    workflow_id: str
    step: str
    kind: str
    chain_id: int | None
    signer: str | None
    nonce: int | None
    status: OperationStatus
    detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    family: str | None = None  # family-neutral: "evm", "solana"; None for an operation on no chain
    chain: str | None = None  # chain_key(): "eip155:31337", "solana:solana-devnet"
    account: str | None = None  # the sending account, in its family's encoding


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: int
    operation_id: int
    attempt_index: int
    kind: AttemptKind
    chain_id: int
    signer: str
    nonce: int
    tx_hash: str
    raw_tx: str
    to_address: str
    value: int
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    status: AttemptStatus
    block_number: int | None
    block_hash: str | None
    gas_used: int | None
    effective_gas_price: int | None
    created_at: datetime
    broadcast_at: datetime | None
    mined_at: datetime | None


@dataclass(frozen=True, slots=True)
class BridgeTransferRecord:
    id: int
    workflow_id: str
    request_id: str
    route: str
    source_chain: str
    destination_chain: str
    asset: str
    amount: int
    signer: str
    recipient: str
    state: str
    deposit_tx: str | None
    deposit_id: str | None
    completion_tx: str | None
    refund_tx: str | None
    received: int | None
    detail: str | None  # the last status detail, or why it failed
    created_at: datetime
    updated_at: datetime
