"""Models that cross the Temporal boundary for CEX legs (executed by the fast path)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.routing import Side


class CexExecuteInput(BaseModel):
    """One CEX leg. ``step`` names it within the workflow; (workflow id, step) is the
    parent order's idempotency key, so a retried activity never places it twice."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    step: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    symbol: Name = Field(min_length=3)
    side: Side
    qty: Decimal = Field(gt=0)
    limit_price: Decimal | None = Field(default=None, gt=0)
    kind: str = Field(default="ioc", pattern="^(ioc|limit|market)$")


class CexFill(BaseModel):
    venue: str
    client_order_id: str
    venue_order_id: str | None
    state: str
    qty: Decimal
    filled: Decimal
    avg_price: Decimal | None
    fee: Decimal
    fee_currency: str | None


class CexExecution(BaseModel):
    parent_id: str
    symbol: str
    side: Side
    qty: Decimal
    filled: Decimal
    avg_price: Decimal | None
    children: list[CexFill]


class CexOrderRequest(SecretFreeRequest):
    """Input of the CexOrder workflow (workflow id ``cex-<request_id>``)."""

    request_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
    leg: CexExecuteInput

    @property
    def workflow_id(self) -> str:
        return f"cex-{self.request_id}"
