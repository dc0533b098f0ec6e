"""Every activity a Crosslane orchestrator worker hosts, bound to one runtime."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.arbitrage import ArbActivities, limits_from_env
from activities.bridge import BridgeActivities
from activities.cex import CexActivities
from activities.cex_transfer import CexTransferActivities
from activities.dex_liquidity import DexLiquidityActivities
from activities.dex_swap import DexSwapActivities
from activities.lp_migration import LpMigrationActivities
from activities.recovery import RecoveryActivities
from activities.runtime import ChainRuntime
from activities.solana import SolanaActivities
from activities.tx import TxActivities
from activities.yield_compound import YieldCompoundActivities


def build_activities(runtime: ChainRuntime) -> list[Callable[..., Any]]:
    tx = TxActivities(runtime)
    recovery = RecoveryActivities(runtime)
    cex = CexActivities()
    liquidity = DexLiquidityActivities(runtime)
    swap = DexSwapActivities(runtime)
    bridge = BridgeActivities(runtime)
    return [
        tx.tx_prepare,
        tx.tx_broadcast,
        tx.tx_send,
        tx.tx_send_settle,
        tx.tx_replace,
        tx.tx_wait,
        recovery.tx_scan_signer,
        cex.cex_execute,
        liquidity.dex_lp_plan,
        liquidity.dex_lp_settle,
        swap.dex_quote,
        swap.dex_build_swap,
        swap.dex_settle,
        bridge.bridge_plan,
        bridge.bridge_deposit_ref,
        bridge.bridge_track,
        bridge.bridge_completion,
        bridge.bridge_verify,
        bridge.bridge_record_failure,
        *SolanaActivities(runtime).all(),
        *ArbActivities(runtime, limits_from_env()).all(),
        *CexTransferActivities(runtime).all(),
        *YieldCompoundActivities(runtime).all(),
        *LpMigrationActivities(runtime).all(),
    ]
