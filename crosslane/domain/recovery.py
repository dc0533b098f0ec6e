"""Models for StuckTxRecovery: one (chain, signer) swept for stuck transactions and gaps."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from crosslane.domain.evm import Address, Wei
from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest


class RecoveryRequest(SecretFreeRequest):
    chain: Name
    signer: Address
    max_fee_per_gas_cap: Wei = Field(gt=0, description="cap for every replacement and gap filler")
    dry_run: bool = False


class RecoveryActionKind(StrEnum):
    SIGNALLED_OWNER = "signalled_owner"  # a running lifecycle owns the nonce: told to bump now
    REPLACED = "replaced"  # fee-bumped copy of the stuck transaction
    FILLED_GAP = "filled_gap"  # 0-value self-send so later nonces can mine
    WOULD_REPLACE = "would_replace"
    WOULD_FILL = "would_fill"


class RecoveryAction(BaseModel):
    nonce: int
    kind: RecoveryActionKind
    reason: str
    workflow_id: str | None = None
    outcome: str | None = None
    mined_tx_hash: str | None = None


class RecoveryReport(BaseModel):
    chain: str
    signer: str
    mined_nonce: int
    pending_nonce: int
    base_fee: int
    actions: list[RecoveryAction]
