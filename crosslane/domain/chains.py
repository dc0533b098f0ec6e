"""Chains Crosslane knows, and where to reach them.

Built from the registry file (``CROSSLANE_REGISTRY``, else ``registry.yaml`` in the home,
where ``crosslane dev up`` writes the devnet's): see :meth:`ChainRegistry.from_registry`.
Workflows carry only chain names; activities resolve them here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from crosslane.domain.bridge_endpoints import BridgeEndpoints
from crosslane.domain.names import unknown_name_hint
from crosslane.domain.solana import SolanaCluster
from crosslane.errors import InvalidRequest
from crosslane.money import format_amount

if TYPE_CHECKING:
    from crosslane.registry.model import Registry


class TokenInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    symbol: str
    address: str
    decimals: int = Field(ge=0, le=36)

    def amount_text(self, amount: int) -> str:
        """``amount`` base units of this token as a person reads them: ``249.975 USDC``."""
        return format_amount(amount, self.decimals, self.symbol)


class DexPoolInfo(BaseModel):
    """A pool (V2 pair or V3 pool) known to exist; tokens are addresses, token0 < token1."""

    model_config = ConfigDict(frozen=True)

    address: str
    token0: str
    token1: str
    fee: int = Field(ge=0, lt=1_000_000, description="pips (hundredths of a bip): 3000 = 0.3%")
    tick_spacing: int | None = Field(default=None, description="V3 only")
    label: str = Field(default="", description='for humans, e.g. "WETH/USDC 0.05%"')


class LiquidityFarm(BaseModel):
    """A MasterChef pool: stakers of ``lp_token`` share its ``alloc_point`` part of the emission."""

    model_config = ConfigDict(frozen=True)

    pid: int = Field(ge=0)
    lp_token: str
    alloc_point: int = Field(ge=0)
    label: str = ""


class MasterChefInfo(BaseModel):
    """SushiSwap's MasterChef: it mints ``reward_token`` each block to its farms (V2 LP staking).

    Emission per block is ``reward_per_block``, times ``bonus_multiplier`` before
    ``bonus_end_block``; each farm takes its ``alloc_point`` share of the total.
    """

    model_config = ConfigDict(frozen=True)

    address: str
    reward_token: str
    reward_per_block: int | None = Field(default=None, ge=0, description="base units; None: read the contract")
    bonus_end_block: int | None = Field(default=None, ge=0, description="None: read the contract")
    bonus_multiplier: int = Field(default=10, ge=1, description="MasterChef's BONUS_MULTIPLIER constant")
    farms: list[LiquidityFarm] = Field(default_factory=list)


class V3Incentive(BaseModel):
    """A UniswapV3Staker incentive: its key (what every staker call names) and its funding."""

    model_config = ConfigDict(frozen=True)

    reward_token: str
    pool: str
    start_time: int = Field(ge=0, description="unix seconds")
    end_time: int = Field(ge=0, description="unix seconds")
    refundee: str
    reward: int = Field(default=0, ge=0, description="base units funded at creation")


class DexDeployment(BaseModel):
    """One AMM deployment on a chain: what its connector needs to find and quote pools.

    A fork of Uniswap is another entry with the same ``protocol`` and its own factory and
    init-code hash (pool addresses are CREATE2 of factory, tokens, fee and that hash).
    """

    model_config = ConfigDict(frozen=True)

    protocol: Literal["uniswap_v2", "uniswap_v3"]
    factory: str
    init_code_hash: str = Field(description="keccak256 of the pair/pool creation code, 0x-hex")
    router: str | None = Field(default=None, description="V2: UniswapV2Router02; V3: SwapRouter")
    quoter: str | None = Field(default=None, description="V3: QuoterV2")
    position_manager: str | None = Field(default=None, description="V3: NonfungiblePositionManager")
    fee_tiers: dict[int, int | None] = Field(
        default_factory=dict, description="fee in pips -> tick spacing (None for V2 pairs)"
    )
    pools: list[DexPoolInfo] = Field(default_factory=list, description="pools seeded or known at start")
    migrator: str | None = Field(default=None, description="V3: V3Migrator (moves V2 liquidity into a V3 position)")
    staker: str | None = Field(default=None, description="V3: UniswapV3Staker (liquidity mining of position NFTs)")
    incentives: list[V3Incentive] = Field(default_factory=list, description="V3: staker incentives known at start")
    masterchef: MasterChefInfo | None = Field(default=None, description="V2: LP farming with a reward token")


EvmFeeModel = Literal["eip1559", "op-stack", "arbitrum"]


class ChainConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    chain_id: int = Field(gt=0)
    rpc_urls: list[str] = Field(min_length=1, description="ordered: first is primary")
    confirmations: int = Field(default=1, ge=1)
    contracts: dict[str, str] = Field(default_factory=dict)
    tokens: dict[str, TokenInfo] = Field(default_factory=dict)
    dexes: dict[str, DexDeployment] = Field(
        default_factory=dict, description='AMM deployments by name ("uniswap_v2", "uniswap_v3", a fork...)'
    )
    private_relay_url: str | None = Field(
        default=None, description="JSON-RPC endpoint of a private relay for protected transactions"
    )
    fee_model: EvmFeeModel = Field(default="eip1559", description="op-stack/arbitrum: an L1 data fee on top")
    settles_on: str | None = Field(default=None, description="a rollup: the L1 chain it settles on (by name)")


class ChainRegistry(BaseModel):
    chains: dict[str, ChainConfig] = Field(default_factory=dict)
    bridges: BridgeEndpoints = Field(default_factory=BridgeEndpoints)
    solana: dict[str, SolanaCluster] = Field(default_factory=dict, description="Solana clusters by name")

    def get(self, name: str) -> ChainConfig:
        try:
            return self.chains[name]
        except KeyError:
            known = ", ".join(sorted(self.chains)) or "none (is the devnet up?)"
            raise InvalidRequest(f"unknown chain {name!r}{unknown_name_hint(name)}; known chains: {known}") from None

    def solana_cluster(self, name: str) -> SolanaCluster:
        try:
            return self.solana[name]
        except KeyError:
            known = ", ".join(sorted(self.solana)) or "none (is the devnet up with its Solana node?)"
            raise InvalidRequest(f"cluster: unknown Solana cluster {name!r}; known: {known}") from None

    @classmethod
    def from_registry(cls, registry: Registry) -> ChainRegistry:
        """The chains, their tokens and dexes, the bridges' endpoints and the Solana clusters
        the registry file describes, as activities and the CLI read them."""
        chains: dict[str, ChainConfig] = {}
        clusters: dict[str, SolanaCluster] = {}
        for name, chain in registry.chains.items():
            on_chain = registry.tokens_on(name)
            if chain.family == "evm":
                chains[name] = chain.chain_config(name, {s: t.token_info(s) for s, t in on_chain.items()})
            else:
                clusters[name] = chain.cluster_config(name, {s: t.solana_mint(s) for s, t in on_chain.items()})
        return cls(chains=chains, bridges=registry.bridges.endpoints(), solana=clusters)
