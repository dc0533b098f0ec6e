"""Models that cross the Temporal boundary for DEX swaps (the ``DexSwap`` workflow).

Amounts are ``int`` token base units; ratios (price impact, slippage, fees) are basis
points as ``Decimal``. Tokens are named by symbol (resolved against the chain registry)
or by checksummed address. Requests carry no keys: signing happens in activities.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from crosslane.domain.chains import TokenInfo
from crosslane.domain.evm import Address, HexData, TxHash, _checksummed, _uint
from crosslane.domain.names import Name, check_name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.recipients import zero_address_refusal
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest, TxResult


class DexProtocol(StrEnum):
    UNISWAP_V2 = "uniswap_v2"
    UNISWAP_V3 = "uniswap_v3"


class TradeType(StrEnum):
    EXACT_IN = "exact_in"  # sell exactly ``amount`` of token_in, at least the limit out
    EXACT_OUT = "exact_out"  # buy exactly ``amount`` of token_out, at most the limit in


class ApprovalMode(StrEnum):
    EXACT = "exact"  # approve what this swap may pull (amount in, or its maximum)
    UNLIMITED = "unlimited"  # approve 2**256-1 once, later swaps skip the approval


MAX_SLIPPAGE_BPS = 5_000  # 50%
DEFAULT_SLIPPAGE_BPS = 50
DEFAULT_MAX_SANDWICH_BPS = 50
DEFAULT_DEADLINE_SECONDS = 600
# The swap's child lifecycles take "<workflow id>.approve" / ".swap" as request ids (<= 128).
SWAP_REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,111}$"

_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _token_ref(value: str) -> str:
    """A token symbol (``USDC``) or a 0x address; addresses must pass the EIP-55 checksum."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a token symbol or address")
    if value.startswith("0x"):
        return _checksummed(value)
    check_name(value)
    if not _SYMBOL.match(value):
        raise ValueError(f"{value!r} is not a token symbol or 0x address")
    return value


TokenRef = Annotated[str, AfterValidator(_token_ref)]
# Token amounts: ints in Python; in JSON a string of digits, which every JSON reader keeps
# exact (the Temporal CLI and UI would print 2500256897107764000000 as 2.500256897107764e+21).
Amount = Annotated[int, BeforeValidator(_uint), PlainSerializer(str, return_type=str, when_used="json")]


class SwapRequest(SecretFreeRequest):
    """One swap to execute: quoted, approved if needed, sent, settled from its receipt."""

    request_id: str = Field(pattern=SWAP_REQUEST_ID_PATTERN, description="business key; workflow id swap-<id>")
    chain: Name
    signer: Address
    token_in: TokenRef
    token_out: TokenRef
    trade_type: TradeType = TradeType.EXACT_IN
    amount: Amount = Field(description="base units: of token_in for exact_in, of token_out for exact_out")
    slippage_bps: int = Field(
        default=DEFAULT_SLIPPAGE_BPS, description="0-5000: the limit is the quote worsened by this much"
    )
    deadline: int | None = Field(
        default=None, gt=0, description="unix seconds the swap must be mined by; default: 10 min after the quote"
    )
    recipient: Address | None = Field(default=None, description="who receives token_out; default: the signer")
    dexes: list[Name] | None = Field(default=None, max_length=16, description="route only through these deployments")
    max_hops: int = Field(default=2, ge=1, le=2, description="2 allows routes through WETH")
    approval: ApprovalMode = ApprovalMode.EXACT
    protected: bool = Field(default=False, description="send through the chain's private relay, not the mempool")
    max_sandwich_bps: int | None = Field(
        default=DEFAULT_MAX_SANDWICH_BPS,
        ge=0,
        le=MAX_SLIPPAGE_BPS,
        description="refuse a public swap a sandwich could extract more than this from (bps of notional); "
        "None: no check",
    )
    fees: FeePolicy
    policy: ReplacementPolicy = Field(default_factory=ReplacementPolicy)

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: int) -> int:
        if amount <= 0:
            raise ValueError(f"amount must be positive (base units), got {amount}")
        return amount

    @field_validator("slippage_bps", mode="before")
    @classmethod
    def _slippage_in_range(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"slippage_bps must be an integer number of basis points, got {value!r}")
        if not 0 <= value <= MAX_SLIPPAGE_BPS:
            raise ValueError(f"slippage_bps must be within 0-{MAX_SLIPPAGE_BPS} (0-50%), got {value}")
        return value

    @model_validator(mode="after")
    def _distinct_tokens(self) -> SwapRequest:
        if self.token_in.lower() == self.token_out.lower():
            raise ValueError(f"token_in and token_out are the same token ({self.token_in})")
        refusal = zero_address_refusal(self.recipient)
        if refusal is not None:
            raise ValueError(refusal)
        return self

    @property
    def workflow_id(self) -> str:
        return self.workflow_id_of(self.request_id)

    @staticmethod
    def workflow_id_of(request_id: str) -> str:
        return f"swap-{request_id}"


