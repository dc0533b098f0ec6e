"""The collector's settings for a long-lived, latency-sensitive process (the fast path, the
scanner's fast lane): what it imported and loaded at its start is never scanned again."""

from __future__ import annotations

import gc

# The collector's youngest generation is scanned every this many net allocations (CPython: 700).
# ccxt allocates and drops many dicts per order: with the default, young scans ran far more often.
GC_GEN0_THRESHOLD = 5_000


def settle_heap() -> None:
    """Once started: the objects of the imports and of what was loaded (markets, pool state)
    move to the collector's permanent generation (``gc.freeze``), so no collection scans them
    again (a full one over the fast path's ~240k took ~65 ms, in the middle of some order), and
    young scans run less often. Process-wide: call it only in a process that owns its heap."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
