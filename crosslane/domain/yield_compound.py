"""Models that cross the Temporal boundary for ``YieldCompound``: compounding one farmed
position (harvest → swap rewards to the pool's ratio → add liquidity → stake again), its
activities' inputs and outputs, its result, and the schedule that runs it.

One request names one position: a MasterChef farm (``{"kind": "masterchef", "pid": 0}``,
the owner's LP stake in it) or a V3 position NFT staked in a UniswapV3Staker incentive
(``{"kind": "v3_staker", "token_id": 7}``). Amounts are ``int`` base units.

    {"request_id": "farm0", "chain": "devnet-a", "owner": "0x…",
     "position": {"kind": "masterchef", "dex": "sushiswap", "pid": 0},
     "gas_fraction": "0.5", "interval_seconds": 21600, "slippage_bps": 100,
     "fees": {"max_fee_per_gas_cap": 100000000000}}

A scheduled run's workflow id is the schedule's with the fire time appended, so every run
of one schedule has its own child transactions and ledger row.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crosslane.domain.dex_liquidity import MAX_SLIPPAGE_BPS, PlannedTx
from crosslane.domain.evm import Address, TxHash
from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy

COMPOUND_WORKFLOW = "YieldCompound"
MIN_INTERVAL_SECONDS = 60
MAX_INTERVAL_SECONDS = 366 * 24 * 3600
SECONDS_PER_YEAR = 365 * 24 * 3600
# Room for the schedule's "-<fire time>" suffix and the children's ".<step>" ids.
COMPOUND_REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,47}$"


class CompoundActivity(StrEnum):
    PLAN = "yield_compound_plan"
    HARVESTED = "yield_compound_harvested"
    RESTAKE = "yield_compound_restake"
    RECORD = "yield_compound_record"


class PositionKind(StrEnum):
    MASTERCHEF = "masterchef"
    V3_STAKER = "v3_staker"


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FarmTarget(_Target):
    """The owner's LP tokens staked in MasterChef pool ``pid`` of a V2 deployment."""

    kind: Literal[PositionKind.MASTERCHEF] = PositionKind.MASTERCHEF
    dex: Name = Field(default="sushiswap", description="the V2 deployment whose masterchef farms the pair")
    pid: int = Field(ge=0, description="MasterChef pool id")

    @property
    def key(self) -> str:
        return f"{self.dex}:masterchef:{self.pid}"


class StakedTarget(_Target):
    """A V3 position NFT deposited in the staker and staked in one incentive."""

    kind: Literal[PositionKind.V3_STAKER] = PositionKind.V3_STAKER
    dex: Name = Field(default="uniswap_v3", description="the V3 deployment whose staker holds the position")
    token_id: int = Field(gt=0)
    incentive: int = Field(default=0, ge=0, description="index in the deployment's registry incentives")

    @property
    def key(self) -> str:
        return f"{self.dex}:v3:{self.token_id}"


CompoundTarget = Annotated[FarmTarget | StakedTarget, Field(discriminator="kind")]


def check_interval(seconds: int) -> int:
    if not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
        raise ValueError(
            f"interval {seconds} s is outside {MIN_INTERVAL_SECONDS} s (one minute) - {MAX_INTERVAL_SECONDS} s"
        )
    return seconds


def check_slippage(value: int) -> int:
    if not 0 <= value <= MAX_SLIPPAGE_BPS:
        raise ValueError(f"slippage {value} bps is outside 0-{MAX_SLIPPAGE_BPS} bps (0-50%)")
    return value


