"""The dev server storage settings a bench compares in one run, each on its own server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from crosslane.embedded.temporal_server import DEFAULT_PRAGMAS, WAL_PRAGMAS
from devnet.sandbox import Sandbox, other_temporal

STORAGES = {"default": DEFAULT_PRAGMAS, "wal": WAL_PRAGMAS}


@asynccontextmanager
async def servers(sb: Sandbox, storage: str) -> AsyncIterator[dict[str, Sandbox]]:
    """The sandbox per storage setting compared: its own server runs WAL (``dev up``'s)."""
    chosen = list(STORAGES) if storage == "both" else [storage]
    async with AsyncExitStack() as stack:
        yield {
            name: sb
            if STORAGES[name] == WAL_PRAGMAS
            else await stack.enter_async_context(other_temporal(sb, f"temporal-{name}", STORAGES[name]))
            for name in chosen
        }
