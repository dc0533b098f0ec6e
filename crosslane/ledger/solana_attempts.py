"""Signed Solana transactions in the ledger, keyed by (operation, attempt index).

``record`` stores the raw bytes before they are sent and never overwrites: a retried
activity gets the stored attempt back and re-sends the same bytes (same signature)
instead of signing anew. Used through a :class:`~crosslane.ledger.Ledger`::

    attempts = SolanaAttempts(ledger)
    stored = attempts.record(op.id, 0, cluster=..., signer=..., signature=..., raw_tx=..., ...)
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crosslane.domain.families import BlockhashExpiry, chain_key
from crosslane.errors import InvalidRequest
from crosslane.ledger.coltypes import utcnow
from crosslane.ledger.errors import AttemptNotFound, LedgerConflict
from crosslane.ledger.models import SolanaAttempt, neutral_columns
from crosslane.ledger.repository import Ledger, _lock_operation

ERROR_MAX = 1000  # the column's width; a longer error is cut


class SolanaAttemptStatus(StrEnum):
    SIGNED = "signed"  # raw bytes stored, maybe not yet sent
    SENT = "sent"
    LANDED = "landed"  # executed successfully
    FAILED = "failed"  # landed with an instruction error (fee paid)
    EXPIRED = "expired"  # proven never to land: its blockhash's last valid block height passed
    REJECTED = "rejected"  # refused at send (preflight)


FINAL = frozenset({SolanaAttemptStatus.LANDED, SolanaAttemptStatus.FAILED, SolanaAttemptStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class SolanaAttemptRecord:
    id: int
    operation_id: int
    attempt_index: int
    cluster: str
    signer: str
    signature: str
    raw_tx: str  # base64 wire bytes
    recent_blockhash: str
    last_valid_block_height: int
    unit_price: int
    unit_limit: int
    status: SolanaAttemptStatus
    slot: int | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None
    settled_at: datetime | None


class SolanaAttempts:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def record(
        self,
        operation_id: int,
        attempt_index: int,
        *,
        cluster: str,
        signer: str,
        signature: str,
        raw_tx: str,
        recent_blockhash: str,
        last_valid_block_height: int,
        unit_price: int,
        unit_limit: int,
    ) -> SolanaAttemptRecord:
        """Store a signed transaction before it is sent. Idempotent on (operation,
        attempt index): an existing attempt is returned unchanged, and the caller must send
        its ``raw_tx``."""
        if attempt_index < 0:
            raise InvalidRequest("attempt_index must be >= 0")
        try:
            base64.b64decode(raw_tx, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("raw_tx must be base64 of the signed transaction") from None
        for name, v in (
            ("last_valid_block_height", last_valid_block_height),
            ("unit_price", unit_price),
            ("unit_limit", unit_limit),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**63:
                raise InvalidRequest(f"{name} must be a non-negative int64, got {v!r}")
        ledger = self._ledger
        with ledger._sessions.write() as s:
            existing = _find(s, operation_id, attempt_index)
            if existing is not None:
                return _record(existing)
            _lock_operation(s, operation_id)
            stmt = ledger._insert(SolanaAttempt).values(
                operation_id=operation_id,
                attempt_index=attempt_index,
                cluster=cluster,
                signer=signer,
                signature=signature,
                raw_tx=raw_tx,
                recent_blockhash=recent_blockhash,
                last_valid_block_height=last_valid_block_height,
                unit_price=unit_price,
                unit_limit=unit_limit,
                status=SolanaAttemptStatus.SIGNED.value,
                created_at=utcnow(),
                **neutral_columns(
                    "solana",
                    chain_key("solana", cluster),
                    signer,
                    signature,
                    BlockhashExpiry(blockhash=recent_blockhash, last_valid_block_height=last_valid_block_height),
                ),
            )
            try:
                s.execute(stmt.on_conflict_do_nothing(index_elements=["operation_id", "attempt_index"]))
            except IntegrityError as exc:
                raise LedgerConflict(f"signature {signature} is already recorded under another attempt") from exc
            stored = _find(s, operation_id, attempt_index)
            assert stored is not None
            return _record(stored)

    def get(self, operation_id: int, attempt_index: int) -> SolanaAttemptRecord | None:
        with self._ledger._sessions.read() as s:
            row = _find(s, operation_id, attempt_index)
            return _record(row) if row is not None else None

    def list(self, operation_id: int) -> list[SolanaAttemptRecord]:
        with self._ledger._sessions.read() as s:
            rows = s.scalars(
                select(SolanaAttempt)
                .where(SolanaAttempt.operation_id == operation_id)
                .order_by(SolanaAttempt.attempt_index)
            ).all()
            return [_record(r) for r in rows]

    def mark(
        self, signature: str, status: SolanaAttemptStatus, *, slot: int | None = None, error: str | None = None
    ) -> SolanaAttemptRecord:
        """Move an attempt to ``status``; a final status (landed, failed, expired) stays."""
        with self._ledger._sessions.write() as s:
            row = s.scalars(
                select(SolanaAttempt).where(SolanaAttempt.signature == signature).with_for_update()
            ).one_or_none()
            if row is None:
                raise AttemptNotFound(f"no Solana attempt with signature {signature}")
            if SolanaAttemptStatus(row.status) in FINAL:
                return _record(row)
            now = utcnow()
            row.status = status.value
            if status is SolanaAttemptStatus.SENT and row.sent_at is None:
                row.sent_at = now
            if status in FINAL:
                row.settled_at = now
            if slot is not None:
                row.slot = slot
            if error is not None:
                row.error = error[:ERROR_MAX]
            s.flush()
            return _record(row)


def _find(s: Session, operation_id: int, attempt_index: int) -> SolanaAttempt | None:
    return s.scalars(
        select(SolanaAttempt).where(
            SolanaAttempt.operation_id == operation_id, SolanaAttempt.attempt_index == attempt_index
        )
    ).one_or_none()


def _record(row: SolanaAttempt) -> SolanaAttemptRecord:
    return SolanaAttemptRecord(
        id=row.id,
        operation_id=row.operation_id,
        attempt_index=row.attempt_index,
        cluster=row.cluster,
        signer=row.signer,
        signature=row.signature,
        raw_tx=row.raw_tx,
        recent_blockhash=row.recent_blockhash,
        last_valid_block_height=row.last_valid_block_height,
        unit_price=row.unit_price,
        unit_limit=row.unit_limit,
        status=SolanaAttemptStatus(row.status),
        slot=row.slot,
        error=row.error,
        created_at=row.created_at,
        sent_at=row.sent_at,
        settled_at=row.settled_at,
    )
