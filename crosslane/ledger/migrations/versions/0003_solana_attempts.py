"""Solana attempts: signed Solana transactions (signature, blockhash, raw bytes) per operation.

A table of their own rather than nullable columns on ``tx_attempts``: a Solana attempt has
no nonce, gas or EVM address, and its keys (base58 signatures, 44-char addresses) do not
fit the EVM columns.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crosslane.ledger.coltypes import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "solana_attempts",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("operation_id", _id, nullable=False),
        sa.Column("attempt_index", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("signer", sa.String(44), nullable=False),
        sa.Column("signature", sa.String(88), nullable=False),
        sa.Column("raw_tx", sa.Text(), nullable=False),
        sa.Column("recent_blockhash", sa.String(44), nullable=False),
        sa.Column("last_valid_block_height", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("unit_limit", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("settled_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_solana_attempts"),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name="fk_solana_attempts_operation_id_operations",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("operation_id", "attempt_index", name="uq_solana_attempts_operation_id_attempt_index"),
        sa.UniqueConstraint("signature", name="uq_solana_attempts_signature"),
    )
    op.create_index("ix_solana_attempts_cluster_signer", "solana_attempts", ["cluster", "signer"])


def downgrade() -> None:
    op.drop_index("ix_solana_attempts_cluster_signer", table_name="solana_attempts")
    op.drop_table("solana_attempts")
