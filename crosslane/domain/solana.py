"""Models that cross the Temporal boundary for Solana transfers (``SolanaTransaction``),
the Solana clusters the registry file describes, and the priority-fee policy.

Requests carry addresses, an amount and fee limits, never keys: signing happens in
activities with the worker's own Solana signer registry (``CROSSLANE_SOLANA_KEYS``).
Amounts: ``amount`` is a human Decimal (``"1.5"`` SOL, ``"12.25"`` USDC); on chain it is
int base units (lamports, token base units), converted once in the plan step with the
mint's decimals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from crosslane.domain.families import Commitment
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.solana_address import SolanaWallet, canonical_address
from crosslane.domain.tx import REQUEST_ID_PATTERN
from crosslane.errors import InvalidRequest
from crosslane.money import bump, to_base_units

NATIVE = "SOL"
SOL_DECIMALS = 9
SYMBOL_MAX_LEN = 16  # longer asset names are read as mint addresses (32-44 base58 chars)


class PriorityFeePolicy(BaseModel):
    """How much to bid per compute unit: a percentile of what recent slots paid, between a
    floor and a cap; each re-sign after an expiry bids ``bump_bps`` more, still under the cap."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    percentile: int = Field(75, ge=0, le=100)
    floor_micro_lamports: int = Field(0, ge=0, description="per compute unit")
    cap_micro_lamports: int = Field(1_000_000, ge=0, description="per compute unit; never bid above")
    bump_bps: int = Field(2_500, ge=0, description="raise per re-sign, in basis points")

    def price(self, recent: Sequence[int]) -> int:
        """The compute unit price to bid, from recent slots' prioritization fees."""
        ranked = sorted(recent)
        observed = ranked[max(math.ceil(self.percentile / 100 * len(ranked)) - 1, 0)] if ranked else 0
        return min(max(observed, self.floor_micro_lamports), self.cap_micro_lamports)

    def bumped(self, price: int) -> int:
        """The price for the next attempt: higher by ``bump_bps`` (at least 1), capped."""
        return min(max(bump(price, self.bump_bps), price + 1), self.cap_micro_lamports)


# --- the registry file's ``solana`` section ----------------------------------------------


class SolanaMint(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    mint: str
    decimals: int = Field(ge=0, le=18)
    token_program: str


class SolanaCluster(BaseModel):
    """A Solana cluster as the registry file describes it (the devnet writes ``solana-devnet``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    rpc_url: str
    mints: dict[str, SolanaMint] = Field(default_factory=dict, description="by symbol")
    blockhash_validity: int = Field(150, ge=1, description="blocks a blockhash stays valid")
    default_commitment: Commitment = "confirmed"

    def mint_by_symbol(self, symbol: str) -> SolanaMint | None:
        return self.mints.get(symbol) or next((m for s, m in self.mints.items() if s.upper() == symbol.upper()), None)


# --- SolanaTransaction ------------------------------------------------------------------------


class SolTransferRequest(SecretFreeRequest):
    """Move SOL or an SPL token from a signer the worker holds a key for to a wallet."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    workflow_type: ClassVar[str] = "SolanaTransaction"
    family: Literal["solana"] = Field(default="solana", description="chain family")
    request_id: str = Field(pattern=REQUEST_ID_PATTERN, description="business key; the workflow id is sol-<request_id>")
    cluster: str = Field("solana-devnet", min_length=1)
    signer: SolanaWallet = Field(description="pays and signs; its key must be loaded in the worker")
    recipient: SolanaWallet = Field(description="a wallet (on the ed25519 curve): it owns the token account")
    asset: str = Field(NATIVE, min_length=1, description='"SOL", a mint symbol of the cluster, or a mint address')
    amount: Decimal = Field(gt=0, description="human amount, e.g. 1.5; at most the mint's decimals")
    commitment: Commitment | None = Field(None, description="wait for this level; default: the cluster's")
    fees: PriorityFeePolicy = Field(default_factory=PriorityFeePolicy)
    max_resigns: int = Field(3, ge=0, le=20, description="re-signs after a proven expiry before giving up")
    poll_interval_ms: int = Field(100, ge=10, le=60_000)

    @field_validator("asset")
    @classmethod
    def _asset(cls, value: str) -> str:
        value = value.strip()
        if value.upper() == NATIVE:
            return NATIVE
        if len(value) > SYMBOL_MAX_LEN:
            return canonical_address(value)
        if not value.isalnum():
            raise ValueError(f"{value!r} is neither a mint symbol nor a mint address")
        return value

    @field_validator("amount")
    @classmethod
    def _native_precision(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if info.data.get("asset") == NATIVE:
            try:
                lamports(value)
            except InvalidRequest as exc:
                raise ValueError(str(exc).removeprefix("amount: ")) from None
        return value

    @model_validator(mode="after")
    def _not_to_self(self) -> SolTransferRequest:
        if self.signer == self.recipient:
            raise ValueError("recipient: is the signer itself")
        return self

    @property
    def workflow_id(self) -> str:
        return f"sol-{self.request_id}"


def base_units(amount: Decimal, decimals: int, unit: str) -> int:
    """A human amount as base units of an asset with ``decimals``; InvalidRequest naming
    ``amount`` for more decimal places than that."""
    try:
        return to_base_units(amount, decimals)
    except ValueError:
        raise InvalidRequest(f"amount: {amount:f} has more than {decimals} decimal places ({unit})") from None


def lamports(amount: Decimal) -> int:
    return base_units(amount, SOL_DECIMALS, f"SOL has {SOL_DECIMALS} decimals")


class SolState(StrEnum):
    PLANNING = "planning"
    SIGNING = "signing"
    CONFIRMING = "confirming"
    EXPIRED = "expired"  # proven never to land; re-signing next
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SolOutcome(StrEnum):
    CONFIRMED = "confirmed"  # landed and succeeded at the requested commitment
    FAILED = "failed"  # landed with an instruction error: the fee is paid, nothing moved
    CANCELLED = "cancelled"  # a cancel signal, and the pending attempt proven expired: nothing landed


class SolPlan(BaseModel):
    """What the plan step resolved: the asset, its decimals and the amount in base units."""

    model_config = ConfigDict(frozen=True)

    cluster: str
    asset: str  # "SOL" or the mint's symbol (its address when the registry has no symbol)
    mint: str | None = None
    token_program: str | None = None
    decimals: int
    amount: int = Field(gt=0, description="base units: lamports or token base units")
    commitment: Commitment


class SolAttempt(BaseModel):
    """One signed transaction for the request (its raw bytes stay in the ledger)."""

    index: int
    signature: str
    blockhash: str
    last_valid_block_height: int
    unit_price: int = Field(description="micro-lamports per compute unit")
    unit_limit: int
    expired: bool = False  # proven never to land


class SolResult(BaseModel):
    request_id: str
    cluster: str
    signer: str
    recipient: str
    asset: str
    mint: str | None
    amount: int  # base units
    decimals: int
    outcome: SolOutcome
    signature: str | None  # the attempt that landed
    slot: int | None
    commitment: Commitment | None  # the level reached
    error: str | None = None  # the instruction error, when it landed and failed
    attempts: list[SolAttempt]


class SolStatus(BaseModel):
    """What the ``status`` query answers."""

    request_id: str
    cluster: str
    signer: str
    state: SolState
    attempts: list[SolAttempt] = Field(default_factory=list)
    detail: str = ""
