"""What the account can spend on each CEX venue, as the optimizer's :class:`Inventory`: the
quote currency where a pair buys, the base where it sells (inventory mode). The scanner
holds no credentials: the fast path (which does) reads the venues' free balances, polled
here at a steady pace; a venue whose balance could not be read holds nothing.

``inventory_for`` is pure; ``CexBalances`` is the polling. Without it (no fast path asked)
a CEX leg is not limited here: the run's quote still checks it before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from crosslane.arbitrage import ArbMarket, Inventory
from crosslane.fastpath.client import FastPathClient
from crosslane.pacing import every
from workers.scanner.markets import ScanMarket, Source, VenueSource

log = logging.getLogger(__name__)

Free = Mapping[str, Mapping[str, Decimal]]  # venue -> venue's currency code -> free, whole tokens


def _base_units(amount: Decimal, decimals: int) -> int:
    return int((amount.scaleb(decimals)).to_integral_value(rounding=ROUND_DOWN))


def inventory_for(market: ArbMarket, buy: Source, sell: Source, free: Free) -> Inventory:
    """The inventory limits of buying on ``buy`` and selling on ``sell``: a CEX buy spends
    the quote currency held at its venue, a CEX sell the base (base units of the market,
    rounded down); a pool side is not limited here."""
    quote_at_buy = asset_at_sell = None
    if isinstance(buy, VenueSource):
        quote_ccy = buy.symbol.split("/", 1)[1]
        quote_at_buy = _base_units(free.get(buy.venue, {}).get(quote_ccy, Decimal(0)), market.quote_decimals)
    if isinstance(sell, VenueSource):
        base_ccy = sell.symbol.split("/", 1)[0]
        asset_at_sell = _base_units(free.get(sell.venue, {}).get(base_ccy, Decimal(0)), market.asset_decimals)
    return Inventory(quote_at_buy=quote_at_buy, asset_at_sell=asset_at_sell)


class CexBalances:
    """Every scanned venue's free balance of its markets' currencies, from the fast path."""

    def __init__(self, markets: list[ScanMarket], socket_path: Path | None = None) -> None:
        self.currencies = sorted({ccy for m in markets for v in m.venues for ccy in v.symbol.split("/", 1)})
        self.socket_path = socket_path
        self.free: dict[str, dict[str, Decimal]] = {}
        self.error = ""

    async def refresh(self) -> None:
        async with await FastPathClient.connect(self.socket_path) as fp:
            views = await fp.balances(self.currencies)
        self.free = {v.venue: dict(v.free) for v in views if v.error is None}
        self.error = "; ".join(f"{v.venue}: {v.error}" for v in views if v.error is not None)
        if self.error:
            log.warning("balances not read (those venues count as holding nothing): %s", self.error)

    async def run(self, poll_s: float) -> None:
        """Until cancelled; a failed read forgets every balance (unknown is not held)."""

        def unread(exc: Exception) -> None:
            self.free, self.error = {}, f"{type(exc).__name__}: {exc}"
            log.warning("CEX balances not read: %s", self.error)

        await every(poll_s, self.refresh, unread)

    def inventory(self, market: ArbMarket, buy: Source, sell: Source) -> Inventory:
        return inventory_for(market, buy, sell, self.free)
