"""Bridge transfers: one row per BridgeTransfer workflow, for listing and reconciliation.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crosslane.ledger.coltypes import Uint256, UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bridge_transfers",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("source_chain", sa.String(64), nullable=False),
        sa.Column("destination_chain", sa.String(64), nullable=False),
        sa.Column("asset", sa.String(128), nullable=False),
        sa.Column("amount", Uint256(), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("recipient", sa.String(42), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("deposit_tx", sa.String(66), nullable=True),
        sa.Column("deposit_id", sa.String(255), nullable=True),
        sa.Column("completion_tx", sa.String(66), nullable=True),
        sa.Column("refund_tx", sa.String(66), nullable=True),
        sa.Column("received", Uint256(), nullable=True),
        sa.Column("detail", sa.String(1000), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bridge_transfers"),
        sa.UniqueConstraint("workflow_id", name="uq_bridge_transfers_workflow_id"),
    )
    op.create_index("ix_bridge_transfers_state", "bridge_transfers", ["state"])
    op.create_index(
        "ix_bridge_transfers_source_chain_destination_chain",
        "bridge_transfers",
        ["source_chain", "destination_chain"],
    )


def downgrade() -> None:
    op.drop_index("ix_bridge_transfers_source_chain_destination_chain", table_name="bridge_transfers")
    op.drop_index("ix_bridge_transfers_state", table_name="bridge_transfers")
    op.drop_table("bridge_transfers")
