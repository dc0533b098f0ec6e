"""PushGate: websocket pushes are held while a placement is awaited and handed on in arrival
order once the last answer is written, at the latest after ``max_hold_s`` or ``max_held``;
the collector runs between orders (``collect_when_idle``)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from workers.fastpath.gate import IDLE_GEN0_THRESHOLD, PushGate, collect_when_idle


class Pro:
    """A ccxt.pro instance's ``handle_message`` (what the gate wraps), recording what it got."""

    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    def handle_message(self, client: Any, message: Any) -> None:
        self.seen.append(message)


def gated(**kwargs: Any) -> tuple[PushGate, Pro, Pro, list[Any], list[int]]:
    idle: list[int] = []
    gate = PushGate(idle=lambda: idle.append(1), **kwargs)
    seen: list[Any] = []
    book, user = Pro(seen), Pro(seen)
    gate.install(book)
    gate.install(user)
    return gate, book, user, seen, idle


async def test_pushes_pass_straight_through_without_a_placement() -> None:
    gate, book, user, seen, idle = gated()
    book.handle_message(None, "b1")
    user.handle_message(None, "u1")
    assert seen == ["b1", "u1"] and gate.held_total == 0


async def test_pushes_during_a_placement_follow_the_answer_in_arrival_order() -> None:
    gate, book, user, seen, idle = gated()
    gate.hold()
    book.handle_message(None, "b1")
    user.handle_message(None, "u1")
    gate.hold()  # a second parent placed concurrently
    book.handle_message(None, "b2")
    gate.release()
    await asyncio.sleep(0)
    assert seen == []  # one placement still awaited
    gate.release()
    user.handle_message(None, "u2")  # after the answer, before the hand-on: behind the held ones
    assert seen == []
    await asyncio.sleep(0)
    assert seen == ["b1", "u1", "b2", "u2"] and idle == [1] and gate.held_total == 4
    book.handle_message(None, "b3")
    assert seen[-1] == "b3"


async def test_a_slow_placement_holds_pushes_at_most_max_hold_s() -> None:
    gate, book, user, seen, idle = gated(max_hold_s=0.01)
    gate.hold()
    book.handle_message(None, "b1")
    await asyncio.sleep(0.05)
    assert seen == ["b1"]
    book.handle_message(None, "b2")  # still placing: held again, behind nothing
    assert seen == ["b1"]
    gate.release()
    await asyncio.sleep(0)
    assert seen == ["b1", "b2"] and idle == [1]


async def test_at_most_max_held_pushes_wait() -> None:
    gate, book, user, seen, idle = gated(max_held=3)
    gate.hold()
    for i in range(3):
        book.handle_message(None, i)
    assert seen == [0, 1, 2]
    gate.release()


async def test_a_failing_handler_does_not_drop_the_pushes_behind_it() -> None:
    gate, book, user, seen, idle = gated()

    def broken(client: Any, message: Any) -> None:
        raise ValueError("unparseable")

    bad = Pro(seen)
    bad.handle_message = broken  # type: ignore[method-assign]
    gate.install(bad)
    gate.hold()
    bad.handle_message(None, "x")
    book.handle_message(None, "b1")
    gate.release()
    await asyncio.sleep(0)
    assert seen == ["b1"]


def test_the_idle_collection_runs_only_when_due() -> None:
    thresholds = gc.get_threshold()
    gc.set_threshold(10**6, *thresholds[1:])  # as settle_heap leaves it: no automatic collection here
    try:
        gc.collect()
        assert collect_when_idle() == -1
        keep = [[] for _ in range(IDLE_GEN0_THRESHOLD + 100)]  # tracked allocations pending
        assert collect_when_idle() in (0, 1, 2)
        assert gc.get_count()[0] < IDLE_GEN0_THRESHOLD
        del keep
    finally:
        gc.set_threshold(*thresholds)
