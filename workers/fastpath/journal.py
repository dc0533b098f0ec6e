"""Append-only journal of parent and child orders: written before a child is sent and after
every change the fast path learns, so a restarted fast path knows every order it may have
placed and reconciles each with its venue by client order id.

Durability contract (``fsync=True``, the default):

- A parent's record reaches the OS (``write(2)`` into the page cache, no buffering in this
  process) before any of its children is sent. Its ``fdatasync`` is a group commit run in a
  thread (:meth:`Journal.sync_soon`), which the engine starts once the answer is written, off
  the send path: the client's answer does **not** wait for it. An answer means "acknowledged
  by the venue, in this host's page cache, on disk within about one flush" (an ``fdatasync``
  takes 0.2-4 ms on this machine's disk, more when it is busy).
- A process crash (SIGKILL, OOM kill, a Python error) loses **nothing** written: the page cache
  outlives the process, and every write precedes the send it covers.
- A power loss or kernel crash can lose the unsynced tail: parents written since the last
  completed flush (possibly already answered) and child updates written since then. Child
  updates of journaled parents are re-learnt from the venues by client order id at restart
  (``OrderEngine.recover``). A lost parent's orders exist at their venues under deterministic
  client ids (``<parent id>/<child index>``): at restart the engine lists each venue's open and
  recent closed orders (``OrderEngine.find_strays``) and, when the client retries the same
  parent id (``route`` is idempotent per parent id), adopts what it finds instead of sending
  again (``OrderEngine._adopt``). Until that retry the lost parent is unknown to ``status``
  and ``cancel``; its orders are logged at startup. Limits of the scan: see ``find_strays``.
- A failed ``fdatasync`` (EIO) is not retried (the kernel may have dropped the dirty pages):
  the journal refuses every later parent (:class:`JournalUnavailable`), so no order is sent
  whose parent might not reach the disk; restart the fast path.

``fsync=False`` (benches only): the same writes, never flushed.

Format: frames of a 4-byte big-endian length and a msgpack record. A torn last frame (crash
mid-write) is ignored on replay.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import msgspec

from crosslane.errors import CrosslaneError
from crosslane.fastpath.protocol import HEADER, ChildOrder, ParentOrder

log = logging.getLogger(__name__)


class JournalUnavailable(CrosslaneError):
    """The journal could not be flushed to disk; nothing more is sent until a restart."""


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
        self._failed: OSError | None = None

    def _append(self, record: Record) -> None:
        payload = _ENCODER.encode(record)
        os.write(self._fd, HEADER.pack(len(payload)) + payload)
        self.written += HEADER.size + len(payload)

    def record_parent(self, parent: ParentOrder) -> None:
        """Written before any child is sent (a process crash cannot lose it); durable once a
        group commit (:meth:`sync_soon`, :meth:`sync`) covers it. Refused once a flush failed."""
        if self._failed is not None:
            raise JournalUnavailable(f"the journal {self.path} could not be flushed to disk ({self._failed}): restart")
        self._append(ParentRecorded(parent=parent))

    def record_child(self, parent_id: str, child: ChildOrder) -> None:
        """Synced by the next group commit: if it is lost, recovery asks the venue by client id."""
        self._append(ChildUpdated(parent_id=parent_id, child=child))

    def sync_soon(self) -> None:
        """Starts a group commit unless one is running; never waits. The running one loops
        until nothing written is left unsynced, so a record written during a flush is covered
        by the next one."""
        if self._fsync and self._flushing is None and self.synced < self.written:
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def sync(self) -> None:
        """Returns once everything written before the call is on disk (the group commit's)."""
        target = self.written
        while self._fsync and self.synced < target:
            if self._failed is not None:
                raise JournalUnavailable(f"the journal {self.path} could not be flushed to disk ({self._failed})")
            self.sync_soon()
            assert self._flushing is not None
            await asyncio.shield(self._flushing)

    async def _flush(self) -> None:
        try:
            while self.synced < self.written:
                upto = self.written
                await asyncio.to_thread(os.fdatasync, self._fd)
                self.synced = upto
        except OSError as exc:
            self._failed = exc
            log.error("journal %s: fdatasync failed (%s); refusing new orders until a restart", self.path, exc)
        finally:
            self._flushing = None

    async def aclose(self) -> None:
        """Flushes what is written (after any running group commit), then closes."""
        if self._flushing is not None:
            await asyncio.shield(self._flushing)
        self.close()

    def close(self) -> None:
        if self._fsync and self._failed is None:
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
