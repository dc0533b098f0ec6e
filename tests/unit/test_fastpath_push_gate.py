"""Websocket pushes that reach the fast path while it handles a request wait for the answer,
in their order, and never longer than the gate's limit (so books keep up under load)."""

from __future__ import annotations

import asyncio
from typing import Any

from workers.fastpath.priority import PushGate


class Pro:
    """What the gate wraps: a ccxt.pro exchange's ``handle_message``."""

    def __init__(self) -> None:
        self.handled: list[Any] = []

    def handle_message(self, client: Any, message: Any) -> None:
        self.handled.append(message)


async def test_pushes_wait_for_the_answer_and_keep_their_order() -> None:
    gate, pro = PushGate(max_defer_s=10), Pro()
    gate.wrap(pro)
    pro.handle_message(None, "before")
    assert pro.handled == ["before"], "no request: handled as it arrives"
    gate.hold()
    pro.handle_message(None, "book diff")
    pro.handle_message(None, "order update")
    assert pro.handled == ["before"], "a request is being handled: the pushes wait"
    gate.release()
    pro.handle_message(None, "after")  # arrives before the waiting ones are handed on: queues behind them
    assert pro.handled == ["before"]
    await asyncio.sleep(0)
    assert pro.handled == ["before", "book diff", "order update", "after"]
    pro.handle_message(None, "idle")
    assert pro.handled[-1] == "idle"


async def test_a_steady_stream_of_requests_does_not_starve_the_books() -> None:
    gate, pro = PushGate(max_defer_s=0.01), Pro()
    gate.wrap(pro)
    gate.hold()  # requests keep overlapping: never idle
    pro.handle_message(None, "book diff")
    await asyncio.sleep(0.05)
    assert pro.handled == ["book diff"], "handed on once it had waited the limit"
    gate.release()


async def test_a_failing_message_does_not_drop_the_ones_behind_it() -> None:
    gate, pro = PushGate(max_defer_s=10), Pro()
    seen: list[Any] = []

    def handle(client: Any, message: Any) -> None:
        if message == "bad":
            raise ValueError("unparseable")
        seen.append(message)

    pro.handle_message = handle  # type: ignore[method-assign]
    gate.wrap(pro)
    gate.hold()
    pro.handle_message(None, "bad")
    pro.handle_message(None, "good")
    gate.release()
    await asyncio.sleep(0)
    assert seen == ["good"]
