"""Models that cross the Temporal boundary for bridge transfers, and the state model every
route reports (in the manner of bridge aggregators' status APIs)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crosslane.domain.chains import TokenInfo
from crosslane.domain.dex import Amount
from crosslane.domain.evm import Address, Wei
from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.recipients import zero_address_refusal
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest


class BridgeRoute(StrEnum):
    WORMHOLE = "wormhole"  # attested: guardians sign a VAA, the recipient side redeems it
    ACROSS = "across"  # intent: a relayer fills on the destination from its own inventory
    OP_CANONICAL = "op-canonical"  # an OP Stack rollup's own bridge: deposits in minutes, withdrawals in days


class BridgeState(StrEnum):
    QUOTING = "quoting"
    APPROVING = "approving"
    PENDING_SOURCE_CONFIRMATIONS = "pending_source_confirmations"
    PENDING_ATTESTATION = "pending_attestation"
    PENDING_FILL = "pending_fill"
    PENDING_DESTINATION_TX = "pending_destination_tx"
    PENDING_FINALIZATION = "pending_finalization"  # a proven withdrawal waiting out its finalization period
    PENDING_REFUND = "pending_refund"
    WAITING_FOR_OPERATOR = "waiting_for_operator"
    COMPLETED = "completed"
    REFUNDED = "refunded"
    FAILED = "failed"

    @property
    def done(self) -> bool:
        return self in (BridgeState.COMPLETED, BridgeState.REFUNDED, BridgeState.FAILED)


class RoutePreferences(BaseModel):
    """What the user will accept; amounts in the transferred asset's base units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: list[BridgeRoute] | None = Field(default=None, description="only these routes (default: all)")
    deny: list[BridgeRoute] = Field(default_factory=list)
    max_fee: Wei | None = Field(default=None, description="most the route may cost in total, base units")
    max_seconds: int | None = Field(default=None, gt=0, description="latest acceptable expected arrival")
    value_of_time_per_hour_bps: int = Field(
        default=10, ge=0, le=10_000, description="how much an hour of waiting is worth, in bps of the amount"
    )
    min_security_score: int = Field(default=0, ge=0, le=100)


class RouteQuote(BaseModel):
    """One route's offer for an amount, everything in the asset's base units."""

    model_config = ConfigDict(frozen=True)

    route: BridgeRoute
    fee: int = Field(ge=0, description="protocol/relayer fee")
    source_gas: int = Field(ge=0, description="gas on the source chain, priced in the asset")
    destination_gas: int = Field(ge=0, description="gas on the destination (redeem), priced in the asset; 0 if none")
    expected_seconds: int = Field(gt=0)
    security_score: int = Field(ge=0, le=100)
    min_amount: int = Field(ge=0)
    max_amount: int | None = None
    liquidity: int | None = Field(default=None, description="what the route can deliver now; None: unbounded")

    @property
    def total_cost(self) -> int:
        return self.fee + self.source_gas + self.destination_gas

    @model_validator(mode="after")
    def _limits(self) -> RouteQuote:
        if self.max_amount is not None and self.max_amount < self.min_amount:
            raise ValueError("max_amount is below min_amount")
        return self


BRIDGE_REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,111}$"
DEFAULT_ATTESTATION_PATIENCE_S = 120
ZERO_ADDRESS = "0x" + "00" * 20
WRAPPED_PREFIX = "Wormhole:"  # a wrapped asset on a chain: "Wormhole:<origin chain>:<symbol>"


class BridgeRequest(SecretFreeRequest):
    """Move ``amount`` of ``asset`` from ``source_chain`` to ``recipient`` on ``destination_chain``.

    ``asset`` is a token symbol on the source chain, or a Wormhole-wrapped asset held there
    (``Wormhole:<origin chain>:<symbol>``). The signer deposits on the source and, where the
    route needs a destination transaction (Wormhole's redeem), sends it too.
    """

    request_id: str = Field(pattern=BRIDGE_REQUEST_ID_PATTERN, description="business key; workflow id bridge-<id>")
    source_chain: Name
    destination_chain: Name
    asset: Name
    amount: Amount = Field(description="base units of the asset on the source chain")
    signer: Address
    recipient: Address | None = Field(default=None, description="who receives on the destination; default: signer")
    route: BridgeRoute | None = Field(default=None, description="force one route; default: the selector chooses")
    preferences: RoutePreferences = Field(default_factory=RoutePreferences)
    deadline: int | None = Field(default=None, gt=0, description="unix seconds the funds must arrive by")
    attestation_patience_seconds: int = Field(
        default=DEFAULT_ATTESTATION_PATIENCE_S,
        ge=1,
        description="after this long without a VAA or fill the transfer waits for an operator (still watching)",
    )
    fees: FeePolicy
    destination_fees: FeePolicy | None = Field(default=None, description="for the redeem; default: fees")
    policy: ReplacementPolicy = Field(default_factory=ReplacementPolicy)

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: int) -> int:
        if amount <= 0:
            raise ValueError(f"amount must be positive (base units), got {amount}")
        return amount

    @model_validator(mode="after")
    def _two_chains(self) -> BridgeRequest:
        if self.source_chain == self.destination_chain:
            raise ValueError(f"source and destination are the same chain ({self.source_chain}): nothing to bridge")
        refusal = zero_address_refusal(self.recipient)
        if refusal is not None:
            raise ValueError(refusal)
        return self

    @property
    def to(self) -> str:
        return self.recipient or self.signer

    @property
    def workflow_id(self) -> str:
        return f"bridge-{self.request_id}"

    @property
    def allowed_routes(self) -> RoutePreferences:
        """Preferences narrowed to the forced route, if any."""
        if self.route is None:
            return self.preferences
        return self.preferences.model_copy(update={"allow": [self.route]})


