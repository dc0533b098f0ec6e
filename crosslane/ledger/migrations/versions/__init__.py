"""Alembic revisions (a package so that a regular, non-editable install ships them)."""
