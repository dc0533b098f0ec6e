"""Models that cross the Temporal boundary for ``LPMigration``: moving one liquidity position
into a Uniswap V3 range as one durable operation, and what it did.

Kinds (from the request's source and ``via_migrator``):

* ``v3_to_v3``: a V3 position to a new fee tier or range of the same pair: unstake (if
  staked) → collect fees → decrease all → collect → burn → zap swap → mint → restake;
* ``v2_to_v3``: V2 LP tokens into a V3 range: [withdraw from the MasterChef farm, harvesting
  its reward] → remove → zap swap → mint;
* ``v2_to_v3_migrator``: the same through Uniswap's V3Migrator in one transaction (what
  the range does not take is refunded, not swapped);
* ``cross_chain`` (``target.chain`` another chain; a V3 or a V2 source): remove on the
  source chain → swap to the bridged asset → ``BridgeTransfer`` → zap swap → mint on the
  target chain.

Every step is an existing workflow run as a child (``DexLiquidity``, ``DexSwap``,
``TransactionLifecycle``), min amounts from ``slippage_bps``. Amounts are int base units.

    {"request_id": "mig-1", "chain": "devnet-a", "owner": "0x…",
     "source": {"protocol": "uniswap_v3", "token_id": 7},
     "target": {"fee": 500, "tick_lower": -199020, "tick_upper": -198420},
     "slippage_bps": 100, "fees": {"max_fee_per_gas_cap": 100000000000}}
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crosslane.domain.bridge import BridgeRoute
from crosslane.domain.chains import V3Incentive
from crosslane.domain.dex_liquidity import MAX_SLIPPAGE_BPS, MAX_TICK, MIN_TICK, PlannedTx, PoolRef, TokenRef
from crosslane.domain.evm import Address, Wei
from crosslane.domain.names import Name
from crosslane.domain.no_secrets import SecretFreeRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy

LP_MIGRATION_WORKFLOW = "LPMigration"
# Grandchild ids are tx-lp-lpm-<request_id>.<step>.<action>: at most 128 characters in all.
MIGRATION_REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"


class MigrationActivity(StrEnum):
    PLAN = "lp_migration_plan"
    ZAP = "lp_migration_zap"
    STEP = "lp_migration_step"
    FINISH = "lp_migration_finish"


class MigrationKind(StrEnum):
    V3_TO_V3 = "v3_to_v3"
    V2_TO_V3 = "v2_to_v3"
    V2_TO_V3_MIGRATOR = "v2_to_v3_migrator"
    CROSS_CHAIN = "cross_chain"


class _Side(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class V2LpSource(_Side):
    """LP tokens of a V2 pair (``liquidity`` None: all the owner holds, in the wallet and
    staked in the deployment's MasterChef farm; staked ones are withdrawn first)."""

    protocol: Literal["uniswap_v2"] = "uniswap_v2"
    dex: Name = "uniswap_v2"
    token_a: TokenRef
    token_b: TokenRef
    liquidity: Wei | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _distinct(self) -> V2LpSource:
        if self.token_a.lower() == self.token_b.lower():
            raise ValueError(f"token_a and token_b are the same token {self.token_a}")
        return self


class V3PositionSource(_Side):
    """A V3 position NFT, held by the owner or deposited by the owner in the V3 staker."""

    protocol: Literal["uniswap_v3"] = "uniswap_v3"
    dex: Name = "uniswap_v3"
    token_id: int = Field(gt=0)


MigrationSource = Annotated[V2LpSource | V3PositionSource, Field(discriminator="protocol")]


class V3RangeTarget(_Side):
    """The new position: a [tick_lower, tick_upper) range of the pair's ``fee`` pool."""

    chain: Name | None = Field(default=None, description="another chain: a cross-chain migration; None: the same")
    dex: Name = "uniswap_v3"
    fee: int = Field(gt=0, lt=1_000_000, description="pips: 500 = 0.05%")
    tick_lower: int = Field(ge=MIN_TICK, le=MAX_TICK)
    tick_upper: int = Field(ge=MIN_TICK, le=MAX_TICK)

    @model_validator(mode="after")
    def _ordered(self) -> V3RangeTarget:
        if self.tick_lower >= self.tick_upper:
            raise ValueError(f"tick_lower {self.tick_lower} must be below tick_upper {self.tick_upper}")
        return self


class LPMigrationRequest(SecretFreeRequest):
    request_id: str = Field(pattern=MIGRATION_REQUEST_ID_PATTERN, description="business key; workflow id lpm-<id>")
    chain: Name
    owner: Address
    source: MigrationSource
    target: V3RangeTarget
    via_migrator: bool = Field(default=False, description="V2 sources: one V3Migrator transaction, no zap swap")
    slippage_bps: int = Field(default=100, description="0-5000: every step's min amounts are this far under expected")
    reference: TokenRef = Field(default="USDC", description="values are reported in this token")
    restake: bool = Field(default=True, description="stake the new position again if the old one was staked")
    bridge_asset: Name = Field(default="USDC", description="cross-chain: the token bridged (in both pairs)")
    bridge_route: BridgeRoute | None = Field(default=None, description="cross-chain: force a route")
    deadline_ttl: int = Field(default=600, ge=10, le=86_400)
    fees: FeePolicy
    policy: ReplacementPolicy = Field(default_factory=ReplacementPolicy)

    @field_validator("slippage_bps", mode="before")
    @classmethod
    def _slippage(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"slippage_bps must be an integer number of basis points, got {value!r}")
        if not 0 <= value <= MAX_SLIPPAGE_BPS:
            raise ValueError(f"slippage {value} bps is outside 0-{MAX_SLIPPAGE_BPS} bps (0-50%)")
        return value

    @model_validator(mode="after")
    def _migrator_needs_v2(self) -> LPMigrationRequest:
        if self.via_migrator and isinstance(self.source, V3PositionSource):
            raise ValueError("via_migrator moves V2 liquidity; the source is a V3 position")
        if self.via_migrator and self.target_chain != self.chain:
            raise ValueError("via_migrator works on one chain; the target is on another")
        return self

    @property
    def target_chain(self) -> str:
        return self.target.chain or self.chain

    @property
    def kind(self) -> MigrationKind:
        if self.target_chain != self.chain:
            return MigrationKind.CROSS_CHAIN
        if isinstance(self.source, V3PositionSource):
            return MigrationKind.V3_TO_V3
        return MigrationKind.V2_TO_V3_MIGRATOR if self.via_migrator else MigrationKind.V2_TO_V3

    @property
    def workflow_id(self) -> str:
        return f"lpm-{self.request_id}"


class StakedIn(BaseModel):
    """Where a staked source position sits: the staker and the incentives it is staked in."""

    staker: str
    incentives: list[V3Incentive]


class FarmStake(BaseModel):
    """V2 LP tokens of the source staked in a MasterChef farm: ``amount`` is withdrawn first
    (MasterChef's ``withdraw`` pays the farm's pending ``reward_token`` to the owner)."""

    chef: str
    pid: int
    amount: int = Field(gt=0, description="LP base units withdrawn from the farm")
    staked: int = Field(description="LP base units the owner had staked at the plan's block")
    reward_token: str
    pending_reward: int = Field(description="reward the withdrawal would harvest at the plan's block")


class MigrationPlanInput(BaseModel):
    workflow_id: str
    request: LPMigrationRequest


class MigrationPlan(BaseModel):
    """What the plan read (one block) and decided; amounts in the target pool's order.

    ``release0``/``release1``: what removing the source gives now (principal);
    ``fees0``/``fees1``: its uncollected fees; ``price0``/``price1``: reference base units
    per base unit of token0/token1 at the plan's block (the values' fixed yardstick).
    ``source_liquidity``: V2 LP tokens or V3 liquidity to remove.
    """

    kind: MigrationKind
    target_chain: str = Field(default="", description="empty: the source chain (runs recorded before cross-chain)")
    source_pool: PoolRef
    target_pool: PoolRef
    source_liquidity: int
    release0: int
    release1: int
    fees0: int
    fees1: int
    staked: StakedIn | None = None
    farm: FarmStake | None = Field(default=None, description="V2: LP staked in a MasterChef farm, unstaked first")
    restake: V3Incentive | None = None
    restake_note: str = ""
    reference: str
    reference_decimals: int
    price0: Decimal
    price1: Decimal
    source_price0: Decimal | None = Field(default=None, description="the source pool's tokens, on its chain")
    source_price1: Decimal | None = None
    bridge_token_source: str | None = Field(default=None, description="cross-chain: the bridged token on each chain")
    bridge_token_target: str | None = None
    bridge_token_delivered: str | None = Field(
        default=None,
        description="cross-chain: what the bridge delivers on the target chain when it is not "
        "bridge_token_target (Wormhole's wrapped asset); swapped into it there on delivered_dex",
    )
    delivered_dex: str | None = None
    price_native: Decimal = Field(description="reference base units per wei of the chain's native token (gas)")
    value_before: Decimal = Field(description="whole reference tokens: principal plus uncollected fees")
    entry0: int | None = Field(default=None, description="V3: what the position's deposits put in (IL's hold)")
    entry1: int | None = None
    block_number: int


class MigrationStepInput(BaseModel):
    """Plan one raw transaction of the migration (unstake, migrator approval and call, allowance
    reset, restake) from the chain state now."""

    workflow_id: str
    request: LPMigrationRequest
    plan: MigrationPlan
    step: str
    chain: str = ""
    token_id: int | None = None
    approval_tx_hashes: list[str] = Field(default_factory=list)


class MigrationStepPlan(BaseModel):
    txs: list[PlannedTx]
    note: str = ""


class MigrationZapInput(BaseModel):
    workflow_id: str
    request: LPMigrationRequest
    plan: MigrationPlan
    amount0: int
    amount1: int


class ZapDecision(BaseModel):
    """Swap ``amount_in`` of ``token_in`` (None: no swap) so the range takes both tokens; the
    mint's expected amounts and the dust the exact pool math leaves."""

    token_in: str | None
    token_out: str | None
    amount_in: int
    expected_out: int
    amount0: int
    amount1: int
    dust0: int
    dust1: int
    block_number: int


class MigrationLeg(BaseModel):
    """One step that ran: the child it ran as and what it moved (target pool order)."""

    step: str
    chain: str = ""
    child: str
    tx_hashes: list[str]
    gas_wei: int
    amount0: int = 0
    amount1: int = 0
    note: str = ""


class MigrationFinishInput(BaseModel):
    workflow_id: str
    request: LPMigrationRequest
    plan: MigrationPlan
    legs: list[MigrationLeg]
    removed0: int
    removed1: int
    collected_fees0: int
    collected_fees1: int
    have0: int = Field(default=0, description="target order, on the target chain: what the zap started from")
    have1: int = 0
    bridged: int = Field(default=0, description="cross-chain: bridge asset sent, and received on the target")
    bridge_received: int = 0
    zap: ZapDecision | None
    swap_in: int
    swap_out: int
    new_token_id: int | None
    minted_tx_hash: str | None
    deposited0: int
    deposited1: int
    staked_in: str | None
    restake_note: str
    failure: str | None = None
    where_hint: str = Field(default="", description="on failure: where the tokens are, when the workflow knows better")


class MigratedPosition(BaseModel):
    token_id: int
    pool: str
    fee: int
    tick_lower: int
    tick_upper: int
    liquidity: int
    amount0: int = Field(description="what removing it now would release (chain read at finish)")
    amount1: int
    holder: str = Field(description="the owner, or the staker the position is deposited and staked in")


class MigrationResult(BaseModel):
    """The migration, read back from the chain at the end. Values are whole reference tokens
    at the plan's prices; ``cost`` is what the zap swap and rounding took (fees included)."""

    request_id: str
    chain: str
    owner: str
    kind: MigrationKind
    target_chain: str = ""
    outcome: Literal["migrated", "failed"]
    reason: str = ""
    token0: str
    token1: str
    source: str
    removed0: int
    removed1: int
    fees0: int
    fees1: int
    deposited0: int
    deposited1: int
    dust0: int = Field(description="left in the owner's wallet (returned), token0 base units")
    dust1: int
    bridged: int = Field(default=0, description="cross-chain: bridge asset sent from the source chain")
    bridge_received: int = 0
    zap_token_in: str | None = None
    zap_amount_in: int = 0
    zap_amount_out: int = 0
    new_position: MigratedPosition | None = None
    restake_note: str = ""
    farm_reward: int = Field(default=0, description="V2 staked in a farm: reward harvested to the owner's wallet")
    farm_reward_token: str | None = None
    reference: str
    value_before: Decimal
    value_after: Decimal
    fees_value: Decimal
    cost: Decimal
    gas_wei: int
    gas_value: Decimal
    impermanent_loss: Decimal | None = Field(default=None, description="V3 sources: lp value / hold value - 1")
    where_tokens_are: str = ""
    legs: list[MigrationLeg]


class MigrationState(StrEnum):
    PLANNING = "planning"
    UNSTAKING = "unstaking"
    REMOVING = "removing"
    SWAPPING = "swapping"
    BRIDGING = "bridging"
    ADDING = "adding"
    RESTAKING = "restaking"
    RECORDING = "recording"
    DONE = "done"
    FAILED = "failed"


class MigrationStatus(BaseModel):
    request_id: str
    chain: str
    owner: str
    kind: MigrationKind | None
    state: MigrationState
    detail: str = ""
    steps: list[str] = Field(default_factory=list, description="steps finished, in order")
