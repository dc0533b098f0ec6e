"""Family-neutral columns: operations and every attempt table say which chain family, chain
and account they are for, the transaction id, and what the attempt is exclusive by.

- ``operations``: ``family``, ``chain`` (``chain_key()``: ``eip155:<chain id>``,
  ``solana:<cluster>``) and ``account``, nullable (an operation on no chain has none).
  Backfilled: EVM operations from ``chain_id``/``signer``; Solana transfers (step ``sol``)
  from their recorded request.
- ``tx_attempts`` and ``solana_attempts``: ``family``, ``chain``, ``account``, ``tx_id``,
  ``exclusivity`` (the ``Exclusivity`` descriptor as JSON text) and ``exclusivity_key``,
  NOT NULL, backfilled from the family columns (EVM: the nonce; Solana: the recent blockhash
  and its last valid block height). The family-specific columns stay: the nonce allocator
  and the Solana activities keep using them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTEMPT_TABLES = ("tx_attempts", "solana_attempts")
NEUTRAL = (
    ("family", sa.String(16)),
    ("chain", sa.String(64)),
    ("account", sa.String(128)),
    ("tx_id", sa.String(128)),
    ("exclusivity", sa.Text()),
    ("exclusivity_key", sa.String(255)),
)


def _text(column: str) -> str:
    return f"CAST({column} AS VARCHAR(64))"


# The Exclusivity descriptors' JSON, as pydantic writes it (compact, fields in order).
_BACKFILL = {
    "tx_attempts": {
        "family": "'evm'",
        "chain": f"'eip155:' || {_text('chain_id')}",
        "account": "signer",
        "tx_id": "tx_hash",
        "exclusivity": f"""'{{"kind":"nonce","nonce":' || {_text("nonce")} || '}}'""",
        "exclusivity_key": f"'nonce:' || {_text('nonce')}",
    },
    "solana_attempts": {
        "family": "'solana'",
        "chain": "'solana:' || cluster",
        "account": "signer",
        "tx_id": "signature",
        "exclusivity": """'{"kind":"blockhash","blockhash":"' || recent_blockhash"""
        f""" || '","last_valid_block_height":' || {_text("last_valid_block_height")} || '}}'""",
        "exclusivity_key": "'blockhash:' || recent_blockhash",
    },
}

_operations = sa.table(
    "operations",
    sa.column("id", sa.BigInteger()),
    sa.column("step", sa.String()),
    sa.column("detail", sa.JSON().with_variant(JSONB(), "postgresql")),
    sa.column("family", sa.String()),
    sa.column("chain", sa.String()),
    sa.column("account", sa.String()),
)


def upgrade() -> None:
    # Not in batch mode: on SQLite that would copy ``operations``, and dropping the original
    # fails on the attempt tables' foreign keys. Adding nullable columns needs no copy.
    op.add_column("operations", sa.Column("family", sa.String(16), nullable=True))
    op.add_column("operations", sa.Column("chain", sa.String(64), nullable=True))
    op.add_column("operations", sa.Column("account", sa.String(128), nullable=True))
    op.create_index("ix_operations_family_chain_account", "operations", ["family", "chain", "account"])
    op.execute(
        f"UPDATE operations SET family = 'evm', chain = 'eip155:' || {_text('chain_id')}, account = signer "
        "WHERE chain_id IS NOT NULL"
    )
    _backfill_solana_operations()

    for table in ATTEMPT_TABLES:
        with op.batch_alter_table(table) as batch:
            for name, type_ in NEUTRAL:
                batch.add_column(sa.Column(name, type_, nullable=True))
        assignments = ", ".join(f"{name} = {expr}" for name, expr in _BACKFILL[table].items())
        op.execute(f"UPDATE {table} SET {assignments}")
        with op.batch_alter_table(table) as batch:
            for name, type_ in NEUTRAL:
                batch.alter_column(name, existing_type=type_, nullable=False)
            batch.create_index(
                f"ix_{table}_family_chain_account_exclusivity_key", ["family", "chain", "account", "exclusivity_key"]
            )


def _backfill_solana_operations() -> None:
    """A Solana transfer's cluster and signer live in its recorded request (JSON)."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(_operations.c.id, _operations.c.detail).where(_operations.c.step == "sol")).all()
    for op_id, detail in rows:
        request = (json.loads(detail) if isinstance(detail, str) else detail or {}).get("request") or {}
        conn.execute(
            _operations.update()
            .where(_operations.c.id == op_id)
            .values(
                family="solana",
                chain=f"solana:{request.get('cluster', 'solana-devnet')}",
                account=request.get("signer"),
            )
        )


def downgrade() -> None:
    for table in reversed(ATTEMPT_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_family_chain_account_exclusivity_key")
            for name, _ in reversed(NEUTRAL):
                batch.drop_column(name)
    op.drop_index("ix_operations_family_chain_account", table_name="operations")
    for name in ("account", "chain", "family"):  # SQLite >= 3.35 drops a column in place
        op.drop_column("operations", name)
