"""A Uniswap V2 deployment, as configuration: forks differ only here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.dex.config_fields import Address, Hash32
from connectors.evm.multicall import MULTICALL3_ADDRESS
from crosslane.domain.chains import DexDeployment

# keccak256 of UniswapV2Pair's creation code, as hard-coded in UniswapV2Library.pairFor.
UNISWAP_V2_INIT_CODE_HASH = "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
UNISWAP_V2_FEE_PIPS = 3000  # 0.3%: UniswapV2Library's 997/1000


class UniswapV2Config(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = "uniswap_v2"
    factory: Address
    init_code_hash: Hash32 = UNISWAP_V2_INIT_CODE_HASH
    router: Address | None = Field(default=None, description="Router02: needed for on-chain quotes only")
    fee: int = Field(default=UNISWAP_V2_FEE_PIPS, gt=0, lt=1_000_000, description="swap fee in pips")
    multicall: Address = MULTICALL3_ADDRESS

    @classmethod
    def from_deployment(cls, name: str, deployment: DexDeployment) -> UniswapV2Config:
        if deployment.protocol != "uniswap_v2":
            raise ValueError(f"{name} is a {deployment.protocol} deployment, not uniswap_v2")
        fees = list(deployment.fee_tiers) or [UNISWAP_V2_FEE_PIPS]
        if len(fees) != 1:
            raise ValueError(f"{name}: a V2 deployment has one fee, got {fees}")
        return cls(
            name=name,
            factory=deployment.factory,
            init_code_hash=deployment.init_code_hash,
            router=deployment.router,
            fee=fees[0],
        )
