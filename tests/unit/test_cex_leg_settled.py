"""A CEX leg is reported only once it is final (Hummingbot #6195: a leg rested beside the
order it meant to take while the other leg filled): what rests is cancelled, a child whose
placement's answer was lost is waited for until the fast path learns what it did, and a leg
that never becomes final is an error to retry, never a fill count the saga would act on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.testing import ActivityEnvironment

from activities import cex
from activities.cex import LegNotFinal, settled
from crosslane.fastpath.protocol import ChildOrder, ChildState, OrderKind, ParentOrder
from crosslane.routing.side import Side


def parent(state: ChildState, filled: str, kind: OrderKind = OrderKind.IOC) -> ParentOrder:
    child = ChildOrder(
        venue="binance", client_order_id="c1", symbol="ETH/USDT", side=Side.BUY, qty=Decimal(1),
        limit_price=Decimal(3000), state=state, filled=Decimal(filled),
    )  # fmt: skip
    return ParentOrder(
        parent_id="arb-x/buy", symbol="ETH/USDT", side=Side.BUY, qty=Decimal(1), kind=kind,
        limit_price=Decimal(3000), children=[child], created_ns=0,
    )  # fmt: skip


class FakeFastPath:
    """Answers ``cancel`` and ``status`` from a script of states; records every call."""

    def __init__(self, on_cancel: ParentOrder, later: list[ParentOrder]) -> None:
        self.on_cancel, self.later, self.calls = on_cancel, later, []

    async def cancel(self, parent_id: str) -> ParentOrder:
        self.calls.append(f"cancel {parent_id}")
        return self.on_cancel

    async def status(self, parent_id: str | None = None) -> list[ParentOrder]:
        self.calls.append(f"status {parent_id}")
        return [self.later.pop(0) if len(self.later) > 1 else self.later[0]]


async def test_a_resting_remainder_is_cancelled_before_the_leg_is_reported() -> None:
    fp = FakeFastPath(on_cancel=parent("cancelled", "0.4"), later=[])
    final = await ActivityEnvironment().run(settled, fp, parent("partially_filled", "0.4"))
    assert fp.calls == ["cancel arb-x/buy"]
    assert not final.open and final.filled == Decimal("0.4")


async def test_a_lost_placement_answer_is_waited_for_until_the_venue_says_it_filled() -> None:
    unknown = parent("unknown", "0")
    fp = FakeFastPath(on_cancel=unknown, later=[unknown, parent("filled", "1")])
    final = await ActivityEnvironment().run(settled, fp, unknown)
    assert final.filled == Decimal(1) and not final.open  # filled: not reported as a failed leg


async def test_a_leg_that_never_becomes_final_is_an_error_not_a_fill(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cex, "SETTLE_POLL_S", 0.001)
    monkeypatch.setattr(cex, "SETTLE_WAIT_S", 0.05)
    unknown = parent("unknown", "0")
    fp = FakeFastPath(on_cancel=unknown, later=[unknown])
    with pytest.raises(LegNotFinal, match="arb-x/buy is not final.*binance c1 unknown"):
        await ActivityEnvironment().run(settled, fp, unknown)
    assert fp.calls.count("cancel arb-x/buy") > 1  # cancelled again while it waited


async def test_a_final_leg_and_a_resting_limit_order_are_left_as_they_are() -> None:
    fp = FakeFastPath(on_cancel=parent("cancelled", "0"), later=[])
    assert (await ActivityEnvironment().run(settled, fp, parent("filled", "1"))).filled == 1
    resting = parent("open", "0", kind=OrderKind.LIMIT)  # a limit order rests by request
    assert await ActivityEnvironment().run(settled, fp, resting) is resting
    assert fp.calls == []
