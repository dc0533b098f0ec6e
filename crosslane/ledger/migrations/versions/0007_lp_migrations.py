"""LP migrations: one row per LPMigration workflow: what moved where, values before and
after in a reference token, fees, gas, impermanent loss, the steps' transactions, and
where the tokens are when it failed.

Values are exact decimal text (whole reference tokens).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crosslane.ledger.coltypes import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_json = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lp_migrations",
        sa.Column("id", _id, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(42), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("new_token_id", sa.String(80), nullable=True),
        sa.Column("new_pool", sa.String(42), nullable=True),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("value_before", sa.String(80), nullable=False),
        sa.Column("value_after", sa.String(80), nullable=False),
        sa.Column("fees_value", sa.String(80), nullable=False),
        sa.Column("gas_wei", sa.String(80), nullable=False),
        sa.Column("gas_value", sa.String(80), nullable=False),
        sa.Column("impermanent_loss", sa.String(80), nullable=True),
        sa.Column("result", _json, nullable=False),
        sa.Column("detail", sa.String(1000), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lp_migrations"),
        sa.UniqueConstraint("workflow_id", name="uq_lp_migrations_workflow_id"),
    )
    op.create_index("ix_lp_migrations_owner", "lp_migrations", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_lp_migrations_owner", table_name="lp_migrations")
    op.drop_table("lp_migrations")
