"""Yield compounding: one row per YieldCompound run (compounded or skipped by the profit
gate) with the rewards, fees and gas it saw, valued in wei of ETH, and the position's value,
from which a position's net APR/APY is computed.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crosslane.ledger.coltypes import Uint256, UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_json = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "yield_runs",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("position", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("reward", Uint256(), nullable=False),
        sa.Column("reward_value_wei", Uint256(), nullable=False),
        sa.Column("fees_value_wei", Uint256(), nullable=False),
        sa.Column("gas_wei", Uint256(), nullable=False),
        sa.Column("position_value_wei", Uint256(), nullable=False),
        sa.Column("liquidity", Uint256(), nullable=False),
        sa.Column("fee_mark", sa.String(100), nullable=True),
        sa.Column("reward_carry", Uint256(), nullable=False),
        sa.Column("chain_time", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hashes", _json, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_yield_runs"),
        sa.UniqueConstraint("workflow_id", name="uq_yield_runs_workflow_id"),
    )
    op.create_index("ix_yield_runs_chain_owner_position", "yield_runs", ["chain", "owner", "position"])


def downgrade() -> None:
    op.drop_index("ix_yield_runs_chain_owner_position", table_name="yield_runs")
    op.drop_table("yield_runs")
