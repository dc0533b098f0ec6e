"""Initial ledger: operations, tx attempts, nonce cursors.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from crosslane.ledger.coltypes import Uint256, UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "operations",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("step", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=True),
        sa.Column("signer", sa.String(42), nullable=True),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("detail", _json, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
        sa.UniqueConstraint("workflow_id", "step", name="uq_operations_workflow_id_step"),
        sa.UniqueConstraint(
            "chain_id", "signer", "nonce", name="uq_operations_chain_id_signer_nonce"
        ),
    )
    op.create_table(
        "tx_attempts",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("operation_id", _id, nullable=False),
        sa.Column("attempt_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("raw_tx", sa.Text(), nullable=False),
        sa.Column("to_address", sa.String(42), nullable=False),
        sa.Column("value", Uint256(), nullable=False),
        sa.Column("gas_limit", Uint256(), nullable=False),
        sa.Column("max_fee_per_gas", Uint256(), nullable=False),
        sa.Column("max_priority_fee_per_gas", Uint256(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("effective_gas_price", Uint256(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("broadcast_at", UtcDateTime(), nullable=True),
        sa.Column("mined_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tx_attempts"),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["operations.id"],
            name="fk_tx_attempts_operation_id_operations",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint(
            "operation_id", "attempt_index", name="uq_tx_attempts_operation_id_attempt_index"
        ),
        sa.UniqueConstraint("tx_hash", name="uq_tx_attempts_tx_hash"),
    )
    op.create_index(
        "ix_tx_attempts_chain_id_signer_nonce", "tx_attempts", ["chain_id", "signer", "nonce"]
    )
    op.create_table(
        "nonce_cursors",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "signer", name="pk_nonce_cursors"),
    )


def downgrade() -> None:
    op.drop_table("nonce_cursors")
    op.drop_index("ix_tx_attempts_chain_id_signer_nonce", table_name="tx_attempts")
    op.drop_table("tx_attempts")
    op.drop_table("operations")
