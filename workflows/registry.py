"""Every workflow a Crosslane orchestrator worker hosts."""

from __future__ import annotations

from workflows.arbitrage import Arbitrage
from workflows.bridge_transfer import BridgeTransfer
from workflows.cex_order import CexOrder
from workflows.cex_transfer import CexTransfer
from workflows.dex_liquidity import DexLiquidity
from workflows.dex_swap import DexSwap
from workflows.lp_migration import LPMigration
from workflows.solana_transaction import SolanaTransaction
from workflows.stuck_tx_recovery import StuckTxRecovery
from workflows.tx_lifecycle import TransactionLifecycle
from workflows.yield_compound import YieldCompound

WORKFLOWS: list[type] = [
    TransactionLifecycle,
    StuckTxRecovery,
    CexOrder,
    DexLiquidity,
    DexSwap,
    BridgeTransfer,
    SolanaTransaction,
    Arbitrage,
    CexTransfer,
    YieldCompound,
    LPMigration,
]
