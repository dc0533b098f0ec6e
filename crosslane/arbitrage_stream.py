"""The scanner's opportunity stream, as a subscriber reads it: newline-delimited JSON over a
loopback TCP connection, one :class:`ScannedOpportunity` a line, every evaluation the
scanner makes (taken and dropped, with their reasons).

    async for seen in opportunities("127.0.0.1:7390"):
        if seen.opportunity.decision == "taken" and seen.opportunity.net_profit >= floor:
            ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from crosslane.arbitrage import Opportunity
from crosslane.config import DEFAULT_ARB_STREAM

DEFAULT_STREAM = DEFAULT_ARB_STREAM
MAX_LINE = 1 << 20


class ScannedOpportunity(BaseModel):
    """One evaluation as the scanner publishes it. ``pair`` names the two legs (buy venue and
    market, sell venue and market): the key the scanner's cooldown is kept by, so one gap
    is started once. ``run_id`` is set when the scanner itself started a run for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    pair: str
    market: str
    opportunity: Opportunity
    run_id: str | None = None
    volatility: Decimal | None = Field(
        default=None, description="transfer mode: the price risk's volatility per sqrt second it was charged at"
    )

    @property
    def taken(self) -> bool:
        return self.opportunity.decision == "taken"


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (the scanner binds 127.0.0.1 only)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host, int(port)


async def opportunities(address: str = DEFAULT_STREAM) -> AsyncIterator[ScannedOpportunity]:
    """Every opportunity the scanner publishes from now on, in order, until the scanner
    closes the stream (then the iteration ends) or the caller stops iterating."""
    host, port = split_address(address)
    reader, writer = await asyncio.open_connection(host, port, limit=MAX_LINE)
    try:
        while line := await reader.readline():
            yield ScannedOpportunity.model_validate_json(line)
    finally:
        writer.close()
