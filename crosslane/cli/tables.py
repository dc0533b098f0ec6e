"""Tables for a terminal of any width: the key columns (what a row is about: a venue, a
component, a transaction hash) are never wrapped or cut; the other columns give way."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rich.table import Table


def table(*columns: str, keys: Collection[str] = (), **options: Any) -> Table:
    """A rich ``Table`` with ``columns``; those named in ``keys`` keep their full text."""
    t = Table(**options)
    for name in columns:
        t.add_column(name, no_wrap=name in keys)
    return t
