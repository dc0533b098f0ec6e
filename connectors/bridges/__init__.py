"""Bridge connector: one interface (quote, deposit, status, redeem, refund) over Wormhole and
Across, plus the route selector."""
