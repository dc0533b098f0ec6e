"""Uniswap V2 and its forks (SushiSwap, PancakeSwap V2, QuickSwap, TraderJoe V1...)."""

from connectors.dex.uniswap_v2.adapter import UniswapV2
from connectors.dex.uniswap_v2.config import UniswapV2Config
from connectors.dex.uniswap_v2.pair import PairState

__all__ = ["PairState", "UniswapV2", "UniswapV2Config"]
