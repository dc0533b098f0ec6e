"""DEX connectors: one protocol-agnostic interface, one adapter folder per protocol family.

client = EvmClient(registry.get("devnet-a"))
dexes = build_dexes(client)                        # from ChainConfig.dexes
v3 = dexes["uniswap_v3"]
pools = await v3.pools(weth, usdc)                 # one per initialized fee tier
quote = await v3.quote_exact_in(pools[0], weth, 10**18)   # off-chain, exact to the wei
state = await v3.pool_state(pools[0])              # or read once, quote many sizes
state.quote_exact_out(usdc, 3_000 * 10**6)
"""

from connectors.dex.base import Dex, DexProtocol, Pool, PoolQuote, PoolState, TradeType
from connectors.dex.errors import InsufficientLiquidity, PoolNotFound, QuoteFailed
from connectors.dex.factories import build_dex, build_dexes

__all__ = [
    "Dex",
    "DexProtocol",
    "InsufficientLiquidity",
    "Pool",
    "PoolNotFound",
    "PoolState",
    "PoolQuote",
    "QuoteFailed",
    "TradeType",
    "build_dex",
    "build_dexes",
]
