"""Append-only journal of parent and child orders: written before a child is sent and after
every change the fast path learns, so a restarted fast path knows every order it may have
placed and reconciles each with its venue by client order id.

Durability. A parent's record is written (``write(2)``, into the page cache) before any of its
children is sent, and fdatasync'ed by a group commit started right after the write, in a
thread, while the children are on their way: the sync overlaps the venue's round trip instead
of preceding it. The engine answers the client only once that sync is done, so an answered
parent is on disk.

- A process crash (SIGKILL, OOM) loses nothing written: the page cache outlives the process.
- A power loss (or kernel crash) can lose the unsynced tail: parents whose children were sent
  but whose sync had not finished, none of them answered to a client, and child updates
  written since the last sync (those are re-learnt from the venues by client order id). The
  orders such a parent sent exist at their venues under deterministic client ids
  (``<parent id>/<child index>``); the restarted engine lists each venue's open orders and
  recent closed ones (``OrderEngine.find_strays``) and adopts them when the client retries the
  same parent id, so the retry sends nothing a second time (``OrderEngine.route``).

Format: frames of a 4-byte big-endian length and a msgpack record. A torn last frame (crash
mid-write) is ignored on replay.
"""

from __future__ import annotations

import asyncio
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
        if fsync:
            os.fdatasync(self._fd)  # what a previous run left in the page cache, on disk from here on
        self.written = self.synced = os.fstat(self._fd).st_size  # offsets: end of what is written, synced
        self._flushing: asyncio.Task[None] | None = None

    def _append(self, record: Record) -> None:
        payload = _ENCODER.encode(record)
        os.write(self._fd, HEADER.pack(len(payload)) + payload)
        self.written += HEADER.size + len(payload)

    def record_parent(self, parent: ParentOrder) -> None:
        """Written before any child is sent (a process crash cannot lose it); durable once
        :meth:`sync` returns."""
        self._append(ParentRecorded(parent=parent))

    def record_child(self, parent_id: str, child: ChildOrder) -> None:
        """Synced by the next group commit: if it is lost, recovery asks the venue by client id."""
        self._append(ChildUpdated(parent_id=parent_id, child=child))

    async def sync(self) -> None:
        """Returns once everything written before the call is on disk. Group commit: one
        fdatasync, in a thread, covers every record written before it began; a caller
        arriving while one runs waits for it, then for the next one if it still needs it."""
        if not self._fsync:
            return
        target = self.written
        while self.synced < target:
            if self._flushing is None:
                self._flushing = asyncio.get_running_loop().create_task(self._flush())
            await asyncio.shield(self._flushing)

    async def _flush(self) -> None:
        upto = self.written
        try:
            await asyncio.to_thread(os.fdatasync, self._fd)
            self.synced = max(self.synced, upto)
        finally:
            self._flushing = None

    def close(self) -> None:
        if self._fsync:
            os.fdatasync(self._fd)
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
