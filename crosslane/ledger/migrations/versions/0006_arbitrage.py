"""Arbitrage: runs (one per Arbitrage workflow) with expected and realised P&L, their legs
(orders, fills, transactions, balance changes) and the risk controls' state (pause and the
kill switch), which hold across runs, workers and restarts.

Amounts are exact decimal text (whole tokens): a CEX fill and an on-chain transfer add up
in one currency, and SQLite has no exact decimal type.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crosslane.ledger.coltypes import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_json = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "arb_runs",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("asset", sa.String(64), nullable=False),
        sa.Column("quote", sa.String(64), nullable=False),
        sa.Column("size", sa.String(80), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("expected_profit", sa.String(80), nullable=True),
        sa.Column("realised_profit", sa.String(80), nullable=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("detail", sa.String(1000), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_arb_runs"),
        sa.UniqueConstraint("workflow_id", name="uq_arb_runs_workflow_id"),
    )
    op.create_index("ix_arb_runs_state", "arb_runs", ["state"])
    op.create_index("ix_arb_runs_day", "arb_runs", ["day"])
    op.create_table(
        "arb_legs",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("run_id", _id, nullable=False),
        sa.Column("leg", sa.String(16), nullable=False),
        sa.Column("venue", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("asset_delta", sa.String(80), nullable=False),
        sa.Column("quote_delta", sa.String(80), nullable=False),
        sa.Column("gas_cost", sa.String(80), nullable=False),
        sa.Column("changes", _json, nullable=False),
        sa.Column("refs", _json, nullable=False),
        sa.Column("detail", sa.String(1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_arb_legs"),
        sa.ForeignKeyConstraint(["run_id"], ["arb_runs.id"], name="fk_arb_legs_run_id_arb_runs", ondelete="RESTRICT"),
        sa.UniqueConstraint("run_id", "leg", name="uq_arb_legs_run_id_leg"),
    )
    op.create_table(
        "arb_controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_arb_controls"),
    )


def downgrade() -> None:
    op.drop_table("arb_controls")
    op.drop_table("arb_legs")
    op.drop_index("ix_arb_runs_day", table_name="arb_runs")
    op.drop_index("ix_arb_runs_state", table_name="arb_runs")
    op.drop_table("arb_runs")
