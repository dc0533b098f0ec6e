"""ORM tables. The schema itself is owned by the Alembic migrations; keep them in step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crosslane.domain.families import ChainFamily, Exclusivity
from crosslane.ledger.coltypes import Uint256, UtcDateTime, utcnow

# Deterministic constraint names, so later migrations can address them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Operation(Base):
    """One side effect's intent, keyed by (workflow_id, step)."""

    __tablename__ = "operations"
    __table_args__ = (
        UniqueConstraint("workflow_id", "step"),
        # Backstop for the allocator: two operations never hold the same nonce.
        UniqueConstraint("chain_id", "signer", "nonce"),
        Index(None, "family", "chain", "account"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(255))
    step: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    # Family-neutral (any family; None for an operation on no chain): family, chain_key()
    # ("eip155:31337", "solana:solana-devnet") and the sending account in its own encoding.
    family: Mapped[str | None] = mapped_column(String(16))
    chain: Mapped[str | None] = mapped_column(String(64))
    account: Mapped[str | None] = mapped_column(String(128))
    # EVM only: the nonce allocator's keys.
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    signer: Mapped[str | None] = mapped_column(String(42))
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class FamilyNeutralAttempt:
    """Columns every family's attempt table carries, so one query reads attempts of any
    family (``crosslane.ledger.chain_attempts``): the family, ``chain_key()``, the sending
    account, the transaction id (EVM hash, Solana signature) and what the attempt is
    exclusive by (``crosslane.domain.families.Exclusivity`` as JSON, and its ``key``)."""

    family: Mapped[str] = mapped_column(String(16))
    chain: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(128))
    tx_id: Mapped[str] = mapped_column(String(128))
    exclusivity: Mapped[str] = mapped_column(Text)
    exclusivity_key: Mapped[str] = mapped_column(String(255))


def neutral_columns(
    family: ChainFamily, chain: str, account: str, tx_id: str, exclusivity: Exclusivity
) -> dict[str, str]:
    """The ``FamilyNeutralAttempt`` values of one attempt, for an insert."""
    return {
        "family": family,
        "chain": chain,
        "account": account,
        "tx_id": tx_id,
        "exclusivity": exclusivity.model_dump_json(),
        "exclusivity_key": exclusivity.key,
    }


def family_neutral_index() -> Index:
    """Each attempt table's index for "attempts of this account exclusive by this key"."""
    return Index(None, "family", "chain", "account", "exclusivity_key")


class TxAttemptRow(FamilyNeutralAttempt, Base):
    """One signed transaction for an operation; raw bytes are stored before broadcast."""

    __tablename__ = "tx_attempts"
    __table_args__ = (
        UniqueConstraint("operation_id", "attempt_index"),
        UniqueConstraint("tx_hash"),
        Index(None, "chain_id", "signer", "nonce"),
        family_neutral_index(),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="RESTRICT"))
    attempt_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    raw_tx: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(String(42))
    value: Mapped[int] = mapped_column(Uint256)
    gas_limit: Mapped[int] = mapped_column(Uint256)
    max_fee_per_gas: Mapped[int] = mapped_column(Uint256)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(Uint256)
    status: Mapped[str] = mapped_column(String(32))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    effective_gas_price: Mapped[int | None] = mapped_column(Uint256)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    broadcast_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    mined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NonceCursor(Base):
    """Next nonce the allocator will hand out for one (chain, signer)."""

    __tablename__ = "nonce_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    signer: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_nonce: Mapped[int] = mapped_column(BigInteger)


