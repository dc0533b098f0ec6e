"""Models that cross the Temporal boundary for DEX liquidity: the ``DexLiquidity`` request,
its activities' inputs and outputs, and its result.

One request is one operation on one position: a V2 add or remove, or a V3 mint, increase,
decrease, collect or burn. Amounts are ``int`` base units (decimal strings accepted, for
values beyond 2^53 in JSON); tokens are symbols the chain knows ("WETH") or checksummed
addresses.

    {"request_id": "lp-42", "chain": "devnet-a", "owner": "0x…",
     "operation": {"action": "v3_mint", "token_a": "WETH", "token_b": "USDC", "fee": 3000,
                   "tick_lower": -199020, "tick_upper": -198420,
                   "amount_a": "1000000000000000000", "amount_b": "3000000000"},
     "slippage_bps": 50, "fees": {"max_fee_per_gas_cap": 100000000000}}
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from eth_utils import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from crosslane.domain.evm import Address, HexData, TxHash, Wei
from crosslane.domain.names import Name, check_name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy

LIQUIDITY_WORKFLOW = "DexLiquidity"
MAX_SLIPPAGE_BPS = 5_000  # 50%
MIN_TICK, MAX_TICK = -887_272, 887_272  # Uniswap V3 TickMath
# Child transaction ids are tx-lp-<request_id>.<step>: at most 128 characters in all.
LIQUIDITY_REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,95}$"
_SYMBOL = re.compile(r"^[A-Za-z0-9.]{1,16}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class LiquidityActivity(StrEnum):
    PLAN = "dex_lp_plan"
    SETTLE = "dex_lp_settle"


class LiquidityAction(StrEnum):
    V2_ADD = "v2_add"
    V2_REMOVE = "v2_remove"
    V3_MINT = "v3_mint"
    V3_INCREASE = "v3_increase"
    V3_DECREASE = "v3_decrease"
    V3_COLLECT = "v3_collect"
    V3_BURN = "v3_burn"

    @property
    def protocol(self) -> str:
        return "uniswap_v2" if self.value.startswith("v2_") else "uniswap_v3"


def _token_ref(value: str) -> str:
    if _ADDRESS.match(value):
        if not is_checksum_address(value):
            raise ValueError(f"{value} fails the EIP-55 checksum (did you mean {to_checksum_address(value)}?)")
        return value
    check_name(value)
    if not _SYMBOL.match(value):
        raise ValueError(f"{value!r} is neither a token symbol nor a 0x address")
    return value


TokenRef = Annotated[str, AfterValidator(_token_ref)]
PositiveWei = Annotated[Wei, Field(gt=0)]


class _Operation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Pair(_Operation):
    token_a: TokenRef
    token_b: TokenRef

    @model_validator(mode="after")
    def _distinct(self) -> _Pair:
        if self.token_a.lower() == self.token_b.lower():
            raise ValueError(f"token_a and token_b are the same token {self.token_a}")
        return self


class V2Add(_Pair):
    """Router02.addLiquidity: deposits at the pair's ratio, at most the amounts given."""

    action: Literal[LiquidityAction.V2_ADD] = LiquidityAction.V2_ADD
    amount_a: PositiveWei = Field(description="most of token_a to deposit, base units")
    amount_b: PositiveWei


class V2Remove(_Pair):
    """Router02.removeLiquidity of ``liquidity`` LP tokens (default: all the owner holds)."""

    action: Literal[LiquidityAction.V2_REMOVE] = LiquidityAction.V2_REMOVE
    liquidity: PositiveWei | None = Field(default=None, description="LP tokens (18 decimals); None: all")


class V3Mint(_Pair):
    """A new NFT position over [tick_lower, tick_upper) of the (token_a, token_b, fee) pool."""

    action: Literal[LiquidityAction.V3_MINT] = LiquidityAction.V3_MINT
    fee: int = Field(gt=0, lt=1_000_000, description="pool fee tier in pips: 500 = 0.05%")
    tick_lower: int = Field(ge=MIN_TICK, le=MAX_TICK)
    tick_upper: int = Field(ge=MIN_TICK, le=MAX_TICK)
    amount_a: Wei = Field(description="most of token_a to deposit, base units; 0 for a one-sided range")
    amount_b: Wei

    @model_validator(mode="after")
    def _range_and_amounts(self) -> V3Mint:
        if self.tick_lower >= self.tick_upper:
            raise ValueError(f"tick_lower {self.tick_lower} must be below tick_upper {self.tick_upper}")
        if self.amount_a == 0 and self.amount_b == 0:
            raise ValueError("amount_a and amount_b are both zero: nothing to provide")
        return self


class _Position(_Operation):
    token_id: int = Field(gt=0, description="the position's NFT id")


class V3Increase(_Position):
    action: Literal[LiquidityAction.V3_INCREASE] = LiquidityAction.V3_INCREASE
    amount0: Wei = Field(description="most of the pool's token0 to add, base units")
    amount1: Wei

    @model_validator(mode="after")
    def _some_amount(self) -> V3Increase:
        if self.amount0 == 0 and self.amount1 == 0:
            raise ValueError("amount0 and amount1 are both zero: nothing to add")
        return self


