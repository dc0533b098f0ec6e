"""The fast path's journal: a record is readable as soon as it is written (a killed process
loses nothing), and one fdatasync covers every record written before it began (group commit)."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from crosslane.fastpath.protocol import ChildOrder, OrderKind, ParentOrder
from crosslane.routing import Side
from workers.fastpath.journal import Journal, JournalUnavailable


def parent(parent_id: str) -> ParentOrder:
    child = ChildOrder(
        venue="binance",
        client_order_id=f"cl-{parent_id}",
        symbol="BTC/USDT",
        side=Side.BUY,
        qty=Decimal("0.001"),
        limit_price=Decimal("30000"),
    )
    return ParentOrder(
        parent_id=parent_id,
        symbol="BTC/USDT",
        side=Side.BUY,
        qty=Decimal("0.001"),
        kind=OrderKind.LIMIT,
        limit_price=Decimal("30000"),
        children=[child],
        created_ns=1,
    )


@pytest.fixture
def flushes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each fdatasync's journal size when it began."""
    seen: list[int] = []
    real = os.fdatasync

    def counted(fd: int) -> None:
        seen.append(os.fstat(fd).st_size)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counted)
    return seen


def test_a_written_parent_is_replayed_before_any_sync(tmp_path: Path, flushes: list[int]) -> None:
    journal = Journal(tmp_path / "j")
    journal.record_parent(parent("p1"))
    assert list(Journal.replay(tmp_path / "j")) == ["p1"], "in the page cache: a killed process keeps it"
    assert journal.synced < journal.written == (tmp_path / "j").stat().st_size
    journal.close()


async def test_concurrent_syncs_share_one_fdatasync(tmp_path: Path, flushes: list[int]) -> None:
    journal = Journal(tmp_path / "j")
    opened = len(flushes)
    for i in range(3):
        journal.record_parent(parent(f"p{i}"))
    await asyncio.gather(*(journal.sync() for _ in range(3)))
    assert len(flushes) == opened + 1
    assert journal.synced == journal.written == flushes[-1]
    await journal.sync()
    assert len(flushes) == opened + 1, "nothing new written: no flush"
    journal.close()


async def test_a_record_written_during_a_flush_waits_for_the_next(tmp_path: Path, flushes: list[int]) -> None:
    journal = Journal(tmp_path / "j")
    opened = len(flushes)
    journal.record_parent(parent("p1"))
    first = asyncio.ensure_future(journal.sync())
    while len(flushes) == opened:  # until the first flush is under way
        await asyncio.sleep(0.001)
    journal.record_parent(parent("p2"))
    await journal.sync()
    await first
    assert len(flushes) == opened + 2
    assert journal.synced == journal.written == (tmp_path / "j").stat().st_size
    journal.close()


async def test_without_fsync_nothing_is_flushed(tmp_path: Path, flushes: list[int]) -> None:
    journal = Journal(tmp_path / "j", fsync=False)
    journal.record_parent(parent("p1"))
    await journal.sync()
    journal.close()
    assert flushes == []


async def test_sync_soon_returns_before_the_flush_and_the_flush_covers_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the engine's answer relies on: starting the group commit does not wait for the disk."""
    journal = Journal(tmp_path / "j")
    release = threading.Event()
    real = os.fdatasync

    def slow(fd: int) -> None:
        release.wait(5)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", slow)
    journal.record_parent(parent("p1"))
    journal.sync_soon()  # returns at once: the flush runs in a thread
    assert journal.synced < journal.written
    await asyncio.sleep(0.01)
    assert journal.synced < journal.written, "the flush is still blocked in the disk"
    release.set()
    await journal.sync()
    assert journal.synced == journal.written
    journal.close()


async def test_a_failed_flush_refuses_every_later_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal(tmp_path / "j")

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", broken)
    journal.record_parent(parent("p1"))
    journal.sync_soon()
    with pytest.raises(JournalUnavailable, match="could not be flushed to disk"):
        await journal.sync()
    with pytest.raises(JournalUnavailable, match="restart"):
        journal.record_parent(parent("p2"))  # no order is sent whose parent may never reach the disk
    journal.close()
    assert list(Journal.replay(tmp_path / "j")) == ["p1"]


async def until_synced(journal: Journal) -> None:
    """Polls (nobody calls sync()) until the flusher alone has covered everything written."""
    while journal.synced < journal.written:
        await asyncio.sleep(0.001)


async def test_records_written_within_the_commit_window_share_one_fdatasync(tmp_path: Path, flushes: list[int]) -> None:
    journal = Journal(tmp_path / "j", commit_window_s=60)
    opened = len(flushes)
    journal.record_parent(parent("p1"))
    journal.sync_soon()  # the engine, after p1's answer: the flusher starts its window
    for i in (2, 3):  # later orders within the window
        journal.record_parent(parent(f"p{i}"))
        journal.sync_soon()
    await asyncio.sleep(0.05)
    assert len(flushes) == opened, "no fdatasync before the window is over"
    await asyncio.wait_for(journal.sync(), 30)  # a sync() caller cuts the window short
    assert len(flushes) == opened + 1, "one fdatasync for the three parents"
    assert flushes[-1] == journal.synced == journal.written
    journal.close()
    assert list(Journal.replay(tmp_path / "j")) == ["p1", "p2", "p3"]


async def test_a_record_is_synced_once_the_window_is_over_without_a_sync_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = 0.05
    journal = Journal(tmp_path / "j", commit_window_s=window)
    started: list[float] = []
    real = os.fdatasync

    def timed(fd: int) -> None:
        started.append(time.monotonic())
        real(fd)

    monkeypatch.setattr(os, "fdatasync", timed)
    journal.record_parent(parent("p1"))
    woken = time.monotonic()
    journal.sync_soon()
    await until_synced(journal)
    assert len(started) == 1
    assert started[0] - woken >= window, "the flush waited for the window, gathering later records"
    journal.record_parent(parent("p2"))  # the flusher is idle again: the next sync_soon wakes it
    journal.sync_soon()
    await until_synced(journal)
    assert len(started) == 2
    journal.close()


async def test_close_during_a_window_flushes_at_once(tmp_path: Path, flushes: list[int]) -> None:
    journal = Journal(tmp_path / "j", commit_window_s=60)
    journal.record_parent(parent("p1"))
    journal.sync_soon()
    await asyncio.sleep(0.01)  # the flusher in its window
    await asyncio.wait_for(asyncio.to_thread(journal.close), 30)  # not after the 60 s window
    assert flushes[-1] == (tmp_path / "j").stat().st_size
