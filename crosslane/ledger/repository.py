"""The ledger's public API: short transactions over operations, attempts, nonces and
bridge transfers.

Every method opens its own transaction and returns frozen records, so callers (activities
running it through ``asyncio.to_thread``) never share ORM state across threads. Writes
that read-then-write are serialised by a row lock on PostgreSQL and by the database-wide
``BEGIN IMMEDIATE`` lock on SQLite, which makes them safe across threads and processes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from eth_utils import keccak
from sqlalchemy import URL, Connection, Engine, Row, Update, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crosslane.config import settings
from crosslane.domain.evm import checksum_address
from crosslane.domain.families import ChainFamily, NonceExclusivity, chain_key
from crosslane.errors import InvalidRequest
from crosslane.ledger.coltypes import UINT256_MAX, UtcDateTime, utcnow
from crosslane.ledger.db import SessionFactory, create_ledger_engine, normalize_url
from crosslane.ledger.errors import AttemptNotFound, LedgerConflict, OperationNotFound
from crosslane.ledger.models import BridgeTransferRow, NonceCursor, Operation, TxAttemptRow, neutral_columns
from crosslane.ledger.records import (
    BRIDGE_TRANSFER_FINAL_STATES,
    AttemptKind,
    AttemptRecord,
    AttemptStatus,
    BridgeTransferRecord,
    OperationRecord,
    OperationStatus,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_E = TypeVar("_E", OperationStatus, AttemptStatus, AttemptKind)

_HASH_RE = re.compile(r"^0x[0-9a-f]{64}$")
_HEX_RE = re.compile(r"^0x(?:[0-9a-f]{2})+$")

# Needed to create a bridge transfer row (and never cleared afterwards).
_BRIDGE_REQUIRED = (
    "request_id",
    "route",
    "source_chain",
    "destination_chain",
    "asset",
    "amount",
    "signer",
    "recipient",
    "state",
)
_BRIDGE_TEXT = {
    "request_id": 255,
    "route": 32,
    "source_chain": 64,
    "destination_chain": 64,
    "asset": 128,
    "state": 32,
    "deposit_id": 255,
}
_BRIDGE_ADDRESSES = ("signer", "recipient")
_BRIDGE_HASHES = ("deposit_tx", "completion_tx", "refund_tx")
_BRIDGE_UINTS = ("amount", "received")
_BRIDGE_DETAIL_MAX = 1000  # the column's width; a longer detail is cut
_BRIDGE_FIELDS = frozenset(
    (*_BRIDGE_REQUIRED, *_BRIDGE_TEXT, *_BRIDGE_ADDRESSES, *_BRIDGE_HASHES, *_BRIDGE_UINTS, "detail")
)


_OPS = Operation.__table__
_ATTEMPTS = TxAttemptRow.__table__
_CURSORS = NonceCursor.__table__
_BRIDGES = BridgeTransferRow.__table__

# The hot paths' statements, built once: a statement object reused keeps its cache key, so an
# execution skips SQLAlchemy's statement construction and cache-key walk and goes straight to
# the compiled form. Core, not the ORM: no session, identity map or unit-of-work flush per call.
# (In an UPDATE, the WHERE's parameters are named b_* so they never collide with SET columns.)
_OP_BY_KEY = select(_OPS).where(_OPS.c.workflow_id == bindparam("workflow_id"), _OPS.c.step == bindparam("step"))
_OP_BY_KEY_LOCKED = _OP_BY_KEY.with_for_update()
_OP_BY_ID = select(_OPS).where(_OPS.c.id == bindparam("id"))
_OP_BY_ID_LOCKED = _OP_BY_ID.with_for_update()
_SET_OP = update(_OPS).where(_OPS.c.id == bindparam("b_id"))
_ATTEMPT_BY_INDEX = select(_ATTEMPTS).where(
    _ATTEMPTS.c.operation_id == bindparam("operation_id"), _ATTEMPTS.c.attempt_index == bindparam("attempt_index")
)
_ATTEMPT_OF = (
    select(_ATTEMPTS)
    .join(_OPS, _OPS.c.id == _ATTEMPTS.c.operation_id)
    .where(
        _OPS.c.workflow_id == bindparam("workflow_id"),
        _OPS.c.step == bindparam("step"),
        _ATTEMPTS.c.attempt_index == bindparam("attempt_index"),
    )
)
_CURSOR_LOCKED = (
    select(_CURSORS.c.next_nonce)
    .where(_CURSORS.c.chain_id == bindparam("chain_id"), _CURSORS.c.signer == bindparam("signer"))
    .with_for_update()
)
_SET_CURSOR = update(_CURSORS).where(
    _CURSORS.c.chain_id == bindparam("b_chain_id"), _CURSORS.c.signer == bindparam("b_signer")
)
_NONCES_HELD_FROM = select(_OPS.c.nonce).where(
    _OPS.c.chain_id == bindparam("chain_id"), _OPS.c.signer == bindparam("signer"), _OPS.c.nonce >= bindparam("nonce")
)
_BRIDGE_LOCKED = select(_BRIDGES).where(_BRIDGES.c.workflow_id == bindparam("workflow_id")).with_for_update()
_SET_BRIDGE = update(_BRIDGES).where(_BRIDGES.c.id == bindparam("b_id"))


@lru_cache(maxsize=64)
def _mark_statement(stamp_broadcast: bool, stamp_mined: bool, receipt: tuple[str, ...]) -> Update:
    """``mark_attempt``'s single UPDATE (no read first); one cached statement per shape."""
    values: dict[str, Any] = {"status": bindparam("status")}
    if stamp_broadcast:
        values["broadcast_at"] = func.coalesce(_ATTEMPTS.c.broadcast_at, bindparam("now", type_=UtcDateTime()))
    if stamp_mined:
        values["mined_at"] = func.coalesce(_ATTEMPTS.c.mined_at, bindparam("now", type_=UtcDateTime()))
    for name in receipt:
        values[name] = bindparam(name, type_=_ATTEMPTS.c[name].type)
    return update(_ATTEMPTS).where(_ATTEMPTS.c.tx_hash == bindparam("b_tx_hash")).values(values)


