"""Every workflow a Crosslane orchestrator worker hosts."""

from __future__ import annotations

from workflows.cex_order import CexOrder
from workflows.stuck_tx_recovery import StuckTxRecovery
from workflows.tx_lifecycle import TransactionLifecycle

WORKFLOWS: list[type] = [TransactionLifecycle, StuckTxRecovery, CexOrder]