class V3Decrease(_Position):
    action: Literal[LiquidityAction.V3_DECREASE] = LiquidityAction.V3_DECREASE
    liquidity: PositiveWei | None = Field(default=None, description="liquidity units to remove; None: all")


class V3Collect(_Position):
    action: Literal[LiquidityAction.V3_COLLECT] = LiquidityAction.V3_COLLECT


class V3Burn(_Position):
    action: Literal[LiquidityAction.V3_BURN] = LiquidityAction.V3_BURN


Operation = Annotated[
    V2Add | V2Remove | V3Mint | V3Increase | V3Decrease | V3Collect | V3Burn, Field(discriminator="action")
]


class LiquidityRequest(SecretFreeRequest):
    """One liquidity operation for ``owner`` (the signer; tokens and positions are its own)."""

    request_id: str = Field(
        pattern=LIQUIDITY_REQUEST_ID_PATTERN, description="business key; the workflow id is lp-<request_id>"
    )
    chain: Name
    owner: Address
    operation: Operation
    dex: Name | None = Field(
        default=None, description="deployment name in the chain's dexes; default: the operation's protocol"
    )
    slippage_bps: int = Field(default=50, description="0-5000 (0-50%): min amounts are this far under expected")
    deadline: int | None = Field(default=None, gt=0, description="unix seconds; default: chain time + deadline_ttl")
    deadline_ttl: int = Field(default=600, ge=10, le=86_400, description="seconds, when no deadline is given")
    fees: FeePolicy
    policy: ReplacementPolicy = Field(default_factory=ReplacementPolicy)

    @field_validator("slippage_bps")
    @classmethod
    def _slippage(cls, value: int) -> int:
        if not 0 <= value <= MAX_SLIPPAGE_BPS:
            raise ValueError(f"slippage {value} bps is outside 0-{MAX_SLIPPAGE_BPS} bps (0-50%)")
        return value

    @property
    def action(self) -> LiquidityAction:
        return self.operation.action

    @property
    def workflow_id(self) -> str:
        return f"lp-{self.request_id}"


class PoolRef(BaseModel):
    """The pool an operation touches; token0 < token1 by address."""

    dex: str
    protocol: str
    address: str
    token0: str
    token1: str
    fee: int
    tick_spacing: int | None = None


class PlannedTx(BaseModel):
    """One transaction of the plan; ``step`` names it in the child lifecycle's request id."""

    step: str
    to: Address
    data: HexData
    value: Wei = 0
    purpose: str
    gas_limit: int | None = Field(default=None, description="None: the lifecycle estimates it")


class ExpectedAmounts(BaseModel):
    """From the state the plan read (base units, pool order): what the operation should
    move, and the minimums the calldata enforces."""

    amount0: int
    amount1: int
    amount0_min: int
    amount1_min: int
    liquidity: int
    block_number: int


class LiquidityPlanInput(BaseModel):
    workflow_id: str
    request: LiquidityRequest


class LiquidityPlan(BaseModel):
    pool: PoolRef
    approvals: list[PlannedTx]
    action_tx: PlannedTx
    expected: ExpectedAmounts
    deadline: int | None
    token_id: int | None = None


class LiquiditySettleInput(BaseModel):
    workflow_id: str
    request: LiquidityRequest
    plan: LiquidityPlan
    tx_hash: TxHash


class PoolEventAmounts(BaseModel):
    """The pool's (or pair's) own event for the operation: Mint, Burn or Collect."""

    event: str
    liquidity: int
    amount0: int
    amount1: int


class LiquidityResult(BaseModel):
    """What happened, from the receipt's events. Amounts are base units in pool order:
    deposited (add, mint, increase), released (remove, decrease) or paid out (collect)."""

    request_id: str
    chain: str
    owner: str
    action: LiquidityAction
    pool: PoolRef
    tx_hash: str
    block_number: int
    gas_used: int
    effective_gas_price: int
    approval_tx_hashes: list[str] = Field(default_factory=list)
    amount0: int
    amount1: int
    liquidity: int = Field(description="V2: LP tokens minted/burned; V3: liquidity added/removed")
    token_id: int | None = None
    position_liquidity: int | None = Field(default=None, description="V3: the position's liquidity afterwards")
    lp_balance: int | None = Field(default=None, description="V2: the owner's LP balance afterwards")
    pool_event: PoolEventAmounts | None = None
    expected: ExpectedAmounts


class LiquidityState(StrEnum):
    PLANNING = "planning"
    APPROVING = "approving"
    SENDING = "sending"
    SETTLING = "settling"
    DONE = "done"
    FAILED = "failed"


class LiquidityStatus(BaseModel):
    """What the ``status`` query answers."""

    request_id: str
    chain: str
    owner: str
    action: LiquidityAction | None
    state: LiquidityState
    detail: str = ""
    tx_hashes: dict[str, str] = Field(default_factory=dict, description="step -> mined tx hash")
