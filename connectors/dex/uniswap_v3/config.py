"""A Uniswap V3 deployment, as configuration: forks differ only here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.dex.config_fields import Address, Hash32
from connectors.evm.multicall import MULTICALL3_ADDRESS
from crosslane.domain.chains import DexDeployment

# keccak256 of UniswapV3Pool's creation code, as hard-coded in v3-periphery's PoolAddress.
UNISWAP_V3_INIT_CODE_HASH = "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
# fee (pips) -> tick spacing: the factory's three tiers plus the 1 bp tier governance enabled.
UNISWAP_V3_FEE_TIERS: dict[int, int] = {100: 1, 500: 10, 3000: 60, 10000: 200}


class UniswapV3Config(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = "uniswap_v3"
    factory: Address
    pool_deployer: Address | None = Field(
        default=None, description="CREATE2 deployer of pools when not the factory (PancakeSwap V3's PoolDeployer)"
    )
    init_code_hash: Hash32 = UNISWAP_V3_INIT_CODE_HASH
    quoter: Address | None = Field(default=None, description="QuoterV2: needed for on-chain quotes only")
    swap_router: Address | None = None
    position_manager: Address | None = None
    fee_tiers: dict[int, int] = Field(default_factory=lambda: dict(UNISWAP_V3_FEE_TIERS))
    multicall: Address = MULTICALL3_ADDRESS
    tick_window: int = Field(
        default=8000,
        gt=0,
        description="ticks each side of the price whose bitmap words a state read covers (8000 ticks: x/÷2.2 "
        "in price); a swap that goes further makes the reader fetch more",
    )

    @field_validator("fee_tiers")
    @classmethod
    def _spacings_positive(cls, tiers: dict[int, int]) -> dict[int, int]:
        for fee, spacing in tiers.items():
            if not 0 < fee < 1_000_000 or spacing <= 0:
                raise ValueError(f"fee tier {fee}: fee must be in (0, 1e6) pips and tick spacing positive")
        return tiers

    @property
    def deployer(self) -> str:
        return self.pool_deployer or self.factory

    @classmethod
    def from_deployment(cls, name: str, deployment: DexDeployment) -> UniswapV3Config:
        if deployment.protocol != "uniswap_v3":
            raise ValueError(f"{name} is a {deployment.protocol} deployment, not uniswap_v3")
        tiers = {fee: spacing for fee, spacing in deployment.fee_tiers.items() if spacing is not None}
        return cls(
            name=name,
            factory=deployment.factory,
            init_code_hash=deployment.init_code_hash,
            quoter=deployment.quoter,
            swap_router=deployment.router,
            position_manager=deployment.position_manager,
            fee_tiers=tiers or dict(UNISWAP_V3_FEE_TIERS),
        )
