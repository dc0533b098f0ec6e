"""Uniswap V3 and its forks (Sushi V3, PancakeSwap V3 with ``pool_deployer``...)."""

from connectors.dex.uniswap_v3.adapter import UniswapV3
from connectors.dex.uniswap_v3.config import UniswapV3Config
from connectors.dex.uniswap_v3.pool_state import V3StateReader
from connectors.dex.uniswap_v3.swap import PoolSnapshot, SwapSimulation, TickDataMissing, simulate_swap

__all__ = [
    "PoolSnapshot",
    "SwapSimulation",
    "TickDataMissing",
    "UniswapV3",
    "UniswapV3Config",
    "V3StateReader",
    "simulate_swap",
]
