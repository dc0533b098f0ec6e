"""Activity names, their inputs and what a venue says about one withdrawal or deposit.

The ``CexTransfer`` workflow calls activities by these names, so it never imports a connector.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from crosslane.domain.cex_transfer import CexTransferRequest
from crosslane.domain.chains import TokenInfo
from crosslane.domain.tx import TxRequest, TxResult


class CexTransferActivity(StrEnum):
    PLAN = "cex_transfer_plan"
    WITHDRAW = "cex_withdraw"
    WITHDRAWAL_STATUS = "cex_withdrawal_status"
    DEPOSIT_STATUS = "cex_deposit_status"
    VERIFY = "cex_transfer_verify"
    RECORD_FAILURE = "cex_transfer_record_failure"


class VenueTransferStatus(StrEnum):
    """ccxt's unified transaction statuses."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
    CANCELED = "canceled"


class VenueWithdrawal(BaseModel):
    """A withdrawal as the venue reports it."""

    id: str
    client_ref: str
    status: VenueTransferStatus
    amount: Decimal | None = Field(default=None, description="what the venue says it sends")
    fee: Decimal | None = None
    tx_hash: str | None = None
    address: str | None = None
    network: str | None = None


class VenueDeposit(BaseModel):
    """A deposit as the venue reports it."""

    id: str
    status: VenueTransferStatus
    amount: Decimal
    tx_hash: str
    address: str | None = None
    network: str | None = None


class CexTransferPlan(BaseModel):
    """Everything checked and fixed before anything moves; recorded in the ledger first."""

    request: CexTransferRequest
    network: str = Field(description="the venue's code for the chain")
    client_ref: str = Field(description="our reference in the venue's form (withdrawOrderId, clientId)")
    token: TokenInfo | None = Field(description="the token on the chain; None for the native coin")
    decimals: int
    withdraw_fee: Decimal = Decimal(0)
    withdraw_min: Decimal = Decimal(0)
    deposit_address: str | None = Field(default=None, description="deposit: where our transaction sends")
    deposit_tx: TxRequest | None = Field(default=None, description="deposit: our transaction (a child lifecycle)")

    @property
    def units(self) -> int:
        """The amount in the asset's base units on the chain."""
        return int(self.request.amount.scaleb(self.decimals))


class PlanInput(BaseModel):
    workflow_id: str
    request: CexTransferRequest


class WithdrawInput(BaseModel):
    workflow_id: str
    plan: CexTransferPlan


class DepositStatusInput(BaseModel):
    workflow_id: str
    plan: CexTransferPlan
    tx_hash: str


class TransferVerifyInput(BaseModel):
    workflow_id: str
    plan: CexTransferPlan
    withdrawal: VenueWithdrawal | None = None
    deposit: VenueDeposit | None = None
    deposit_tx: TxResult | None = None


class TransferFailureInput(BaseModel):
    workflow_id: str
    plan: CexTransferPlan
    reason: str
