"""What a pair can spend, as the optimizer's :class:`Inventory`: the quote where it buys,
the asset where it sells (inventory mode). On a CEX venue, the account's free balance: the
scanner holds no credentials, the fast path (which does) reads the venues' balances, polled
here at a steady pace (``CexBalances``; a venue whose balance could not be read holds
nothing). On a chain, what the DEX legs' owner (``--signer``) holds of the pool's tokens,
read with each block (``ChainFeed``).

``inventory_for`` is pure. A side whose holdings are not read is not limited here: the
run's quote still checks it before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from crosslane.arbitrage import ArbMarket, Inventory
from crosslane.fastpath.client import FastPathClient
from crosslane.pacing import every
from workers.scanner.markets import PoolSource, ScanMarket, Source, VenueSource

log = logging.getLogger(__name__)

Free = Mapping[str, Mapping[str, Decimal]]  # venue -> venue's currency code -> free, whole tokens
Held = Mapping[str, Mapping[str, int]]  # chain -> token address -> held by the DEX legs' owner, base units


def _base_units(amount: Decimal, decimals: int) -> int:
    return int((amount.scaleb(decimals)).to_integral_value(rounding=ROUND_DOWN))


def inventory_for(
    market: ArbMarket, buy: Source, sell: Source, cex: Free | None, chains: Held | None = None
) -> Inventory:
    """The inventory limits of buying on ``buy`` and selling on ``sell`` (base units, rounded
    down): a CEX buy spends the quote currency held at its venue, a CEX sell the base (from
    ``cex``); a pool buy spends the quote token the owner holds on its chain, a pool sell the
    asset token (from ``chains``). A side whose holdings are not given is not limited here."""
    quote_at_buy = asset_at_sell = None
    if isinstance(buy, VenueSource) and cex is not None:
        quote_ccy = buy.symbol.split("/", 1)[1]
        quote_at_buy = _base_units(cex.get(buy.venue, {}).get(quote_ccy, Decimal(0)), market.quote_decimals)
    elif isinstance(buy, PoolSource) and chains is not None:
        quote_at_buy = chains.get(buy.chain, {}).get(buy.quote_token, 0)
    if isinstance(sell, VenueSource) and cex is not None:
        base_ccy = sell.symbol.split("/", 1)[0]
        asset_at_sell = _base_units(cex.get(sell.venue, {}).get(base_ccy, Decimal(0)), market.asset_decimals)
    elif isinstance(sell, PoolSource) and chains is not None:
        asset_at_sell = chains.get(sell.chain, {}).get(sell.asset_token, 0)
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
