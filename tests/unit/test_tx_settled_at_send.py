"""``tx_send_settle`` settles on the receipt it read at one confirmation; more ask the node."""

from __future__ import annotations

from typing import Any

from activities.tx import _settled_at_send
from connectors.evm.transactions import MinedTx

MINED = MinedTx(
    tx_hash="0x" + "11" * 32,
    block_number=7,
    block_hash="0x" + "22" * 32,
    status=1,
    gas_used=21_000,
    effective_gas_price=1,
)


class Node:
    """A node stub counting the calls made to it: head at ``head``, the block at 7 is ``at_7``."""

    def __init__(self, head: int, at_7: str) -> None:
        self.head, self.at_7, self.calls = head, at_7, 0

    async def block_number(self) -> int:
        self.calls += 1
        return self.head

    async def call(self, _op: Any, _what: str) -> str:
        self.calls += 1
        return self.at_7


async def test_one_confirmation_is_the_receipt_itself() -> None:
    node = Node(head=7, at_7="0xother")
    assert await _settled_at_send(node, MINED, 1)  # type: ignore[arg-type]
    assert node.calls == 0


async def test_more_confirmations_read_the_head_and_the_block() -> None:
    short = Node(head=7, at_7=MINED.block_hash)
    assert not await _settled_at_send(short, MINED, 2)  # type: ignore[arg-type]
    deep = Node(head=8, at_7=MINED.block_hash)
    assert await _settled_at_send(deep, MINED, 2)  # type: ignore[arg-type]
    reorged = Node(head=8, at_7="0xother")
    assert not await _settled_at_send(reorged, MINED, 2)  # type: ignore[arg-type]
    assert deep.calls == 2
