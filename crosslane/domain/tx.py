"""Models that cross the Temporal boundary for transaction lifecycles.

Requests carry addresses and fee limits, never keys: signing happens in activities
with the worker's own signer registry.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosslane.domain.evm import Address, HexData, TxHash, Wei
from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest

REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
MIN_BUMP_BPS = 1250  # geth/anvil refuse a replacement below +10%; 12.5% also clears the base-fee step


class FeePolicy(BaseModel):
    """Fee limits in wei per gas. The cap bounds every attempt but a cancel (see below)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    max_fee_per_gas_cap: Wei = Field(gt=0, description="no attempt pays more than this per gas")
    initial_max_fee_per_gas: Wei | None = Field(
        default=None, description="first attempt's max fee (> 0); default (None): the fee oracle's suggestion"
    )
    initial_max_priority_fee_per_gas: Wei | None = Field(
        default=None, description="first attempt's tip; 0 is honoured; default (None): the fee oracle's suggestion"
    )
    bump_bps: int = Field(default=MIN_BUMP_BPS, ge=MIN_BUMP_BPS, le=100_000)
    wait_for_base_fee: bool = Field(
        default=True, description="if false, refuse when the cap is below the current base fee"
    )
    max_total_fee: Wei | None = Field(
        default=None,
        gt=0,
        description="most the first attempt may cost in wei: gas × max fee, plus the L1 data fee on a rollup",
    )

    @model_validator(mode="after")
    def _initial_within_cap(self) -> FeePolicy:
        initial = self.initial_max_fee_per_gas
        if initial == 0:
            raise ValueError(
                "initial_max_fee_per_gas 0 can never be mined (every block has a base fee above 0); "
                "omit it to start at the fee oracle's suggestion"
            )
        if initial is not None and initial > self.max_fee_per_gas_cap:
            raise ValueError("initial_max_fee_per_gas is above max_fee_per_gas_cap")
        tip = self.initial_max_priority_fee_per_gas
        if tip is not None and tip > (self.max_fee_per_gas_cap if initial is None else initial):
            raise ValueError("initial_max_priority_fee_per_gas is above the max fee")
        return self


class ReplacementPolicy(BaseModel):
    """When an attempt counts as stuck, and what to do at the fee cap."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    confirmations: int = Field(default=1, ge=1, le=128)
    replace_after_blocks: int | None = Field(default=3, ge=1)
    replace_after_seconds: int | None = Field(default=30, ge=1)
    cancel_at_cap: bool = Field(
        default=False,
        description="at the cap, replace with a 0-value self-send; a cancel may exceed the cap by "
        "exactly the minimum replacement bump because it only burns 21000 gas",
    )
    poll_interval_ms: int = Field(default=200, ge=20, le=60_000)

    @model_validator(mode="after")
    def _some_limit(self) -> ReplacementPolicy:
        if self.replace_after_blocks is None and self.replace_after_seconds is None:
            raise ValueError("set replace_after_blocks or replace_after_seconds")
        return self


class TxRequest(SecretFreeRequest):
    """One transaction to land: sent, bumped while stuck, confirmed or cancelled."""

    workflow_type: ClassVar[str] = "TransactionLifecycle"
    family: Literal["evm"] = Field(default="evm", description="chain family; requests before families were EVM")
    request_id: str = Field(pattern=REQUEST_ID_PATTERN, description="business key; the workflow id is tx-<request_id>")
    chain: Name
    signer: Address
    to: Address
    value: Wei = 0
    data: HexData = "0x"
    gas_limit: int | None = Field(default=None, ge=21_000, le=30_000_000)
    fees: FeePolicy
    policy: ReplacementPolicy = Field(default_factory=ReplacementPolicy)
    nonce: int | None = Field(default=None, ge=0, description="recovery only: take this nonce instead of allocating")
    protected: bool = Field(
        default=False, description="send through the chain's private relay instead of the public mempool"
    )

    @property
    def workflow_id(self) -> str:
        return lifecycle_id(self.request_id)


def lifecycle_id(request_id: str) -> str:
    """The TransactionLifecycle's workflow id, and its ledger operation's, for ``request_id``."""
    return f"tx-{request_id}"


class TxState(StrEnum):
    PREPARING = "preparing"
    PENDING = "pending"
    REPLACING = "replacing"
    CANCELLING = "cancelling"
    AT_CAP = "at_cap"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REVERTED = "reverted"
    FAILED = "failed"


class AttemptKind(StrEnum):
    ORIGINAL = "original"
    REPLACEMENT = "replacement"  # same nonce, higher fees, same intent
    CANCEL = "cancel"  # same nonce, 0-value self-transfer to void the original
    GAP_FILL = "gap_fill"  # fills a nonce hole that blocks later transactions


class BroadcastOutcome(StrEnum):
    SENT = "sent"
    ALREADY_KNOWN = "already_known"
    UNDERPRICED = "underpriced"  # a replacement not enough above the pending attempt
    FEE_BELOW_BASE_FEE = "fee_below_base_fee"  # the node will not pool it until the base fee falls
    NONCE_TOO_LOW = "nonce_too_low"


class TxAttempt(BaseModel):
    """One signed transaction for the request's nonce (raw bytes stay in the ledger)."""

    index: int
    kind: AttemptKind
    tx_hash: TxHash
    nonce: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    broadcast: BroadcastOutcome | None = None


class TxOutcome(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REVERTED = "reverted"


class TxResult(BaseModel):
    request_id: str
    chain: str
    signer: str
    nonce: int
    outcome: TxOutcome
    mined_tx_hash: str
    mined_attempt_index: int
    block_number: int
    block_hash: str
    gas_used: int
    effective_gas_price: int
    attempts: list[TxAttempt]


class TxStatus(BaseModel):
    """What the ``status`` query answers."""

    request_id: str
    chain: str
    signer: str
    state: TxState
    nonce: int | None = None
    attempts: list[TxAttempt] = Field(default_factory=list)
    detail: str = ""
