"""Append-only journal of parent and child orders: written (and fsynced) before a child is
sent and after every change the fast path learns, so a restarted fast path knows every order
it may have placed and reconciles each with its venue by client order id.

Durability: a parent's record is fdatasync'ed before any of its children is sent; child
updates are written (page cache) but synced only by the next parent's sync. A process crash
(SIGKILL) loses nothing written: the page cache outlives the process. A power loss can lose
child updates written since the last parent's sync, never a parent whose children were sent;
recovery looks each journaled child not known final up at its venue by client order id. (An
fdatasync overlapping the sends, the answer still waiting for it, measured no gain: see
bench/README.md, order_to_ack.)

Format: frames of a 4-byte big-endian length and a msgpack record. A torn last frame (crash
mid-write) is ignored on replay.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from crosslane.fastpath.protocol import HEADER, ChildOrder, ParentOrder


class ParentRecorded(msgspec.Struct, tag="parent"):
    parent: ParentOrder


class ChildUpdated(msgspec.Struct, tag="child"):
    parent_id: str
    child: ChildOrder


Record = ParentRecorded | ChildUpdated
_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")
_DECODER = msgspec.msgpack.Decoder(Record)


class Journal:
    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self._fsync = fsync
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def _append(self, record: Record, *, sync: bool) -> None:
        payload = _ENCODER.encode(record)
        os.write(self._fd, HEADER.pack(len(payload)) + payload)
        if sync and self._fsync:
            os.fdatasync(self._fd)

    def record_parent(self, parent: ParentOrder) -> None:
        """Durable (fdatasync) before any child is sent: the one write recovery depends on."""
        self._append(ParentRecorded(parent=parent), sync=True)

    def record_child(self, parent_id: str, child: ChildOrder) -> None:
        """Not synced: if it is lost in a crash, recovery asks the venue by client order id."""
        self._append(ChildUpdated(parent_id=parent_id, child=child), sync=False)

    def close(self) -> None:
        os.close(self._fd)

    @staticmethod
    def replay(path: Path) -> dict[str, ParentOrder]:
        """Every parent with its children's last known state, in journal order."""
        parents: dict[str, ParentOrder] = {}
        if not path.exists():
            return parents
        data = path.read_bytes()
        offset = 0
        while offset + HEADER.size <= len(data):
            (size,) = HEADER.unpack_from(data, offset)
            end = offset + HEADER.size + size
            if end > len(data):
                break  # torn tail
            record = _DECODER.decode(data[offset + HEADER.size : end])
            offset = end
            if isinstance(record, ParentRecorded):
                parents[record.parent.parent_id] = record.parent
            else:
                parent = parents.get(record.parent_id)
                if parent is None:
                    continue
                parent.children = [
                    record.child if c.client_order_id == record.child.client_order_id else c for c in parent.children
                ]
        return parents
