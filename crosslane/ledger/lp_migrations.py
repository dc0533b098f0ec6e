"""LP migrations in the ledger: one row per LPMigration workflow, written once when it ends
(idempotent per workflow id: a retried activity keeps the first record).

    LpMigrationBook(ledger).record(workflow_id, result)      # a MigrationResult as JSON
    LpMigrationBook(ledger).get(workflow_id)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crosslane.ledger.models import LpMigrationRow
from crosslane.ledger.repository import Ledger

_DETAIL_MAX = 1000


class LpMigrationBook:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def record(self, workflow_id: str, result: dict[str, Any]) -> None:
        """Insert the run's outcome; a second call for the same workflow id changes nothing."""
        position = result.get("new_position") or {}
        values = {
            "workflow_id": workflow_id,
            "request_id": result["request_id"],
            "chain": result["chain"],
            "owner": result["owner"],
            "kind": result["kind"],
            "outcome": result["outcome"],
            "source": result["source"][:255],
            "new_token_id": None if not position else str(position["token_id"]),
            "new_pool": position.get("pool"),
            "reference": result["reference"],
            "value_before": str(result["value_before"]),
            "value_after": str(result["value_after"]),
            "fees_value": str(result["fees_value"]),
            "gas_wei": str(result["gas_wei"]),
            "gas_value": str(result["gas_value"]),
            "impermanent_loss": None if result.get("impermanent_loss") is None else str(result["impermanent_loss"]),
            "result": result,
            "detail": (result.get("reason") or result.get("where_tokens_are") or "")[:_DETAIL_MAX] or None,
        }
        with self._ledger._sessions.write() as s:
            s.execute(self._ledger._insert(LpMigrationRow).values(**values).on_conflict_do_nothing())

    def get(self, workflow_id: str) -> dict[str, Any] | None:
        """The recorded row as a dict (columns), or None."""
        with self._ledger._sessions.read() as s:
            row = s.scalars(select(LpMigrationRow).where(LpMigrationRow.workflow_id == workflow_id)).one_or_none()
            if row is None:
                return None
            return {c.name: getattr(row, c.name) for c in LpMigrationRow.__table__.columns}
