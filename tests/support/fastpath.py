"""Fast-path helpers for tests (the process wrapper lives in devnet.sandbox)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.cex import CexActivities
from crosslane.fastpath.client import FastPathClient
from crosslane.registry import load_registry
from devnet.cex import admin_client as admin
from devnet.sandbox import FastPathProcess
from devnet.state import DevnetState
from workers.fastpath.feeds import DEPTH as FEED_DEPTH
from workers.fastpath.server import FastPathConfig
from workers.orchestrator import workflow_runner
from workflows.cex_order import CexOrder

__all__ = ["FastPathProcess", "cex_order_worker", "fastpath_config", "frozen_books", "resume_market_makers"]

Levels = dict[str, set[tuple[str, Decimal, Decimal]]]  # "bids"/"asks" -> (venue, price, qty)


def fastpath_config(registry_file: Path, home: Path, symbols: list[str] | None = None) -> FastPathConfig:
    """The fast path's config as it builds it from a registry file (the devnet writes one)."""
    return FastPathConfig.from_registry(load_registry(registry_file), home, symbols)


def cex_order_worker(client: Client, task_queue: str, fastpath: FastPathProcess) -> Worker:
    """An in-process worker running CexOrder, its leg placed through ``fastpath``."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CexOrder],
        activities=[CexActivities(fastpath.config.socket_path).cex_execute],
        workflow_runner=workflow_runner(),
    )


async def frozen_books(
    state: DevnetState, fp: FastPathClient, symbol: str, timeout_s: float = 30.0
) -> dict[str, dict[str, Any]]:
    """Pauses every venue's market maker; returns each venue's book as its REST admin reports it
    (the levels the fast path follows), once the fast path's consolidated book holds exactly the
    same levels on both sides."""
    for venue in state.cex.values():
        await admin.market_maker(venue.rest_url, running=False)
    deadline = time.monotonic() + timeout_s
    while True:
        books = {name: await admin.book(v.rest_url, symbol, FEED_DEPTH) for name, v in state.cex.items()}
        want: Levels = {
            side: {(name, Decimal(p), Decimal(q)) for name, book in books.items() for p, q in book[side]}
            for side in ("bids", "asks")
        }
        view = await fp.book(symbol, depth=max(len(levels) for levels in want.values()) + 1)
        seen: Levels = {
            "bids": {(lv.venue, lv.price, lv.qty) for lv in view.bids},
            "asks": {(lv.venue, lv.price, lv.qty) for lv in view.asks},
        }
        if seen == want:
            return books
        if time.monotonic() > deadline:
            missing = {side: sorted(want[side] - seen[side])[:5] for side in want}
            extra = {side: sorted(seen[side] - want[side])[:5] for side in want}
            raise AssertionError(f"the fast path's book never matched the venues': missing {missing}, extra {extra}")
        await asyncio.sleep(0.05)


async def resume_market_makers(state: DevnetState) -> None:
    for venue in state.cex.values():
        await admin.market_maker(venue.rest_url, running=True)
