"""A child order only moves forward, whichever way (placement answer, pushed update, REST
lookup, restart) and however often a fill is reported: cumulative figures, counted once."""

from __future__ import annotations

from decimal import Decimal

import ccxt.pro
import pytest

from connectors.cex.profiles import SEED_PROFILES, profile_for
from crosslane.fastpath.protocol import ChildOrder
from crosslane.routing import Side
from workers.fastpath.engine import advance
from workers.fastpath.user_data import unified

D = Decimal


def child(state: str = "open", filled: str = "0", fee: str = "0", **more: object) -> ChildOrder:
    return ChildOrder(
        venue="binance",
        client_order_id="cl1",
        symbol="BTC/USDT",
        side=Side.BUY,
        qty=D("0.004"),
        limit_price=D("60000"),
        state=state,  # type: ignore[arg-type]
        filled=D(filled),
        cost=D(filled) * 60000,
        fee=D(fee),
        fee_currency="BTC" if D(fee) else None,
        **more,  # type: ignore[arg-type]
    )


def test_a_repeated_fill_counts_once() -> None:
    pushed = child("partially_filled", "0.002", "0.000002")
    now = advance(child("open"), pushed)
    assert now.filled == D("0.002")
    assert advance(now, pushed) is now, "the same update again changes nothing"
    polled = child("partially_filled", "0.002")  # the venue's REST view: same fill, no fee
    assert advance(now, polled) is now


def test_an_older_report_never_takes_a_fill_back() -> None:
    now = child("partially_filled", "0.003", "0.000003")
    assert advance(now, child("partially_filled", "0.001", "0.000001")) is now
    assert advance(now, child("open")) is now


def test_a_later_state_at_the_same_quantity_is_taken() -> None:
    cancelled = advance(child("partially_filled", "0.002"), child("cancelled", "0.002"))
    assert (cancelled.state, cancelled.filled) == ("cancelled", D("0.002"))
    assert advance(cancelled, child("partially_filled", "0.002")) is cancelled


def test_a_push_before_the_placement_answer_is_kept() -> None:
    pushed = advance(child("pending"), child("partially_filled", "0.001", venue_order_id="7"))
    answered = advance(pushed, child("open", venue_order_id="7"))  # the ack, sent before the fill
    assert answered is pushed
    lost = advance(child("pending"), child("unknown", error="timeout"))  # the answer never came
    assert (lost.state, lost.error) == ("unknown", "timeout")
    assert advance(pushed, child("unknown")) is pushed


def test_the_fee_never_shrinks_and_the_venue_id_is_kept() -> None:
    now = child("partially_filled", "0.002", "0.000002", venue_order_id="9")
    later = advance(now, child("filled", "0.004"))  # a REST view without fees (Binance GET order)
    assert (later.filled, later.fee, later.fee_currency, later.venue_order_id) == (
        D("0.004"),
        D("0.000002"),
        "BTC",
        "9",
    )
    more = advance(now, child("filled", "0.004", "0.000004"))
    assert more.fee == D("0.000004")


@pytest.mark.parametrize("exchange", sorted(SEED_PROFILES))
def test_every_seed_venue_can_stream_its_orders(exchange: str) -> None:
    method = profile_for(exchange).user_stream.method
    assert method is not None
    pro = getattr(ccxt.pro, exchange)()
    assert callable(getattr(pro, method, None)) and pro.has["watchOrders"], f"ccxt.pro {exchange} lacks {method}"


def test_kraken_pushes_are_read_from_the_venue_fields() -> None:
    pushed = {
        "id": "O1",
        "clientOrderId": "17",  # ccxt.pro's parse: order_userref
        "filled": None,
        "info": {"cl_ord_id": "clabc", "cum_qty": "0.5", "cum_cost": "30000.5", "avg_price": "60001"},
    }
    order = unified(pushed, profile_for("kraken").user_stream)
    assert (order["clientOrderId"], order["filled"], order["cost"], order["average"]) == (
        "clabc",
        "0.5",
        "30000.5",
        "60001",
    )
    assert unified(pushed, profile_for("binance").user_stream) is pushed


def test_a_fuller_fee_account_is_taken_without_going_back() -> None:
    pushed = child("filled", "0.004", "0.000002")  # a push that saw only the last fill's fee
    answered = advance(pushed, child("filled", "0.004", "0.000004"))  # the placement's answer: every fill
    assert (answered.state, answered.fee) == ("filled", D("0.000004"))
    cancelled = child("cancelled", "0.002", "0.000001")
    late = advance(cancelled, child("partially_filled", "0.002", "0.000002"))
    assert (late.state, late.fee) == ("cancelled", D("0.000002"))
