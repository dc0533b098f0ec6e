"""The fast path's ``balances`` request: each venue's free balance of the currencies asked,
read from every venue at once; a venue that fails answers its error, not a zero it never read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import msgspec

from crosslane.fastpath.protocol import ENCODER, REPLY_DECODER, REQUEST_DECODER, BalancesRequest, Reply
from workers.fastpath.engine import OrderEngine


class Venue:
    def __init__(self, free: dict[str, Any] | None) -> None:
        self.free = free

    async def balances(self) -> dict[str, Any]:
        if self.free is None:
            raise ConnectionError("venue down")
        return {"free": self.free, "used": {}, "total": {}}


async def test_each_venue_answers_its_free_balances_or_its_error() -> None:
    venues = {"okx": Venue({"USDT": "12.5", "ETH": None}), "binance": Venue({"USDT": 100}), "kraken": Venue(None)}
    engine = OrderEngine(cast(Any, venues), [], cast(Any, None), cast(Any, None))
    views = await engine.balances(["USDT", "ETH"])
    assert [(v.venue, v.free, v.error) for v in views] == [
        ("binance", {"USDT": Decimal(100), "ETH": Decimal(0)}, None),
        ("kraken", {}, "ConnectionError: venue down"),
        ("okx", {"USDT": Decimal("12.5"), "ETH": Decimal(0)}, None),
    ]
    # over the wire as strings, decoded exactly
    assert REQUEST_DECODER.decode(ENCODER.encode(BalancesRequest(currencies=["USDT"]))) == BalancesRequest(["USDT"])
    reply = REPLY_DECODER.decode(ENCODER.encode(Reply(ok=True, balances=views)))
    assert reply.balances == views
    assert isinstance(msgspec.to_builtins(reply.balances[0].free["USDT"]), str)
