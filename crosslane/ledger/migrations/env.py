"""Alembic environment for the ledger.

``Ledger.migrate`` passes its own connection (``config.attributes["connection"]``) so the
SQLite pragmas and ``BEGIN IMMEDIATE`` apply; the ``alembic`` CLI path builds an engine
from ``sqlalchemy.url`` the same way. The whole upgrade runs in one transaction that
first takes a lock, so two processes migrating at once run it once: the second waits,
then finds the database at head.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from crosslane.ledger.db import create_ledger_engine
from crosslane.ledger.models import Base

# Arbitrary constant: the PostgreSQL advisory lock key for "ledger migrations".
MIGRATION_LOCK_KEY = 0x63726F73736C6E  # "crossln"

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    with connection.begin():
        if connection.dialect.name == "postgresql":
            # Transactional DDL alone is not enough: two concurrent CREATE TABLEs of
            # alembic_version collide on the catalog. Serialise on an advisory lock.
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        # On SQLite the connection's BEGIN IMMEDIATE already holds the write lock.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set; use Ledger.migrate()")
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