class Ledger:
    """Durable record of every side effect, its signed transactions and nonces."""

    def __init__(self, url: str) -> None:
        self.url: URL = normalize_url(url)
        self.engine: Engine = create_ledger_engine(self.url)
        self._sessions = SessionFactory(self.engine)
        self._pg = self.engine.dialect.name == "postgresql"
        self._atomic = threading.local()
        self._insert_op = self._insert(Operation).on_conflict_do_nothing(index_elements=["workflow_id", "step"])
        self._insert_cursor = self._insert(NonceCursor).on_conflict_do_nothing(index_elements=["chain_id", "signer"])
        self._insert_attempt = (
            self._insert(TxAttemptRow)
            .on_conflict_do_nothing(index_elements=["operation_id", "attempt_index"])
            .returning(*_ATTEMPTS.c)
        )
        self._insert_bridge = (
            self._insert(BridgeTransferRow)
            .on_conflict_do_nothing(index_elements=["workflow_id"])
            .returning(*_BRIDGES.c)
        )

    @classmethod
    def from_settings(cls) -> Ledger:
        return cls(settings().db_url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction for every call of this ledger made inside the block, in this
        thread: they commit together (one commit, one fsync on SQLite) or not at all. Used by
        activities that write several records at one step (``asyncio.to_thread`` of a
        function that opens the block and makes the calls). Nested blocks join the outer one.
        """
        if getattr(self._atomic, "conn", None) is not None:
            yield
            return
        with self._sessions.write_conn() as conn:
            self._atomic.conn = conn
            try:
                yield
            finally:
                self._atomic.conn = None

    def _write(self) -> AbstractContextManager[Connection]:
        """The open ``atomic`` block's connection, else a write transaction of its own."""
        return self._joined() or self._sessions.write_conn()

    def _read(self) -> AbstractContextManager[Connection]:
        return self._joined() or self._sessions.read_conn()

    def _joined(self) -> AbstractContextManager[Connection] | None:
        conn = self.joined_connection()
        return nullcontext(conn) if conn is not None else None

    def joined_connection(self) -> Connection | None:
        """The connection of the ``atomic`` block open in this thread, if any (for stores
        beside the ledger, such as the arbitrage book, that write in the same transaction)."""
        return getattr(self._atomic, "conn", None)

    # -- schema ---------------------------------------------------------------------------

    def alembic_config(self) -> Config:
        """Alembic config pointing at the migrations shipped in this package."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("path_separator", "os")
        # ConfigParser interpolates "%", which URL-encoded passwords contain.
        url = self.url.render_as_string(hide_password=False).replace("%", "%%")
        cfg.set_main_option("sqlalchemy.url", url)
        return cfg

    def migrate(self) -> None:
        """Upgrade to head; idempotent and safe when several processes start at once."""
        cfg = self.alembic_config()
        with self.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    # -- operations -----------------------------------------------------------------------

    def begin_operation(
        self,
        workflow_id: str,
        step: str,
        kind: str,
        *,
        chain_id: int | None = None,
        signer: str | None = None,
        detail: dict[str, Any] | None = None,
        family: ChainFamily | None = None,
        chain: str | None = None,
        account: str | None = None,
        allocate_nonce_from: int | None = None,
    ) -> OperationRecord:
        """Record the intent of a side effect, or return the one already recorded.

        Concurrent callers with the same (workflow_id, step) get the same row; ``detail``
        is only stored on creation. A caller whose kind, chain or signer contradicts the
        stored row gets ``LedgerConflict``.

        ``family``/``chain``/``account`` are the family-neutral columns (``chain`` is a
        ``chain_key()``); an EVM caller gives ``chain_id``/``signer`` and they follow.

        ``allocate_nonce_from`` (the chain's pending nonce; needs ``chain_id`` and ``signer``)
        also allocates the operation's nonce, as ``allocate_nonce`` does, in the same
        transaction: the returned record holds it.
        """
        if not workflow_id or not step or not kind:
            raise InvalidRequest("workflow_id, step and kind must be non-empty")
        signer_cs = _address(signer, "signer") if signer is not None else None
        if allocate_nonce_from is not None and (chain_id is None or signer_cs is None or allocate_nonce_from < 0):
            raise InvalidRequest("allocating a nonce needs chain_id, signer and a chain pending nonce >= 0")
        if chain_id is not None:
            family = family or "evm"
            chain = chain or chain_key("evm", chain_id)
        account = account or signer_cs
        now = utcnow()
        key = {"workflow_id": workflow_id, "step": step}
        with self._write() as c:
            c.execute(
                self._insert_op,
                {
                    **key,
                    "kind": kind,
                    "family": family,
                    "chain": chain,
                    "account": account,
                    "chain_id": chain_id,
                    "signer": signer_cs,
                    "status": OperationStatus.PENDING.value,
                    "detail": dict(detail or {}),
                    "created_at": now,
                    "updated_at": now,
                },
            )
            # Locked when a nonce follows: lock order is always operation, then cursor.
            op = c.execute(_OP_BY_KEY_LOCKED if allocate_nonce_from is not None else _OP_BY_KEY, key).one()
            mismatch = [
                name
                for name, want, have in (
                    ("kind", kind, op.kind),
                    ("family", family, op.family),
                    ("chain", chain, op.chain),
                    ("account", account, op.account),
                    ("chain_id", chain_id, op.chain_id),
                    ("signer", signer_cs, op.signer),
                )
                if want is not None and have is not None and want != have
            ]
            if mismatch:
                raise LedgerConflict(
                    f"operation {workflow_id}/{step} already recorded with different "
                    + ", ".join(f"{m} ({getattr(op, m)!r})" for m in mismatch)
                )
            if allocate_nonce_from is None:
                return _op_record(op)
            assert chain_id is not None and signer_cs is not None
            return self._allocate(c, op, chain_id, signer_cs, allocate_nonce_from)

    def get_operation(self, workflow_id: str, step: str) -> OperationRecord | None:
        with self._read() as c:
            op = c.execute(_OP_BY_KEY, {"workflow_id": workflow_id, "step": step}).one_or_none()
            return _op_record(op) if op is not None else None

    def get_operation_by_id(self, operation_id: int) -> OperationRecord | None:
        with self._read() as c:
            op = c.execute(_OP_BY_ID, {"id": operation_id}).one_or_none()
            return _op_record(op) if op is not None else None

    def update_operation(
        self,
        operation_id: int,
        *,
        status: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> OperationRecord:
        """Set the status and shallow-merge ``detail`` into the stored one."""
        new_status = _enum(OperationStatus, status, "operation status") if status else None
        with self._write() as c:
            op = _lock_op(c, operation_id)
            return self._update_op(c, op, new_status, detail)

    def append_operation_detail(self, workflow_id: str, step: str, key: str, item: Any) -> OperationRecord | None:
        """Append ``item`` to the list ``detail[key]`` of an operation, unless it is already
        the last item there (a retried step sees the same thing again); None if there is no
        such operation. One locked read and at most one write."""
        with self._write() as c:
            op = c.execute(_OP_BY_KEY_LOCKED, {"workflow_id": workflow_id, "step": step}).one_or_none()
            if op is None:
                return None
            items = list((op.detail or {}).get(key, []))
            if items[-1:] == [item]:
                return _op_record(op)
            return self._update_op(c, op, None, {key: [*items, item]})

    def _update_op(
        self, c: Connection, op: Row[Any], status: OperationStatus | None, detail: dict[str, Any] | None
    ) -> OperationRecord:
        values: dict[str, Any] = {"updated_at": utcnow()}
        if status is not None:
            values["status"] = status.value
        if detail:
            values["detail"] = {**(op.detail or {}), **detail}
        c.execute(_SET_OP, {"b_id": op.id, **values})
        return _op_record(op, **values)

    # -- nonces ---------------------------------------------------------------------------

    def allocate_nonce(self, operation_id: int, chain_id: int, signer: str, chain_pending_nonce: int) -> int:
        """The operation's nonce: allocated once, then returned unchanged on every retry.

        A new nonce is ``max(cursor, chain_pending_nonce)``, skipping nonces other
        operations hold (possible only after ``reset_nonce_cursor`` moved the cursor back).
        """
        signer_cs = _address(signer, "signer")
        if chain_pending_nonce < 0:
            raise InvalidRequest("chain_pending_nonce must be >= 0")
        with self._write() as c:
            # Lock order is always operation, then cursor: no deadlock between allocators.
            op = _lock_op(c, operation_id)
            nonce = self._allocate(c, op, chain_id, signer_cs, chain_pending_nonce).nonce
            assert nonce is not None
            return nonce

    def _allocate(
        self, c: Connection, op: Row[Any], chain_id: int, signer_cs: str, chain_pending_nonce: int
    ) -> OperationRecord:
        """Allocate (once) the nonce of ``op``, already locked in ``c``; the updated record."""
        if (op.chain_id is not None and op.chain_id != chain_id) or (op.signer is not None and op.signer != signer_cs):
            raise LedgerConflict(
                f"operation {op.id} is for chain {op.chain_id} signer {op.signer}, "
                f"not chain {chain_id} signer {signer_cs}"
            )
        if op.nonce is not None:
            return _op_record(op)
        who = {"chain_id": chain_id, "signer": signer_cs}
        c.execute(self._insert_cursor, {**who, "next_nonce": 0})
        nonce = max(c.execute(_CURSOR_LOCKED, who).scalar_one(), chain_pending_nonce)
        held = set(c.execute(_NONCES_HELD_FROM, {**who, "nonce": nonce}).scalars())
        while nonce in held:
            nonce += 1
        c.execute(_SET_CURSOR, {"b_chain_id": chain_id, "b_signer": signer_cs, "next_nonce": nonce + 1})
        values = {
            **who,
            "nonce": nonce,
            "family": "evm",
            "chain": chain_key("evm", chain_id),
            "account": signer_cs,
            "updated_at": utcnow(),
        }
        c.execute(_SET_OP, {"b_id": op.id, **values})
        return _op_record(op, **values)

    def nonces_held(self, chain_id: int, signer: str) -> dict[int, OperationRecord]:
        """Nonce -> the operation holding it, for reconciliation with the chain."""
        signer_cs = _address(signer, "signer")
        query = (
            select(_OPS)
            .where(_OPS.c.chain_id == chain_id, _OPS.c.signer == signer_cs, _OPS.c.nonce.is_not(None))
            .order_by(_OPS.c.nonce)
        )
        with self._read() as c:
            return {op.nonce: _op_record(op) for op in c.execute(query) if op.nonce is not None}

    def next_nonce(self, chain_id: int, signer: str) -> int | None:
        """The cursor's value, or None before the first allocation (for tooling)."""
        signer_cs = _address(signer, "signer")
        with self._sessions.read() as s:
            cursor = s.get(NonceCursor, (chain_id, signer_cs))
            return cursor.next_nonce if cursor is not None else None

    def reset_nonce_cursor(self, chain_id: int, signer: str, next_nonce: int) -> None:
        """Recovery tooling: force the cursor, e.g. back to a nonce the chain never saw."""
        signer_cs = _address(signer, "signer")
        if next_nonce < 0:
            raise InvalidRequest("next_nonce must be >= 0")
        with self._sessions.write() as s:
            stmt = self._insert(NonceCursor).values(chain_id=chain_id, signer=signer_cs, next_nonce=next_nonce)
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["chain_id", "signer"],
                    set_={"next_nonce": stmt.excluded.next_nonce},
                )
            )

    # -- transaction attempts -------------------------------------------------------------

    def record_attempt(
        self,
        operation_id: int,
        attempt_index: int,
        *,
        kind: str,
        chain_id: int,
        signer: str,
        nonce: int,
        tx_hash: str,
        raw_tx: str,
        to_address: str,
        value: int,
        gas_limit: int,
        max_fee_per_gas: int,
        max_priority_fee_per_gas: int,
    ) -> AttemptRecord:
        """Store a signed transaction before it is broadcast.

        Idempotent on (operation_id, attempt_index): if that attempt exists it is returned
        unchanged, even if the arguments differ, and the caller must broadcast the
        returned ``raw_tx`` (re-signing would produce a different hash).
        """
        kind_e = _enum(AttemptKind, kind, "attempt kind")
        signer_cs = _address(signer, "signer")
        to_cs = _address(to_address, "to_address")
        tx_hash_n = _tx_hash(tx_hash)
        raw = raw_tx.lower() if isinstance(raw_tx, str) else raw_tx
        if not isinstance(raw, str) or not _HEX_RE.match(raw):
            raise InvalidRequest("raw_tx must be 0x-prefixed hex of the signed transaction")
        if "0x" + keccak(hexstr=raw).hex() != tx_hash_n:
            raise InvalidRequest(f"tx_hash {tx_hash_n} is not keccak256(raw_tx)")
        if attempt_index < 0 or nonce < 0:
            raise InvalidRequest("attempt_index and nonce must be >= 0")
        for name, v in (
            ("value", value),
            ("gas_limit", gas_limit),
            ("max_fee_per_gas", max_fee_per_gas),
            ("max_priority_fee_per_gas", max_priority_fee_per_gas),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= UINT256_MAX:
                raise InvalidRequest(f"{name} must be an int in uint256 range, got {v!r}")

        with self._write() as c:
            existing = c.execute(
                _ATTEMPT_BY_INDEX, {"operation_id": operation_id, "attempt_index": attempt_index}
            ).one_or_none()
            if existing is not None:
                return _attempt_record(existing)
            op = _lock_op(c, operation_id)
            if (
                kind_e is not AttemptKind.GAP_FILL
                and op.nonce is not None
                and (op.chain_id, op.signer, op.nonce) != (chain_id, signer_cs, nonce)
            ):
                raise LedgerConflict(
                    f"operation {operation_id} holds nonce {op.nonce} on chain {op.chain_id} "
                    f"for {op.signer}; a {kind_e} attempt must use it"
                )
            values = {
                "operation_id": operation_id,
                "attempt_index": attempt_index,
                "kind": kind_e.value,
                "chain_id": chain_id,
                "signer": signer_cs,
                "nonce": nonce,
                "tx_hash": tx_hash_n,
                "raw_tx": raw,
                "to_address": to_cs,
                "value": value,
                "gas_limit": gas_limit,
                "max_fee_per_gas": max_fee_per_gas,
                "max_priority_fee_per_gas": max_priority_fee_per_gas,
                "status": AttemptStatus.SIGNED.value,
                "created_at": utcnow(),
                **neutral_columns(
                    "evm", chain_key("evm", chain_id), signer_cs, tx_hash_n, NonceExclusivity(nonce=nonce)
                ),
            }
            try:
                # RETURNING hands back the row as stored: no read after the write.
                row = c.execute(self._insert_attempt, values).one_or_none()
            except IntegrityError as exc:
                raise LedgerConflict(f"tx {tx_hash_n} is already recorded under another attempt") from exc
            if row is None:  # a concurrent writer recorded this attempt first
                row = c.execute(_ATTEMPT_BY_INDEX, {"operation_id": operation_id, "attempt_index": attempt_index}).one()
            return _attempt_record(row)

    def get_attempt(self, operation_id: int, attempt_index: int) -> AttemptRecord | None:
        with self._read() as c:
            row = c.execute(
                _ATTEMPT_BY_INDEX, {"operation_id": operation_id, "attempt_index": attempt_index}
            ).one_or_none()
            return _attempt_record(row) if row is not None else None

    def get_attempt_of(self, workflow_id: str, step: str, attempt_index: int) -> AttemptRecord | None:
        """``get_attempt`` of the operation (workflow_id, step), in one query."""
        with self._read() as c:
            row = c.execute(
                _ATTEMPT_OF, {"workflow_id": workflow_id, "step": step, "attempt_index": attempt_index}
            ).one_or_none()
            return _attempt_record(row) if row is not None else None

    def get_attempt_by_hash(self, tx_hash: str) -> AttemptRecord | None:
        with self._read() as c:
            row = c.execute(select(_ATTEMPTS).where(_ATTEMPTS.c.tx_hash == _tx_hash(tx_hash))).one_or_none()
            return _attempt_record(row) if row is not None else None

    def list_attempts(self, operation_id: int) -> list[AttemptRecord]:
        query = select(_ATTEMPTS).where(_ATTEMPTS.c.operation_id == operation_id).order_by(_ATTEMPTS.c.attempt_index)
        with self._read() as c:
            return [_attempt_record(r) for r in c.execute(query)]

    def attempts_for_signer(self, chain_id: int, signer: str, statuses: set[str] | None = None) -> list[AttemptRecord]:
        """Every attempt of one signer, by nonce: the view stuck-tx recovery works from."""
        signer_cs = _address(signer, "signer")
        query = select(_ATTEMPTS).where(_ATTEMPTS.c.chain_id == chain_id, _ATTEMPTS.c.signer == signer_cs)
        if statuses is not None:
            wanted = [_enum(AttemptStatus, st, "attempt status").value for st in statuses]
            query = query.where(_ATTEMPTS.c.status.in_(wanted))
        with self._read() as c:
            rows = c.execute(query.order_by(_ATTEMPTS.c.nonce, _ATTEMPTS.c.attempt_index))
            return [_attempt_record(r) for r in rows]

    def mark_attempt(
        self,
        tx_hash: str,
        status: str,
        *,
        block_number: int | None = None,
        block_hash: str | None = None,
        gas_used: int | None = None,
        effective_gas_price: int | None = None,
        broadcast: bool = False,
        at: datetime | None = None,
    ) -> None:
        """Record what the chain said about a transaction; the status is last-writer-wins.

        ``broadcast=True`` (or status ``broadcast``) stamps ``broadcast_at`` once; status
        ``mined`` or ``reverted`` (both included in a block) stamps ``mined_at`` once, at
        ``at`` (when the caller heard it; default now). Receipt fields are written only when
        given. One UPDATE, no read.
        """
        new_status = _enum(AttemptStatus, status, "attempt status")
        tx_hash_n = _tx_hash(tx_hash)
        receipt = {
            "block_number": block_number,
            "block_hash": _tx_hash(block_hash) if block_hash is not None else None,
            "gas_used": gas_used,
            "effective_gas_price": effective_gas_price,
        }
        given = {name: v for name, v in receipt.items() if v is not None}
        stmt = _mark_statement(
            broadcast or new_status is AttemptStatus.BROADCAST,
            new_status in (AttemptStatus.MINED, AttemptStatus.REVERTED),
            tuple(given),
        )
        with self._write() as c:
            params = {"b_tx_hash": tx_hash_n, "status": new_status.value, "now": at or utcnow(), **given}
            if c.execute(stmt, params).rowcount == 0:
                raise AttemptNotFound(f"no recorded attempt has tx hash {tx_hash_n}")

    # -- bridge transfers -----------------------------------------------------------------

    def upsert_bridge_transfer(
        self, workflow_id: str, *, create_only: bool = False, **fields: Any
    ) -> BridgeTransferRecord:
        """Record the transfer of ``workflow_id``, or update the fields given of the one recorded.

        Idempotent: repeating a call leaves the row as it was (``updated_at`` included).
        Creating needs ``state`` and every identity field (request_id, route, source_chain,
        destination_chain, asset, amount, signer, recipient); an update writes only the
        fields given, and ``None`` clears an optional one. ``create_only`` returns an existing
        row untouched. A transfer in a final state (completed, refunded, failed) keeps its
        state and detail unless the new state is final too: a stale activity attempt that
        lands late cannot move it back.
        """
        if not workflow_id:
            raise InvalidRequest("workflow_id must be non-empty")
        values = _bridge_values(fields)
        with self._write() as c:
            row = c.execute(_BRIDGE_LOCKED, {"workflow_id": workflow_id}).one_or_none()
            if row is None:
                missing = [f for f in _BRIDGE_REQUIRED if f not in values]
                if missing:
                    raise InvalidRequest(
                        f"bridge transfer {workflow_id} is not recorded yet; recording it needs " + ", ".join(missing)
                    )
                now = utcnow()
                inserted = c.execute(
                    self._insert_bridge, {"workflow_id": workflow_id, **values, "created_at": now, "updated_at": now}
                ).one_or_none()
                if inserted is not None:
                    return _bridge_record(inserted)
                # Lost a race with a concurrent first write: update the winner's row instead.
                row = c.execute(_BRIDGE_LOCKED, {"workflow_id": workflow_id}).one()
            if create_only:
                return _bridge_record(row)
            if row.state in BRIDGE_TRANSFER_FINAL_STATES and (
                values.get("state", row.state) not in BRIDGE_TRANSFER_FINAL_STATES
            ):
                values.pop("state")
                values.pop("detail", None)
            changed = {name: value for name, value in values.items() if getattr(row, name) != value}
            if not changed:
                return _bridge_record(row)
            changed["updated_at"] = utcnow()
            c.execute(_SET_BRIDGE, {"b_id": row.id, **changed})
            return _bridge_record(row, **changed)

    def get_bridge_transfer(self, workflow_id: str) -> BridgeTransferRecord | None:
        with self._read() as c:
            row = c.execute(select(_BRIDGES).where(_BRIDGES.c.workflow_id == workflow_id)).one_or_none()
            return _bridge_record(row) if row is not None else None

    def list_bridge_transfers(
        self,
        state: str | None = None,
        limit: int = 100,
        *,
        route: str | None = None,
        source_chain: str | None = None,
        destination_chain: str | None = None,
    ) -> list[BridgeTransferRecord]:
        """Transfers, newest first, optionally only those in one state, route or lane."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidRequest(f"limit must be a positive int, got {limit!r}")
        query = select(BridgeTransferRow)
        for column, wanted in (
            (BridgeTransferRow.state, state),
            (BridgeTransferRow.route, route),
            (BridgeTransferRow.source_chain, source_chain),
            (BridgeTransferRow.destination_chain, destination_chain),
        ):
            if wanted is not None:
                query = query.where(column == str(wanted))
        query = query.order_by(BridgeTransferRow.created_at.desc(), BridgeTransferRow.id.desc()).limit(limit)
        with self._sessions.read() as s:
            return [_bridge_record(r) for r in s.scalars(query)]

    # -- helpers --------------------------------------------------------------------------

    def _insert(self, model: type[Any]) -> Any:
        """INSERT with ON CONFLICT support; both backends spell it the same way."""
        return pg_insert(model) if self._pg else sqlite_insert(model)


def _lock_operation(s: Session, operation_id: int) -> Operation:
    op = s.get(Operation, operation_id, with_for_update=True)
    if op is None:
        raise OperationNotFound(f"no operation with id {operation_id}")
    return op


def _lock_op(c: Connection, operation_id: int) -> Row[Any]:
    op = c.execute(_OP_BY_ID_LOCKED, {"id": operation_id}).one_or_none()
    if op is None:
        raise OperationNotFound(f"no operation with id {operation_id}")
    return op


def _bridge_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Checked and normalised column values: checksummed addresses, lower-case hashes."""
    unknown = sorted(set(fields) - _BRIDGE_FIELDS)
    if unknown:
        raise TypeError(f"not bridge transfer fields: {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            if name in _BRIDGE_REQUIRED:
                raise InvalidRequest(f"bridge transfer {name} cannot be empty")
            out[name] = None
        elif name in _BRIDGE_ADDRESSES:
            out[name] = _address(value, name)
        elif name in _BRIDGE_HASHES:
            out[name] = _tx_hash(value)
        elif name in _BRIDGE_UINTS:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT256_MAX:
                raise InvalidRequest(f"{name} must be an int in uint256 range, got {value!r}")
            out[name] = int(value)
        elif name == "detail":
            if not isinstance(value, str):
                raise InvalidRequest(f"detail must be text, got {type(value).__name__}")
            cut = _BRIDGE_DETAIL_MAX
            out[name] = value if len(value) <= cut else value[: cut - 1] + "…"
        else:
            width = _BRIDGE_TEXT[name]
            if not isinstance(value, str) or not value or len(value) > width:
                raise InvalidRequest(f"bridge transfer {name} must be 1 to {width} characters, got {value!r}")
            out[name] = str(value)  # a StrEnum member as its plain value
    return out


def _address(value: str | None, field: str) -> str:
    """Checksummed, so "0xabc…" and "0xABC…" never get two nonce cursors."""
    try:
        return checksum_address(value)
    except (ValueError, TypeError) as exc:  # TypeError also for an unhashable value
        raise InvalidRequest(f"{field} is not an address: {value!r}") from exc


def _tx_hash(value: str) -> str:
    h = value.lower() if isinstance(value, str) else value
    if not isinstance(h, str) or not _HASH_RE.match(h):
        raise InvalidRequest(f"not a 32-byte 0x hash: {value!r}")
    return h


def _enum(enum: type[_E], value: str, what: str) -> _E:
    try:
        return enum(value)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidRequest(f"unknown {what} {value!r}; one of {allowed}") from exc


def _op_record(op: Any, **written: Any) -> OperationRecord:
    """From a Core row (a fresh ``detail`` per fetch: nothing to copy) or a model instance;
    ``written`` overrides the columns the caller has just updated."""
    get = written.get
    return OperationRecord(
        id=op.id,
        workflow_id=op.workflow_id,
        step=op.step,
        family=get("family", op.family),
        chain=get("chain", op.chain),
        account=get("account", op.account),
        kind=op.kind,
        chain_id=get("chain_id", op.chain_id),
        signer=get("signer", op.signer),
        nonce=get("nonce", op.nonce),
        status=OperationStatus(get("status", op.status)),
        detail=dict(get("detail", op.detail) or {}),
        created_at=op.created_at,
        updated_at=get("updated_at", op.updated_at),
    )


def _attempt_record(a: Any) -> AttemptRecord:
    return AttemptRecord(
        id=a.id,
        operation_id=a.operation_id,
        attempt_index=a.attempt_index,
        kind=AttemptKind(a.kind),
        chain_id=a.chain_id,
        signer=a.signer,
        nonce=a.nonce,
        tx_hash=a.tx_hash,
        raw_tx=a.raw_tx,
        to_address=a.to_address,
        value=a.value,
        gas_limit=a.gas_limit,
        max_fee_per_gas=a.max_fee_per_gas,
        max_priority_fee_per_gas=a.max_priority_fee_per_gas,
        status=AttemptStatus(a.status),
        block_number=a.block_number,
        block_hash=a.block_hash,
        gas_used=a.gas_used,
        effective_gas_price=a.effective_gas_price,
        created_at=a.created_at,
        broadcast_at=a.broadcast_at,
        mined_at=a.mined_at,
    )


def _bridge_record(t: Any, **written: Any) -> BridgeTransferRecord:
    """From a Core row or a model instance; ``written`` as in ``_op_record``."""
    return BridgeTransferRecord(
        **{name: written.get(name, getattr(t, name)) for name in BridgeTransferRecord.__dataclass_fields__}
    )
