"""Gas a router swap uses, predicted from its route (no ``eth_estimateGas`` round trip).

The figures are what the stock Router02 and SwapRouter use on the devnet for swaps
between already-funded ERC20 balances (measured with anvil 1.7, see
tests/integration/test_dex_routing.py, which keeps the model within 35% of receipts):
a fixed part (intrinsic 21k, calldata, the router's checks and the input transfer), a
part per hop (the pair or pool's swap, its output transfer) and, for V3, a part per
initialized tick crossed. Storage first touched in a block (cold) or written from zero
costs more, so one route's real cost varies by +-30% with the state: this is for comparing
routes and pricing gas, while the transaction's gas limit comes from ``eth_estimateGas``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.dex.base import DexProtocol, PoolQuote


@dataclass(frozen=True)
class GasModel:
    base: int
    per_hop: int
    per_tick_crossed: int = 0

    def estimate(self, hops: Sequence[PoolQuote]) -> int:
        ticks = sum(q.initialized_ticks_crossed or 0 for q in hops)
        return self.base + self.per_hop * len(hops) + self.per_tick_crossed * ticks


GAS_MODELS: dict[DexProtocol, GasModel] = {
    DexProtocol.UNISWAP_V2: GasModel(base=75_000, per_hop=50_000),
    DexProtocol.UNISWAP_V3: GasModel(base=60_000, per_hop=65_000, per_tick_crossed=25_000),
}


def estimate_swap_gas(protocol: DexProtocol, hops: Sequence[PoolQuote]) -> int:
    """Gas units a router swap along ``hops`` is expected to use."""
    return GAS_MODELS[protocol].estimate(hops)
