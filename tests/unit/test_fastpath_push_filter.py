"""A user-data push that only acknowledges an order the engine already knows open is dropped
before ccxt.pro parses it; anything else (a fill, a cancel, an acknowledgement that arrives
before the placement's answer, someone else's order) still reaches ccxt.pro and the engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from connectors.cex.profiles import profile_for
from crosslane.fastpath.protocol import ChildOrder, ParentOrder
from crosslane.routing import Router
from tests.unit.test_fastpath_journal import parent as journaled_parent
from workers.fastpath.engine import OrderEngine
from workers.fastpath.journal import Journal
from workers.fastpath.user_data import NEW_ORDER_PUSHES, skip_confirmations

D = Decimal
CID = "clabc123"


def binance(
    status: str = "NEW",
    exec_type: str = "NEW",
    filled: str = "0.00000000",
    wrap: bool = True,
    cid: str = CID,
    oid: int = 42,
) -> Any:
    event = {"e": "executionReport", "c": cid, "x": exec_type, "X": status, "i": oid, "z": filled, "s": "BTCUSDT"}
    return {"subscriptionId": 0, "event": event} if wrap else event


def okx(state: str = "live", filled: str = "0", cid: str = CID, oid: int = 42) -> Any:
    row = {"clOrdId": cid, "ordId": str(oid), "state": state, "accFillSz": filled, "instId": "BTC-USDT"}
    return {"arg": {"channel": "orders", "instType": "ANY"}, "data": [row]}


def kraken(exec_type: str = "new", filled: float = 0, cid: str = CID, oid: int = 42) -> Any:
    row = {"cl_ord_id": cid, "order_id": str(oid), "exec_type": exec_type, "order_status": exec_type, "cum_qty": filled}
    return {"channel": "executions", "type": "update", "data": [row]}


PUSHES: dict[str, Any] = {"binance": binance, "okx": okx, "kraken": kraken}


@pytest.mark.parametrize(
    ("exchange", "message", "expected"),
    [
        ("binance", binance(), [(CID, "42")]),
        ("binance", binance(wrap=False), [(CID, "42")]),  # the listen-key stream: no wrapper
        ("binance", binance("PARTIALLY_FILLED", "TRADE", "0.001"), None),
        ("binance", binance("CANCELED", "CANCELED"), None),
        ("binance", binance(filled="0.001"), None),
        ("okx", okx(), [(CID, "42")]),
        ("okx", okx("partially_filled", "0.001"), None),
        ("okx", okx("canceled"), None),
        ("okx", {"event": "subscribe", "arg": {"channel": "orders"}}, None),
        ("kraken", kraken("pending_new"), [(CID, "42")]),
        ("kraken", kraken("new"), [(CID, "42")]),
        ("kraken", kraken("trade", 0.001), None),
        ("kraken", kraken("canceled"), None),
        ("kraken", {"channel": "executions", "type": "snapshot", "data": []}, None),
    ],
)
def test_only_new_unfilled_orders_are_recognised(exchange: str, message: Any, expected: Any) -> None:
    assert NEW_ORDER_PUSHES[exchange](message) == expected


def engine_with_child(tmp_path: Path, exchange: str) -> tuple[OrderEngine, ParentOrder]:
    venues: Any = {exchange: SimpleNamespace(profile=profile_for(exchange))}
    engine = OrderEngine(venues, ["BTC/USDT"], Journal(tmp_path / "j", fsync=False), Router())
    parent = journaled_parent("p1")
    parent.children[0] = msgspec.structs.replace(parent.children[0], venue=exchange, client_order_id=CID)
    engine._remember(parent)
    return engine, parent


def lean_exchange(exchange: str, engine: OrderEngine) -> tuple[Any, list[Any]]:
    handed: list[Any] = []
    pro = SimpleNamespace(id=exchange, handle_message=lambda client, message: handed.append(message))
    skip_confirmations(pro, exchange, engine)
    return pro, handed


@pytest.mark.parametrize("exchange", sorted(PUSHES))
def test_an_acknowledgement_before_the_answer_reaches_ccxt_after_it_is_dropped(tmp_path: Path, exchange: str) -> None:
    engine, parent = engine_with_child(tmp_path, exchange)
    pro, handed = lean_exchange(exchange, engine)
    ack = PUSHES[exchange]()
    pro.handle_message(None, ack)  # the child is still pending: the push may be news
    assert handed == [ack]
    answered = parent.children[0]
    engine._update(parent, ChildOrder(**{**_fields(answered), "state": "open", "venue_order_id": "42"}))
    pro.handle_message(None, ack)  # the placement's answer said as much: nothing to learn
    assert handed == [ack]
    assert (parent.children[0].state, parent.children[0].filled) == ("open", D(0))


@pytest.mark.parametrize("exchange", sorted(PUSHES))
def test_fills_other_ids_and_strangers_still_reach_ccxt(tmp_path: Path, exchange: str) -> None:
    engine, parent = engine_with_child(tmp_path, exchange)
    engine._update(parent, ChildOrder(**{**_fields(parent.children[0]), "state": "open", "venue_order_id": "42"}))
    pro, handed = lean_exchange(exchange, engine)
    fill = {"binance": binance("PARTIALLY_FILLED", "TRADE", "0.0005"), "okx": okx("partially_filled", "0.0005")}.get(
        exchange, kraken("trade", 0.0005)
    )
    stranger = PUSHES[exchange](cid="clsomeoneelse")
    other_id = PUSHES[exchange](oid=43)
    for message in (fill, stranger, other_id, {"unrelated": True}, "pong"):
        pro.handle_message(None, message)
    assert handed == [fill, stranger, other_id, {"unrelated": True}, "pong"]
    # once partly filled, a late "new, nothing filled" is handed on (advance keeps the fill)
    engine._update(
        parent, ChildOrder(**{**_fields(parent.children[0]), "state": "partially_filled", "filled": D("0.0005")})
    )
    pro.handle_message(None, PUSHES[exchange]())
    assert len(handed) == 6


def test_binance_balance_pushes_are_dropped(tmp_path: Path) -> None:
    engine, _ = engine_with_child(tmp_path, "binance")
    pro, handed = lean_exchange("binance", engine)
    pro.handle_message(None, {"subscriptionId": 0, "event": {"e": "outboundAccountPosition", "B": []}})
    pro.handle_message(None, {"e": "balanceUpdate", "a": "USDT", "d": "1"})
    assert handed == []


def _fields(child: ChildOrder) -> dict[str, Any]:
    return {f: getattr(child, f) for f in child.__struct_fields__}