class RouteHop(BaseModel):
    """One pool of a route, with the amounts the quote expects through it."""

    pool: str
    token_in: str
    token_out: str
    fee: int = Field(description="pips: 3000 = 0.3%")
    amount_in: Amount
    amount_out: Amount


class SwapRoute(BaseModel):
    """Pools of one deployment, in trade order (one router call executes them)."""

    dex: str
    protocol: DexProtocol
    hops: list[RouteHop]
    symbols: list[str] = Field(default_factory=list, description="token symbols along the path, for humans")

    @property
    def path(self) -> list[str]:
        return [self.hops[0].token_in, *(h.token_out for h in self.hops)]

    def describe(self, symbols: dict[str, str] | None = None) -> str:
        """``USDC -(0.05%)-> WETH -(0.3%)-> WBTC on uniswap_v3``."""
        known = dict(zip(self.path, self.symbols, strict=False))
        name = {**known, **(symbols or {})}.get
        parts = [name(self.hops[0].token_in, self.hops[0].token_in)]
        for hop in self.hops:
            parts.append(f"-({Decimal(hop.fee).scaleb(-4).normalize():f}%)-> {name(hop.token_out, hop.token_out)}")
        return " ".join(parts) + f" on {self.dex}"


class SandwichCheck(BaseModel):
    """What the best sandwich around this swap (front-run to the limit, back-run after) would
    earn, simulated on the quoted pool state; in base units of ``token`` and bps of notional."""

    token: str
    max_profit: Amount
    profit_bps: Decimal
    bound_bps: int | None
    enforced: bool = Field(description="false for protected submissions or when the request disables it")
    simulated: bool = Field(default=True, description="false: not enforced and not simulated (the arbitrage fast lane)")


class SwapQuote(BaseModel):
    """The best route for the request at ``block_number``, and what it is expected to do."""

    chain: str
    block_number: int
    trade_type: TradeType
    token_in: TokenInfo
    token_out: TokenInfo
    route: SwapRoute
    amount_in: Amount
    amount_out: Amount
    limit: Amount = Field(description="exact_in: amountOutMin; exact_out: amountInMax")
    mid_amount: Amount = Field(description="exact_in: output at the mid price; exact_out: input at it")
    price_impact_bps: Decimal = Field(description="execution price vs the pre-trade mid price, LP fees included")
    slippage_bps: Decimal = Field(description="the size-dependent part: vs an infinitesimal trade on the route")
    lp_fee_bps: Decimal
    gas_estimate: int
    gas_price_wei: int
    gas_cost_wei: Amount
    gas_cost_in_output: Amount | None = Field(description="gas cost in token_out base units (WETH/out mid price)")
    candidates: int = Field(description="routes quoted")
    sandwich: SandwichCheck


class SwapPlan(BaseModel):
    """What the swap will send: the quote, router calldata and the approval, if one is needed."""

    quote: SwapQuote
    router: Address
    recipient: Address
    deadline: int = Field(description="unix seconds")
    swap_calldata: HexData
    allowance: Amount = Field(description="the signer's allowance for the router when quoted")
    approval: TxRequest | None = None


class SwapState(StrEnum):
    QUOTING = "quoting"
    APPROVING = "approving"
    BUILDING = "building"
    SWAPPING = "swapping"
    SETTLING = "settling"
    SETTLED = "settled"
    FAILED = "failed"


class SwapStatus(BaseModel):
    """What the ``status`` query answers."""

    request_id: str
    chain: str
    signer: str
    state: SwapState
    detail: str = ""
    quote: SwapQuote | None = None
    approve_workflow_id: str | None = None
    swap_workflow_id: str | None = None
    approve_tx_hash: str | None = None
    swap_tx_hash: str | None = None


class HopFill(BaseModel):
    """One pool's Swap event: what went in and out of it (base units)."""

    pool: str
    token_in: str
    token_out: str
    amount_in: Amount
    amount_out: Amount


class SwapResult(BaseModel):
    """A settled swap: exact amounts from the receipt's events, not from the quote."""

    request_id: str
    chain: str
    signer: str
    recipient: str
    trade_type: TradeType
    token_in: TokenInfo
    token_out: TokenInfo
    route: SwapRoute
    amount_in: Amount = Field(description="token_in that left the signer (ERC20 Transfer events)")
    amount_out: Amount = Field(description="token_out that reached the recipient (ERC20 Transfer events)")
    quoted_amount_in: Amount
    quoted_amount_out: Amount
    limit: Amount
    vs_quote_bps: Decimal = Field(description="how much worse than quoted (negative: better)")
    fills: list[HopFill]
    approve_tx_hash: TxHash | None = None
    swap_tx_hash: TxHash
    block_number: int
    gas_used: int
    effective_gas_price: int
    approve: TxResult | None = None
    swap: TxResult
