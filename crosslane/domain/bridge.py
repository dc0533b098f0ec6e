"""Models that cross the Temporal boundary for bridge transfers, and the state model every
route reports (in the manner of bridge aggregators' status APIs)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crosslane.domain.evm import Wei


class BridgeRoute(StrEnum):
    WORMHOLE = "wormhole"  # attested: guardians sign a VAA, the recipient side redeems it
    ACROSS = "across"  # intent: a relayer fills on the destination from its own inventory


class BridgeState(StrEnum):
    QUOTING = "quoting"
    PENDING_SOURCE_CONFIRMATIONS = "pending_source_confirmations"
    PENDING_ATTESTATION = "pending_attestation"
    PENDING_FILL = "pending_fill"
    PENDING_DESTINATION_TX = "pending_destination_tx"
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
