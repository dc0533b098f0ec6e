"""Build a chain's DEX adapters from its configuration (the devnet state or production file)."""

from __future__ import annotations

from connectors.dex.base import Dex, Pool
from connectors.dex.uniswap_v2 import UniswapV2, UniswapV2Config
from connectors.dex.uniswap_v3 import UniswapV3, UniswapV3Config
from connectors.evm.client import EvmClient
from crosslane.domain.chains import DexDeployment, DexPoolInfo


def build_dex(client: EvmClient, name: str, deployment: DexDeployment) -> Dex:
    if deployment.protocol == "uniswap_v2":
        return UniswapV2(client, UniswapV2Config.from_deployment(name, deployment))
    return UniswapV3(client, UniswapV3Config.from_deployment(name, deployment))


def build_dexes(client: EvmClient) -> dict[str, Dex]:
    """Every deployment ``client.chain.dexes`` lists, by its name."""
    return {name: build_dex(client, name, deployment) for name, deployment in client.chain.dexes.items()}


def known_pool(dex: Dex, info: DexPoolInfo) -> Pool | None:
    """A pool the deployment's config lists, as its adapter models it (None: no model for it)."""
    return dex.listed_pool(info.token0, info.token1, info.fee)
