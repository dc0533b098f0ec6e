"""A venue whose user stream values fees instead of stating them (Kraken's ``executions`` give
``fee_usd_equiv``; ccxt.pro reads it as a fee of that many "USD") must not have that valuation
booked as the fee: a buy charged 0.0013 ETH would be booked as 3.67 in the quote currency and
the arbitrage run's P&L would no longer equal its balance changes. The fee is the venue's,
read by REST, however the push and the placement's answer interleave."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from connectors.cex.profiles import profile_for
from crosslane.fastpath.protocol import ParentOrder
from crosslane.routing import Router
from tests.unit.test_fastpath_journal import parent as journaled_parent
from workers.fastpath.engine import OrderEngine
from workers.fastpath.journal import Journal
from workers.fastpath.user_data import unified

D = Decimal
CID = "clfee1"
STREAM = profile_for("kraken").user_stream


def rest_order(status: str, filled: str, fee: str | None) -> dict[str, Any]:
    """ccxt's parse of Kraken's QueryOrders (oflags ``fcib``: the fee in the base asset)."""
    return {
        "id": "OQ1",
        "clientOrderId": CID,
        "status": status,
        "filled": filled,
        "cost": str(D(filled) * 2826),
        "average": "2826" if D(filled) else None,
        "fee": {"cost": fee, "currency": "ETH"} if fee else None,
    }


def pushed_fill() -> dict[str, Any]:
    """ccxt.pro's parse of Kraken's ``trade`` execution: the fee is the USD valuation."""
    order = {
        "id": "OQ1",
        "clientOrderId": "0",
        "status": "closed",
        "filled": None,
        "fee": {"cost": "3.67", "currency": "USD"},
        "info": {"cl_ord_id": CID, "cum_qty": "0.5", "cum_cost": "1413", "avg_price": "2826"},
    }
    return unified(order, STREAM)


class Venue:
    """Kraken as the engine sees it: placing waits until the test answers; lookups answer what
    the venue has on record."""

    def __init__(self) -> None:
        self.profile = profile_for("kraken")
        self.answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.on_record = rest_order("closed", "0.5", "0.0013")
        self.lookups = 0

    def market(self, symbol: str) -> dict[str, Any]:
        return {"precision": {"price": 0.01, "amount": 0.0001}}

    async def place(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await self.answer

    async def find_order(self, symbol: str, client_order_id: str) -> dict[str, Any]:
        self.lookups += 1
        return self.on_record


def engine_with_child(tmp_path: Path, venue: Venue) -> tuple[OrderEngine, ParentOrder]:
    engine = OrderEngine({"kraken": venue}, ["ETH/USDT"], Journal(tmp_path / "j", fsync=False), Router())  # type: ignore[dict-item]
    parent = journaled_parent("p1")
    child = msgspec.structs.replace(
        parent.children[0], venue="kraken", client_order_id=CID, symbol="ETH/USDT", qty=D("0.5")
    )
    parent.children[0] = child
    engine._remember(parent)
    return engine, parent


def booked(parent: ParentOrder) -> tuple[str, Decimal, Decimal, str | None]:
    child = parent.children[0]
    return child.state, child.filled, child.fee, child.fee_currency


async def placing(tmp_path: Path) -> tuple[Venue, OrderEngine, ParentOrder, asyncio.Future[Any]]:
    """The child's placement sent, its answer not yet come."""
    venue = Venue()
    engine, parent = engine_with_child(tmp_path, venue)
    sending = asyncio.ensure_future(engine._send(parent, parent.children[0]))
    await asyncio.sleep(0)
    return venue, engine, parent, sending


async def test_a_fill_pushed_before_the_answer_keeps_the_venue_fee(tmp_path: Path) -> None:
    venue, engine, parent, sending = await placing(tmp_path)
    push = pushed_fill()
    engine.apply_pushed("kraken", [push])
    assert await engine.read_fees("kraken", [push]) == 0, "the placement's answer is awaited: it carries the fee"
    assert booked(parent) == ("filled", D("0.5"), D(0), None), "the valuation is not booked"
    venue.answer.set_result(rest_order("closed", "0.5", "0.0013"))
    await sending
    assert booked(parent) == ("filled", D("0.5"), D("0.0013"), "ETH")
    assert venue.lookups == 0


async def test_an_answer_read_before_the_fill_is_completed_by_a_lookup(tmp_path: Path) -> None:
    venue, engine, parent, sending = await placing(tmp_path)
    engine.apply_pushed("kraken", [pushed_fill()])
    venue.answer.set_result(rest_order("open", "0", None))  # the read-back raced the fill
    await sending
    assert booked(parent) == ("filled", D("0.5"), D("0.0013"), "ETH")
    assert venue.lookups == 1


async def test_a_resting_order_filled_later_has_its_fee_read(tmp_path: Path) -> None:
    venue = Venue()
    engine, parent = engine_with_child(tmp_path, venue)
    venue.answer.set_result(rest_order("open", "0", None))
    await engine._send(parent, parent.children[0], rests=True)
    assert booked(parent) == ("open", D(0), D(0), None)
    push = pushed_fill()
    engine.apply_pushed("kraken", [push])
    assert await engine.read_fees("kraken", [push]) == 1
    assert booked(parent) == ("filled", D("0.5"), D("0.0013"), "ETH")
    assert await engine.read_fees("kraken", [push]) == 0, "a fee once known is not read again"
    assert venue.lookups == 1


def test_only_a_stream_that_values_fees_loses_them() -> None:
    order = {"id": "1", "fee": {"cost": "0.1", "currency": "BNB"}, "info": {}}
    assert unified(order, profile_for("binance").user_stream)["fee"] == {"cost": "0.1", "currency": "BNB"}
    assert unified(order, STREAM)["fee"] is None
