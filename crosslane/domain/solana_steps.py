"""Activity names and their input/output models for ``SolanaTransaction``.

Workflows call activities by these names, so workflow code never imports a connector.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from crosslane.domain.solana import Commitment, SolPlan, SolTransferRequest


class SolActivity(StrEnum):
    PLAN = "sol_plan"
    SIGN = "sol_sign"
    SEND = "sol_send"
    CONFIRM = "sol_confirm"


class SolPlanInput(BaseModel):
    workflow_id: str
    request: SolTransferRequest


class SolSignInput(BaseModel):
    workflow_id: str
    request: SolTransferRequest
    plan: SolPlan
    attempt_index: int = Field(ge=0, description="the index the new attempt takes; makes retries idempotent")


class SolSendInput(BaseModel):
    workflow_id: str
    cluster: str
    attempt_index: int


class SendOutcome(StrEnum):
    SENT = "sent"  # accepted (or already landed: the same bytes answer the same signature)
    BLOCKHASH_EXPIRED = "blockhash_expired"  # refused for its blockhash; confirm proves it will not land


class SolSendResult(BaseModel):
    outcome: SendOutcome
    signature: str


class SolConfirmInput(BaseModel):
    workflow_id: str
    cluster: str
    attempt_index: int
    signature: str
    last_valid_block_height: int
    commitment: Commitment
    poll_interval_ms: int


class ConfirmOutcome(StrEnum):
    LANDED = "landed"  # at the requested commitment, succeeded
    FAILED = "failed"  # landed with an instruction error
    EXPIRED = "expired"  # proven never to land


class SolConfirmResult(BaseModel):
    outcome: ConfirmOutcome
    slot: int | None = None
    commitment: Commitment | None = None
    error: str | None = None
