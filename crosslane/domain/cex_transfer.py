"""Models that cross the Temporal boundary for moving an asset between a CEX account and a
chain address: ``CexTransfer`` (workflow id ``cex-transfer-<request_id>``)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from crosslane.domain.evm import Address
from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.recipients import zero_address_refusal
from crosslane.domain.tx import FeePolicy, ReplacementPolicy

MAX_DECIMALS = 18


class TransferDirection(StrEnum):
    WITHDRAW = "withdraw"  # venue account -> ``address`` on ``chain``
    DEPOSIT = "deposit"  # ``address`` (our signer) on ``chain`` -> the venue account


class CexTransferState(StrEnum):
    PLANNING = "planning"
    REQUESTING = "requesting"  # withdraw: the venue is asked (once, by our reference)
    VENUE_PROCESSING = "venue_processing"  # withdraw: debited, the venue has not sent yet
    PENDING_CONFIRMATIONS = "pending_confirmations"  # withdraw: sent on chain, not yet confirmed
    SENDING = "sending"  # deposit: our transaction to the venue's deposit address
    WAITING_FOR_CREDIT = "waiting_for_credit"  # deposit: mined, the venue has not credited it yet
    COMPLETED = "completed"
    FAILED = "failed"


class CexTransferRequest(SecretFreeRequest):
    """Withdraw ``amount`` of ``asset`` from ``venue`` to ``address`` on ``chain``, or deposit it
    from ``address`` (a signer the worker holds) into the venue account.

    ``amount`` is in whole units (``"125.5"``): what leaves the account on a withdrawal (the
    venue's fee rule decides what arrives) and what is sent on a deposit.
    """

    request_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,111}$", description="cex-transfer-<id>")
    venue: Name
    direction: TransferDirection
    asset: Name = Field(description="the venue's currency code, e.g. USDC or ETH (native on the chain)")
    chain: Name
    amount: Decimal = Field(description="whole units, at most the asset's decimals")
    address: Address = Field(description="withdraw: the recipient; deposit: our signer that sends")
    fees: FeePolicy | None = Field(default=None, description="deposit: the fee policy of our transaction")
    policy: ReplacementPolicy = Field(default_factory=ReplacementPolicy)
    poll_seconds: float = Field(default=1.0, gt=0, le=60, description="first interval between looks at the venue")

    @field_validator("amount")
    @classmethod
    def _amount(cls, amount: Decimal) -> Decimal:
        if not amount.is_finite() or amount <= 0:
            raise ValueError(f"amount must be positive (whole units), got {amount}")
        exponent = amount.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
            raise ValueError(f"amount {amount} has more than {MAX_DECIMALS} decimals")
        return amount

    @field_validator("address")
    @classmethod
    def _not_zero(cls, address: str) -> str:
        refusal = zero_address_refusal(address, "address")
        if refusal is not None:
            raise ValueError(refusal)
        return address

    @property
    def workflow_id(self) -> str:
        return f"cex-transfer-{self.request_id}"


class CexTransferResult(BaseModel):
    request_id: str
    venue: str
    direction: TransferDirection
    asset: str
    chain: str
    network: str
    amount: Decimal = Field(description="what left the venue account (withdraw) or our signer (deposit)")
    fee: Decimal = Field(description="the venue's withdrawal fee; 0 for deposits")
    received: Decimal = Field(description="what arrived on chain (withdraw) or was credited (deposit)")
    address: str
    tx_hash: str
    withdrawal_id: str | None = None
    deposit_id: str | None = None
    client_ref: str


class CexTransferStatus(BaseModel):
    request_id: str
    state: CexTransferState
    detail: str
    venue: str = ""
    direction: TransferDirection | None = None
    asset: str = ""
    chain: str = ""
    amount: Decimal = Decimal(0)
    client_ref: str | None = None
    withdrawal_id: str | None = None
    deposit_id: str | None = None
    tx_hash: str | None = None
    deposit_address: str | None = None
