"""Append-only journal of parent and child orders: written before a child is sent and after
every change the fast path learns, so a restarted fast path knows every order it may have
placed and reconciles each with its venue by client order id.

Durability contract (``fsync=True``, the default):

- A parent's record reaches the OS (``write(2)`` into the page cache, no buffering in this
  process) before any of its children is sent. Its ``fdatasync`` is a group commit run by the
  journal's own flusher thread, off the send path: the client's answer does **not** wait for
  it. The engine calls :meth:`Journal.sync_soon` once the answer is written; an idle flusher
  then waits a commit window (``commit_window_s``, :data:`COMMIT_WINDOW_S` = 5 ms by default)
  so that one ``fdatasync`` covers every record written within it (the orders of several
  requests), then flushes everything written up to that moment. A ``sync_soon`` while a window
  or a flush is under way costs a lock and nothing else (no thread wake-up); a flush nobody
  awaits never calls back into the loop. A :meth:`Journal.sync` caller (adoption, close) cuts
  the window short. An answer means "acknowledged by the venue, in this host's page cache, on
  disk within one commit window plus one flush": at most ``commit_window_s`` + the
  ``fdatasync``'s own time (0.2-4 ms on this machine's disk, more when it is busy) after
  ``sync_soon``, i.e. ~5-10 ms by default; a record written while a flush runs waits for the
  next window.
- A process crash (SIGKILL, OOM kill, a Python error) loses **nothing** written: the page cache
  outlives the process, and every write precedes the send it covers.
- A power loss or kernel crash can lose the unsynced tail: parents written since the last
  completed flush (the last commit window plus the running flush: possibly already answered)
  and child updates written since then. Child
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
import contextlib
import logging
import os
import threading
import time
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
COMMIT_WINDOW_S = 0.005  # group commit: how long an idle flusher, once woken, gathers records before its fdatasync
_ENCODER = msgspec.msgpack.Encoder(decimal_format="string")
_DECODER = msgspec.msgpack.Decoder(Record)


class Journal:
    def __init__(self, path: Path, *, fsync: bool = True, commit_window_s: float = COMMIT_WINDOW_S) -> None:
        self.path = path
        self._fsync = fsync
        self._window_s = commit_window_s
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if fsync:
            os.fdatasync(self._fd)  # what a previous run left in the page cache, on disk from here on
        self.written = self.synced = os.fstat(self._fd).st_size  # offsets: end of what is written, synced
        self._failed: OSError | None = None
        self._wake = threading.Condition(threading.Lock())
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []  # (offset, sync() waiting for it)
        self._flusher: threading.Thread | None = None
        self._idle = True  # the flusher waits for a sync_soon (not in a window, not flushing)
        self._closing = False
        self._frame = bytearray(HEADER.size)  # see _append

    def _append(self, record: Record) -> None:
        # Encoded after the header's room in one reused buffer: no payload copy to frame it
        # (two records an order). Written whole before this returns, so reuse is safe.
        frame = self._frame
        _ENCODER.encode_into(record, frame, HEADER.size)
        HEADER.pack_into(frame, 0, len(frame) - HEADER.size)
        os.write(self._fd, frame)
        self.written += len(frame)

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
        """Starts a group commit unless one is under way or nothing is unsynced; never waits.
        Only an idle flusher is woken: one in its window or its fdatasync loops until nothing
        written is left unsynced, so a record written meanwhile is covered by this or the next
        flush without another wake-up."""
        if self._fsync and self.synced < self.written and self._failed is None:
            with self._wake:
                if self._flusher is None:
                    self._flusher = threading.Thread(target=self._flush, name="journal-flush", daemon=True)
                    self._flusher.start()
                if self._idle:
                    self._idle = False
                    self._wake.notify()

    async def sync(self) -> None:
        """Returns once everything written before the call is on disk (the group commit's, its
        window cut short)."""
        target = self.written
        if not self._fsync:
            return
        while self.synced < target:
            if self._failed is not None:
                raise JournalUnavailable(f"the journal {self.path} could not be flushed to disk ({self._failed})")
            done = asyncio.get_running_loop().create_future()
            self.sync_soon()
            with self._wake:
                if self.synced < target and self._failed is None:
                    self._waiters.append((target, done))
                    self._wake.notify()  # a flusher in its commit window flushes now
                else:
                    done.set_result(None)
            await done

    def _flush(self) -> None:
        """The flusher thread: waits for unsynced records, gathers more for one commit window
        (cut short by a :meth:`sync` caller or :meth:`close`), then one fdatasync covering
        everything written before it began."""
        while True:
            with self._wake:
                while not self._closing and self.synced >= self.written:
                    self._idle = True
                    self._wake.wait()
                self._idle = False
                deadline = time.monotonic() + self._window_s
                while not self._closing and not self._waiters:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._wake.wait(left)
                if self._closing:
                    return  # close() flushes what is written
                upto = self.written
            try:
                os.fdatasync(self._fd)
            except OSError as exc:
                self._failed = exc
                log.error("journal %s: fdatasync failed (%s); refusing new orders until a restart", self.path, exc)
            with self._wake:
                if self._failed is None:
                    self.synced = upto
                ready = [w for w in self._waiters if self._failed is not None or w[0] <= self.synced]
                self._waiters = [w for w in self._waiters if w not in ready]
            for _, done in ready:  # only a sync() caller is woken: an unawaited flush touches no loop
                with contextlib.suppress(RuntimeError):  # its loop is closed: nobody is waiting any more
                    done.get_loop().call_soon_threadsafe(_resolve, done)
            if self._failed is not None:
                return

    async def aclose(self) -> None:
        """Flushes what is written (after any running group commit), then closes."""
        if self._failed is None:
            await self.sync()
        self.close()

    def close(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._flusher is not None:
            self._flusher.join()
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


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
