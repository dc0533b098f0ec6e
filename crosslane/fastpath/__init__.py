"""The fast path's wire protocol and client: order entry in milliseconds, outside Temporal."""
