"""Names of Crosslane's own metrics, shared by the code that records them and by tests.

Recorded in workflows and activities through Temporal's metric meter (replay-safe, served
with the SDK's own metrics on the worker's endpoint); in the fast path and the scanner
through ``prometheus_client``.
"""

from __future__ import annotations

# worker: activities (activity.metric_meter())
NONCE_ALLOCATIONS = "crosslane_nonce_allocations"  # counter {chain}
TX_ATTEMPTS = "crosslane_tx_attempts_broadcast"  # counter {chain, kind}: every broadcast of an attempt
TX_REPLACEMENTS = "crosslane_tx_replacements"  # counter {chain, kind}: replacement or cancel attempts signed
KILL_SWITCH = "crosslane_arb_paused"  # gauge: 1 while arbitrage is paused (kill switch tripped, or an operator)
# worker: workflows (workflow.metric_meter())
BRIDGE_STAGE_SECONDS = "crosslane_bridge_stage_seconds"  # histogram {route, stage}
# fast path
ORDER_TO_ACK_SECONDS = "crosslane_fastpath_order_to_ack_seconds"  # histogram {venue}
VENUE_UP = "crosslane_fastpath_venue_up"  # gauge {venue}: 1 when the router takes the venue
BOOK_AGE_SECONDS = "crosslane_fastpath_book_age_seconds"  # gauge {venue}
# scanner
OPPORTUNITIES_SEEN = "crosslane_arb_opportunities_seen"  # counter
OPPORTUNITIES_TAKEN = "crosslane_arb_opportunities_taken"  # counter: evaluated as worth taking
RUNS_STARTED = "crosslane_arb_runs_started"  # counter: taken and started (auto-execution)
