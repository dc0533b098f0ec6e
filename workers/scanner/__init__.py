"""The arbitrage scanner (outside Temporal, continuous): live books from the venues' feeds,
pool state read once per new block, every joined pair evaluated (``crosslane.arbitrage``)
and published on a loopback stream; with auto-execution on it starts ``Arbitrage`` runs."""
