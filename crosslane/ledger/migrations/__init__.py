"""Alembic environment shipped inside the package; run it through ``Ledger.migrate``."""