class BridgeTransferRow(Base):
    """One bridge transfer (one BridgeTransfer workflow), its route, transactions and outcome.

    ``state`` is a ``BridgeState`` value, or ``planned`` before anything is sent.
    """

    __tablename__ = "bridge_transfers"
    __table_args__ = (
        UniqueConstraint("workflow_id"),
        Index(None, "state"),
        Index(None, "source_chain", "destination_chain"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str] = mapped_column(String(255))
    route: Mapped[str] = mapped_column(String(32))
    source_chain: Mapped[str] = mapped_column(String(64))
    destination_chain: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(128))
    amount: Mapped[int] = mapped_column(Uint256)
    signer: Mapped[str] = mapped_column(String(42))
    recipient: Mapped[str] = mapped_column(String(42))
    state: Mapped[str] = mapped_column(String(32))
    deposit_tx: Mapped[str | None] = mapped_column(String(66))
    deposit_id: Mapped[str | None] = mapped_column(String(255))
    completion_tx: Mapped[str | None] = mapped_column(String(66))
    refund_tx: Mapped[str | None] = mapped_column(String(66))
    received: Mapped[int | None] = mapped_column(Uint256)
    detail: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SolanaAttempt(FamilyNeutralAttempt, Base):
    """One signed Solana transaction for an operation; raw bytes are stored before send.

    Exclusive by its recent blockhash (no nonce): a new attempt is signed only once the
    previous one is proven never to land (its blockhash's last valid block height passed).
    """

    __tablename__ = "solana_attempts"
    __table_args__ = (
        family_neutral_index(),
        UniqueConstraint("operation_id", "attempt_index"),
        UniqueConstraint("signature"),
        Index(None, "cluster", "signer"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="RESTRICT"))
    attempt_index: Mapped[int] = mapped_column(Integer)
    cluster: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(44))
    signature: Mapped[str] = mapped_column(String(88))
    raw_tx: Mapped[str] = mapped_column(Text)  # base64 wire bytes
    recent_blockhash: Mapped[str] = mapped_column(String(44))
    last_valid_block_height: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)  # micro-lamports per compute unit
    unit_limit: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    slot: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ArbRun(Base):
    """One Arbitrage workflow: its size, state and expected and realised P&L (decimal text,
    whole tokens of the quote). ``day`` (UTC, ``YYYY-MM-DD``) groups the daily loss."""

    __tablename__ = "arb_runs"
    __table_args__ = (UniqueConstraint("workflow_id"), Index(None, "state"), Index(None, "day"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    asset: Mapped[str] = mapped_column(String(64))
    quote: Mapped[str] = mapped_column(String(64))
    size: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(32))
    expected_profit: Mapped[str | None] = mapped_column(String(80))
    realised_profit: Mapped[str | None] = mapped_column(String(80))
    day: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ArbLegRow(Base):
    """One leg of a run (buy, sell, unwind): what it moved, its gas, its order ids and tx hashes."""

    __tablename__ = "arb_legs"
    __table_args__ = (UniqueConstraint("run_id", "leg"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("arb_runs.id", ondelete="RESTRICT"))
    leg: Mapped[str] = mapped_column(String(16))
    venue: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    asset_delta: Mapped[str] = mapped_column(String(80))
    quote_delta: Mapped[str] = mapped_column(String(80))
    gas_cost: Mapped[str] = mapped_column(String(80))
    changes: Mapped[list[Any]] = mapped_column(Json, default=list)
    refs: Mapped[list[Any]] = mapped_column(Json, default=list)
    detail: Mapped[str | None] = mapped_column(String(1000))


class ArbControls(Base):
    """The single row (id 1) of arbitrage's switches: ``paused`` by an operator or by the
    daily-loss kill switch, with the reason shown to whoever tries to start a run."""

    __tablename__ = "arb_controls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    paused: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class YieldRun(Base):
    """One YieldCompound run of a position: compounded or skipped by the profit gate, with
    what it earned and spent in wei of ETH. ``fee_mark`` is the position's fee-growth
    reading at the run (V2: √k per LP token; V3: uncollected fees' value), which the next
    run's fees are measured from. ``reward_carry`` is reward the run's restake paid out
    (MasterChef's deposit harvests too), which the next run compounds."""

    __tablename__ = "yield_runs"
    __table_args__ = (UniqueConstraint("workflow_id"), Index(None, "chain", "owner", "position"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str] = mapped_column(String(255))
    chain: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    position: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    reward: Mapped[int] = mapped_column(Uint256)
    reward_value_wei: Mapped[int] = mapped_column(Uint256)
    fees_value_wei: Mapped[int] = mapped_column(Uint256)
    gas_wei: Mapped[int] = mapped_column(Uint256)
    position_value_wei: Mapped[int] = mapped_column(Uint256)
    liquidity: Mapped[int] = mapped_column(Uint256)
    fee_mark: Mapped[str | None] = mapped_column(String(100))
    reward_carry: Mapped[int] = mapped_column(Uint256)
    chain_time: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hashes: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LpMigrationRow(Base):
    """One LPMigration workflow's outcome: values are decimal text (whole reference tokens);
    ``result`` is the workflow's whole MigrationResult (steps, transactions, amounts)."""

    __tablename__ = "lp_migrations"
    __table_args__ = (UniqueConstraint("workflow_id"), Index(None, "owner"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str] = mapped_column(String(255))
    chain: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(42))
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(255))
    new_token_id: Mapped[str | None] = mapped_column(String(80))
    new_pool: Mapped[str | None] = mapped_column(String(42))
    reference: Mapped[str] = mapped_column(String(64))
    value_before: Mapped[str] = mapped_column(String(80))
    value_after: Mapped[str] = mapped_column(String(80))
    fees_value: Mapped[str] = mapped_column(String(80))
    gas_wei: Mapped[str] = mapped_column(String(80))
    gas_value: Mapped[str] = mapped_column(String(80))
    impermanent_loss: Mapped[str | None] = mapped_column(String(80))
    result: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    detail: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
