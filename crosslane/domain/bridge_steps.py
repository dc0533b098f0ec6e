"""Activity names and their input models for bridge transfers.

The ``BridgeTransfer`` workflow calls activities by these names, so it never imports a connector.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, Field

from crosslane.domain.bridge import BridgePlan, BridgeProgress, BridgeRequest, BridgeState, DepositRef
from crosslane.domain.tx import TxResult


class BridgeActivity(StrEnum):
    PLAN = "bridge_plan"
    DEPOSIT_REF = "bridge_deposit_ref"
    TRACK = "bridge_track"
    COMPLETION = "bridge_completion"
    VERIFY = "bridge_verify"
    RECORD_FAILURE = "bridge_record_failure"


LOCAL_STEPS_PATCH = "bridge-local-steps"  # BridgeTransfer's workflow.patched id (issue 15)
LOCAL_STEPS_ENV = "CROSSLANE_BRIDGE_LOCAL_STEPS"
INLINE_TX_PATCH = "bridge-inline-tx"  # implies the local steps: one patch marker, not two
INLINE_TX_ENV = "CROSSLANE_BRIDGE_INLINE_TX"


@cache
def local_steps_offered() -> bool:
    """Whether this worker runs new transfers' short steps (plan, deposit id, completion check,
    verify, failure record) as local activities (``$CROSSLANE_BRIDGE_LOCAL_STEPS``, on unless
    ``0``; ``0`` is the way back to regular activities). A started run keeps its shape."""
    return os.environ.get(LOCAL_STEPS_ENV, "1").strip() != "0"


@cache
def inline_tx_offered() -> bool:
    """Whether this worker's new transfers send each transaction's attempt 0 themselves, as a
    local ``tx_send_settle`` under the lifecycle's own ledger id, and start a child
    ``TransactionLifecycle`` only when it is not mined at once (``$CROSSLANE_BRIDGE_INLINE_TX``,
    on unless ``0``; needs the local steps). A started run keeps its shape."""
    return local_steps_offered() and os.environ.get(INLINE_TX_ENV, "1").strip() != "0"


class BridgePlanInput(BaseModel):
    workflow_id: str
    request: BridgeRequest


class DepositRefInput(BaseModel):
    workflow_id: str
    plan: BridgePlan
    deposit: TxResult


class TrackInput(BaseModel):
    ref: DepositRef
    current: BridgeState = Field(description="return as soon as the deposit is anywhere else")
    max_seconds: float = Field(default=30.0, gt=0, description="then return the current progress anyway")


class CompletionInput(BaseModel):
    workflow_id: str
    request: BridgeRequest
    ref: DepositRef
    progress: BridgeProgress


class VerifyInput(BaseModel):
    workflow_id: str
    request: BridgeRequest
    plan: BridgePlan
    ref: DepositRef
    progress: BridgeProgress
    completion: TxResult | None = None
    stage_seconds: dict[str, float] = Field(default_factory=dict)


class RecordFailureInput(BaseModel):
    workflow_id: str
    request: BridgeRequest
    plan: BridgePlan
    reason: str
