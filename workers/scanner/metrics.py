"""The scanner's counters: opportunities evaluated, worth taking, and runs started."""

from __future__ import annotations

from prometheus_client import Counter

from crosslane.telemetry.names import OPPORTUNITIES_SEEN, OPPORTUNITIES_TAKEN, RUNS_STARTED

SEEN = Counter(OPPORTUNITIES_SEEN, "opportunities evaluated (every pair, every pass)")
TAKEN = Counter(OPPORTUNITIES_TAKEN, "opportunities evaluated as worth taking")
STARTED = Counter(RUNS_STARTED, "arbitrage runs started by auto-execution")