class TokenSide(TokenInfo):
    """The asset on one side of a transfer: a token and the chain it is on."""

    chain: str


class BridgePlan(BaseModel):
    """The chosen route and the source transactions, fixed before anything is sent."""

    model_config = ConfigDict(frozen=True)

    route: BridgeRoute
    reason: str
    quotes: list[RouteQuote]
    rejected: dict[str, str] = Field(default_factory=dict)
    source_token: TokenSide
    destination_token: TokenSide
    recipient: str
    amount: Amount
    expected_output: Amount
    fill_deadline: int | None = Field(default=None, description="Across: unfilled past this, refunded")
    approval: TxRequest | None = None
    deposit: TxRequest


class DepositRef(BaseModel):
    """A deposit as its route tracks it, read from the mined deposit's receipt."""

    model_config = ConfigDict(frozen=True)

    route: BridgeRoute
    source_chain: str
    destination_chain: str
    tx_hash: str
    block_number: int
    id: str = Field(description='wormhole: "chain/emitter/sequence"; across: "origin chain id:deposit id"')
    detail: dict[str, Any] = Field(default_factory=dict, description="what the route needs to follow it")


class BridgeProgress(BaseModel):
    """Where a deposit is, in the shared state model; ``proof`` is the signed VAA (hex) once served."""

    model_config = ConfigDict(frozen=True)

    state: BridgeState
    detail: str
    proof: str | None = None
    destination_tx: str | None = None
    destination_block: int | None = None
    refund_tx: str | None = None
    step: str = Field(default="redeem", description="the destination transaction due: redeem, prove, finalize")
    ready_at: int | None = Field(default=None, description="unix seconds (destination chain) the next step opens")
    proven_at: int | None = Field(default=None, description="a withdrawal: when it was proven (chain time)")
    chain_time: int | None = Field(default=None, description="the destination chain's time when this was read")


class BridgeResult(BaseModel):
    request_id: str
    route: BridgeRoute
    reason: str = Field(default="", description="why this route: the selector's ranking and exclusions")
    state: BridgeState
    source_chain: str
    destination_chain: str
    asset: str
    amount: Amount
    received: Amount = Field(description="what the recipient (or, refunded, the depositor) got")
    recipient: str
    deposit_tx: str
    completion_tx: str | None = Field(default=None, description="the redeem or the fill")
    refund_tx: str | None = None
    redeemed_by_us: bool = False
    detail: str = ""
    stage_seconds: dict[str, float] = Field(default_factory=dict, description="wall time per stage")


class BridgeStatus(BaseModel):
    request_id: str
    state: BridgeState
    detail: str
    route: BridgeRoute | None = None
    reason: str | None = None
    source_chain: str = ""
    destination_chain: str = ""
    asset: str = ""
    amount: Amount = 0
    deposit_tx: str | None = None
    deposit_id: str | None = None
    completion_tx: str | None = None
    refund_tx: str | None = None
    child_workflow_ids: dict[str, str] = Field(
        default_factory=dict, description="step -> the child lifecycle's workflow id, for the steps that started one"
    )
    transactions: dict[str, str] = Field(
        default_factory=dict, description="step -> its transaction's hash (the mined attempt's once it is mined)"
    )
    waiting_since: str | None = None
    proven_at: str | None = Field(default=None, description="a withdrawal: proven at (ISO, chain time)")
    finalizable_at: str | None = Field(default=None, description="a withdrawal: finalizable at (ISO, chain time)")
    cancel_refused: bool = Field(default=False, description="a cancel came after the deposit was sent")
