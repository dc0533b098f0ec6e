"""Cross-venue arbitrage: exact execution curves, costs, the optimal size and the decision
(pure, synchronous code; connectors build the curves from real books and pools).

    buy = ArbLeg("binance", "ETH/USDC", BookCurve(Side.BUY, asks, ...), book_ts_ms=ts)
    sell = ArbLeg("devnet-a:uniswap_v3", "WETH/USDC 0.3%", pool_curve, chain="devnet-a", ...)
    opportunity = evaluate(ArbKind.CEX_DEX, market, buy, sell, now_ms=now, policy=policy)
"""

from crosslane.arbitrage.costs import APPROVAL_GAS, NO_RISK, BridgeCost, ChainGas, PriceRisk, TxGas
from crosslane.arbitrage.curves import BookCurve, CallableCurve, LegCurve, LegFill
from crosslane.arbitrage.opportunity import (
    ArbKind,
    ArbLeg,
    ArbMarket,
    ArbMode,
    ArbPolicy,
    CostItem,
    DropReason,
    Inventory,
    LegOutcome,
    Opportunity,
    TransferCost,
    evaluate,
)
from crosslane.arbitrage.optimizer import Optimum, maximise

__all__ = [
    "APPROVAL_GAS",
    "NO_RISK",
    "ArbKind",
    "ArbLeg",
    "ArbMarket",
    "ArbMode",
    "ArbPolicy",
    "BookCurve",
    "BridgeCost",
    "CallableCurve",
    "ChainGas",
    "CostItem",
    "DropReason",
    "Inventory",
    "LegCurve",
    "LegFill",
    "LegOutcome",
    "Opportunity",
    "Optimum",
    "PriceRisk",
    "TransferCost",
    "TxGas",
    "evaluate",
    "maximise",
]
