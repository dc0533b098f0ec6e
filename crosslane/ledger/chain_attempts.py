"""Attempts of every chain family through their family-neutral columns.

Each family keeps its own attempt table (``tx_attempts``, ``solana_attempts``) for what only
it has (gas fields, compute budget); every such table also carries
``FamilyNeutralAttempt``'s columns, which this module reads, so tooling can ask "what did
this account sign on this chain, and which attempts compete for the same nonce/blockhash"
without knowing the family. A new family's table joins ``ATTEMPT_TABLES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crosslane.domain.families import EXCLUSIVITY, BlockhashExpiry, DurableNonce, NonceExclusivity
from crosslane.ledger.models import FamilyNeutralAttempt, SolanaAttempt, TxAttemptRow
from crosslane.ledger.repository import Ledger

ATTEMPT_TABLES: tuple[type[FamilyNeutralAttempt], ...] = (TxAttemptRow, SolanaAttempt)


@dataclass(frozen=True, slots=True)
class ChainAttemptRecord:
    family: str
    chain: str
    account: str
    operation_id: int
    attempt_index: int
    tx_id: str
    exclusivity: NonceExclusivity | BlockhashExpiry | DurableNonce
    status: str  # the family's own status vocabulary
    created_at: datetime

    @property
    def exclusivity_key(self) -> str:
        return self.exclusivity.key


class ChainAttempts:
    """Read-only: ``ChainAttempts(ledger).for_account("solana:solana-devnet", address)``."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def for_operation(self, operation_id: int) -> list[ChainAttemptRecord]:
        return self._read(lambda t: t.operation_id == operation_id)

    def for_account(self, chain: str, account: str) -> list[ChainAttemptRecord]:
        """Every attempt ``account`` signed on ``chain`` (a ``chain_key()``), oldest first."""
        return self._read(lambda t: (t.chain == chain) & (t.account == account))

    def competing(self, chain: str, account: str, exclusivity_key: str) -> list[ChainAttemptRecord]:
        """The attempts of which at most one can land (same nonce, same blockhash, ...)."""
        return self._read(
            lambda t: (t.chain == chain) & (t.account == account) & (t.exclusivity_key == exclusivity_key)
        )

    def _read(self, where: Callable[[Any], Any]) -> list[ChainAttemptRecord]:
        records: list[ChainAttemptRecord] = []
        with self._ledger._sessions.read() as s:
            for table in ATTEMPT_TABLES:
                rows = s.scalars(select(table).where(where(table)))
                records.extend(_record(row) for row in rows)
        return sorted(records, key=lambda r: (r.created_at, r.operation_id, r.attempt_index))


def _record(row: FamilyNeutralAttempt) -> ChainAttemptRecord:
    return ChainAttemptRecord(
        family=row.family,
        chain=row.chain,
        account=row.account,
        operation_id=row.operation_id,  # type: ignore[attr-defined]
        attempt_index=row.attempt_index,  # type: ignore[attr-defined]
        tx_id=row.tx_id,
        exclusivity=EXCLUSIVITY.validate_json(row.exclusivity),
        status=row.status,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
    )
