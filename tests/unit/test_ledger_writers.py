"""A process's SQLite writers queue in the process for the write lock, not in SQLite's
busy handler (which sleeps between looks while the lock may long be free)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crosslane.ledger import Ledger, db

CHAIN, SIGNER = 31337, "0x" + "ab" * 20


def test_writers_of_one_process_never_meet_sqlite_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No busy wait at all: a writer that found SQLite's lock taken would fail with
    # "database is locked" at once; queued in the process, every one gets its turn.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 0)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()

    def work(t: int) -> list[int]:
        nonces = []
        for i in range(15):
            op = ledger.begin_operation(f"wf-{t}-{i}", "tx", "tx", chain_id=CHAIN, signer=SIGNER, allocate_nonce_from=0)
            assert op.nonce is not None
            nonces.append(op.nonce)
        return nonces

    try:
        with ThreadPoolExecutor(8) as pool:
            got = [n for chunk in pool.map(work, range(8)) for n in chunk]
    finally:
        ledger.close()
    assert sorted(got) == list(range(8 * 15))
