"""Engine construction: the one place that knows each backend's concurrency quirks.

SQLite is the embedded default and several worker processes share one file, so every
write transaction starts with ``BEGIN IMMEDIATE``: it takes the database's write lock up
front, which serialises writers across processes and turns "read then write" sequences
(nonce allocation, get-or-create) into atomic ones without row locks. WAL lets readers
proceed meanwhile, and a 30 s busy timeout makes contending writers wait instead of
failing with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option read by the SQLite "begin" hook; read-only work uses DEFERRED so it
# does not queue behind writers.
SQLITE_BEGIN_OPTION = "crosslane_sqlite_begin"


def normalize_url(url: str | URL) -> URL:
    """Pin PostgreSQL to psycopg 3: a bare ``postgresql://`` would ask for psycopg2."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def create_ledger_engine(url: str | URL) -> Engine:
    u = normalize_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        engine = _create_sqlite_engine(u)
    elif backend == "postgresql":
        # pre_ping: worker processes live for days and PostgreSQL connections get recycled.
        engine = create_engine(u, pool_pre_ping=True, pool_size=10, max_overflow=20)
    else:
        raise ValueError(f"ledger supports sqlite and postgresql, not {backend!r}")
    _forget_pool_on_fork(engine)
    return engine


def _forget_pool_on_fork(engine: Engine) -> None:
    """A forked child must not reuse the parent's sockets or SQLite handles."""
    ref = weakref.ref(engine)

    def _after_fork() -> None:
        eng = ref()
        if eng is not None:
            eng.dispose(close=False)

    os.register_at_fork(after_in_child=_after_fork)


def _create_sqlite_engine(url: URL) -> Engine:
    memory = is_memory_sqlite(url)
    if memory:
        # One shared connection, or each thread would see its own empty database. Only
        # fit for single-threaded tests: concurrent writers would collide on it.
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    else:
        if url.database:
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=10,
            max_overflow=20,
            pool_timeout=60,
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it would emit a
        # deferred BEGIN only before DML); the "begin" hook below emits our own.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not memory:
                _enable_wal(cur)
            cur.execute("PRAGMA foreign_keys = ON")
            # SQLite's default, stated: with WAL, FULL syncs the log at every commit, so a
            # committed nonce allocation survives a power loss too, not only a process crash.
            cur.execute("PRAGMA synchronous = FULL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _enable_wal(cur: Any) -> None:
    """Switching to WAL needs a moment of exclusive access and does not wait on the busy
    timeout, so two processes opening a fresh file at once can see "database is locked"."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SessionFactory:
    """Hands out short transactions: one per public ledger call, as an ORM session or, on
    the hot paths (Core statements, no unit of work), as a bare connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write = sessionmaker(bind=engine, expire_on_commit=False)
        self._reader = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        self._read = sessionmaker(bind=self._reader, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue here for it, handed
        # over as soon as it is free, instead of in SQLite's busy handler, which sleeps 1, 2,
        # 5, 10... 25 ms between looks while the lock may long be free (at 200 lifecycles in
        # flight the worker's ledger threads spent most of their time there: bench/README.md,
        # tx_lifecycle, issue 15). Other processes still meet on SQLite's lock. Reentrant: a
        # write opened inside another in the same thread behaves as it did without it.
        self._writers: AbstractContextManager[Any] = (
            threading.RLock() if engine.dialect.name == "sqlite" and not is_memory_sqlite(engine.url) else nullcontext()
        )

    @contextmanager
    def write_conn(self) -> Iterator[Connection]:
        """Like ``write``, as a Core connection."""
        with self._writers, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read_conn(self) -> Iterator[Connection]:
        with self._reader.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success; on SQLite it holds the write lock."""
        with self._writers, self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session