class CompoundRequest(SecretFreeRequest):
    """Compound ``position`` of ``owner`` once, unless the profit gate says it does not pay."""

    request_id: str = Field(pattern=COMPOUND_REQUEST_ID_PATTERN, description="business key; workflow compound-<id>")
    chain: Name
    owner: Address
    position: CompoundTarget
    gas_fraction: Decimal = Field(
        default=Decimal("0.5"), description="skip when gas to compound > rewards' value × this (0 < f ≤ 1)"
    )
    interval_seconds: int = Field(default=6 * 3600, description="how often it is meant to run (APY, break-even)")
    slippage_bps: int = Field(default=100, description="0-5000: min amounts of the swaps and the add")
    fees: FeePolicy
    policy: ReplacementPolicy = Field(default_factory=ReplacementPolicy)

    @field_validator("gas_fraction")
    @classmethod
    def _fraction(cls, value: Decimal) -> Decimal:
        if not Decimal(0) < value <= Decimal(1):
            raise ValueError(f"gas_fraction {value} must be above 0 and at most 1")
        return value

    @field_validator("interval_seconds")
    @classmethod
    def _interval(cls, value: int) -> int:
        return check_interval(value)

    @field_validator("slippage_bps")
    @classmethod
    def _slippage(cls, value: int) -> int:
        return check_slippage(value)

    @property
    def workflow_id(self) -> str:
        return f"compound-{self.request_id}"


class PoolTokens(BaseModel):
    """The pool the position provides liquidity to (token0 < token1)."""

    dex: str
    protocol: str
    address: str
    token0: str
    token1: str
    fee: int
    tick_lower: int | None = None  # V3: the position's range
    tick_upper: int | None = None


class Gate(BaseModel):
    """The profit gate's decision and the figures it decided on (values in wei of ETH)."""

    proceed: bool
    reason: str
    reward: int = Field(description="reward token base units claimable now (with the last run's carry)")
    reward_value_wei: int
    gas_estimate: int = Field(description="gas units of the whole compound")
    gas_price_wei: int
    gas_cost_wei: int
    position_value_wei: int
    apr: Decimal | None = Field(default=None, description="reward APR observed since the last harvest")
    break_even_seconds: int | None = Field(
        default=None, description="shortest interval whose rewards × gas_fraction cover the gas"
    )
    optimal_interval_seconds: int | None = Field(default=None, description="interval maximising net APY")


class CompoundPlanInput(BaseModel):
    workflow_id: str
    request: CompoundRequest


class CompoundPlan(BaseModel):
    pool: PoolTokens
    reward_token: str
    gate: Gate
    harvest: list[PlannedTx] = Field(description="claim/harvest transactions, in order")
    block_number: int
    chain_time: int
    fee_mark: str | None = Field(default=None, description="fee-growth reading the next run measures fees from")
    fees_value_wei: int = Field(default=0, description="pool fees earned since the last run, wei of ETH")
    carry: int = Field(default=0, description="reward the last run's restake paid out, compounded by this one")


class HarvestedInput(BaseModel):
    workflow_id: str
    request: CompoundRequest
    plan: CompoundPlan
    harvest_tx_hashes: list[TxHash]


class SwapLeg(BaseModel):
    token_out: str
    amount_in: int = Field(description="reward token base units to swap")


class Harvested(BaseModel):
    """What the harvest paid (from the receipts) and how it is split across the pool's tokens."""

    reward: int
    legs: list[SwapLeg]
    kept0: int = Field(default=0, description="reward kept as token0 (the reward is the pool's token0)")
    kept1: int = 0


class RestakeInput(BaseModel):
    workflow_id: str
    request: CompoundRequest
    plan: CompoundPlan
    added_liquidity: int


class CompoundOutcome(StrEnum):
    COMPOUNDED = "compounded"
    SKIPPED = "skipped"
    FAILED = "failed"  # a step after the harvest failed: position staked again, reward left in the wallet


class CompoundRecordInput(BaseModel):
    workflow_id: str
    request: CompoundRequest
    plan: CompoundPlan
    outcome: CompoundOutcome
    reward: int = 0
    reward_value_wei: int = 0
    added0: int = 0
    added1: int = 0
    liquidity: int = 0
    carry_forward: int = Field(default=0, description="failed run: reward left in the wallet for the next run")
    tx_hashes: dict[str, str] = Field(default_factory=dict, description="step -> mined tx hash (gas is read from them)")


class PositionYield(BaseModel):
    """A position's yield from its ledger rows (values in wei of ETH)."""

    position: str
    runs: int
    compounded: int
    skipped: int
    rewards_value_wei: int
    fees_value_wei: int
    gas_wei: int
    principal_wei: int
    elapsed_seconds: int
    net_apr: Decimal | None
    net_apy: Decimal | None


class CompoundRecorded(BaseModel):
    gas_used_wei: int = Field(description="gas × effective price of every transaction of the run, from receipts")
    position_yield: PositionYield


class CompoundResult(BaseModel):
    request_id: str
    workflow_id: str
    chain: str
    owner: str
    position: str
    outcome: CompoundOutcome
    reason: str
    gate: Gate
    reward: int = 0
    swapped: dict[str, int] = Field(default_factory=dict, description="pool token -> amount received from swaps")
    added0: int = 0
    added1: int = 0
    liquidity: int = Field(default=0, description="V2: LP tokens staked again; V3: liquidity added")
    dust0: int = Field(default=0, description="token0 received but not deposited, left in the owner's wallet")
    dust1: int = 0
    gas_used_wei: int = 0
    tx_hashes: dict[str, str] = Field(default_factory=dict)
    position_yield: PositionYield | None = None


class CompoundState(StrEnum):
    PLANNING = "planning"
    HARVESTING = "harvesting"
    SWAPPING = "swapping"
    ADDING = "adding"
    STAKING = "staking"
    RECORDING = "recording"
    SKIPPED = "skipped"
    DONE = "done"
    FAILED = "failed"


class CompoundStatus(BaseModel):
    request_id: str
    position: str
    state: CompoundState
    detail: str = ""
    tx_hashes: dict[str, str] = Field(default_factory=dict)


class CompoundSchedule(BaseModel):
    """What ``crosslane schedule compound`` creates: a Temporal Schedule of ``YieldCompound``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    request: CompoundRequest
    every_seconds: int
    jitter_seconds: int = Field(default=0, ge=0)
    catchup_window_seconds: int = Field(default=3600, ge=60)

    @field_validator("every_seconds")
    @classmethod
    def _every(cls, value: int) -> int:
        return check_interval(value)

    @model_validator(mode="after")
    def _jitter_and_interval(self) -> CompoundSchedule:
        if self.jitter_seconds >= self.every_seconds:
            raise ValueError(f"jitter {self.jitter_seconds} s must be shorter than the interval {self.every_seconds} s")
        if self.request.interval_seconds != self.every_seconds:
            raise ValueError(
                f"the request's interval_seconds {self.request.interval_seconds} is not the schedule's"
                f" {self.every_seconds}"
            )
        return self


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> int:
    """Seconds of ``90s``, ``15m``, ``6h``, ``1d``, ``1h30m`` (a bare number is seconds)."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    total, number = 0, ""
    for char in value:
        if char.isdigit():
            number += char
        elif char in _DURATION_UNITS and number:
            total += int(number) * _DURATION_UNITS[char]
            number = ""
        else:
            raise ValueError(f"duration {text!r} is not like 90s, 15m, 6h, 1d or 1h30m")
    if number or not value:
        raise ValueError(f"duration {text!r} is not like 90s, 15m, 6h, 1d or 1h30m")
    return total


def parse_position(text: str) -> FarmTarget | StakedTarget:
    """``[dex:]masterchef:<pid>`` or ``[dex:]v3:<token_id>[:<incentive>]`` (the key a run reports)."""
    parts = text.strip().split(":")
    dex = None
    if parts and parts[0] not in ("masterchef", "v3"):
        dex, parts = parts[0], parts[1:]
    usage = f"position {text!r} is not like masterchef:<pid>, v3:<token id> or sushiswap:masterchef:<pid>"
    if len(parts) < 2 or not all(p.isdigit() for p in parts[1:]):
        raise ValueError(usage)
    kind, numbers = parts[0], [int(p) for p in parts[1:]]
    extra = {"dex": dex} if dex else {}
    if kind == "masterchef" and len(numbers) == 1:
        return FarmTarget(pid=numbers[0], **extra)
    if kind == "v3" and len(numbers) in (1, 2):
        return StakedTarget(token_id=numbers[0], incentive=numbers[1] if len(numbers) == 2 else 0, **extra)
    raise ValueError(usage)
