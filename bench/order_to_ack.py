"""Order-to-ack: the fast path vs raw ccxt vs a Temporal activity, same venue, same run.

    .venv/bin/python -m bench.order_to_ack [--orders 300] [--rounds 3]

Every order is a resting limit buy far below the market on the simulated Binance venue
(so each one is acknowledged, none fills), sent one after another:
- raw ccxt: ``ccxt.async_support.binance.create_order`` (the baseline);
- fast path: ``FastPathClient.route`` over its Unix socket (journal write with fdatasync,
  deterministic client order id, ccxt to the venue);
- Temporal: a ``CexOrder`` workflow whose ``cex_execute`` activity calls the fast path.
Goal: fast path p99 under 10 ms and within 1.5x of raw ccxt; Temporal is the contrast.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from temporalio.worker import Worker

from activities.cex import CexActivities
from bench.stats import Run
from connectors.cex.credentials import load_credentials
from crosslane.client import connect_temporal
from crosslane.config import Settings
from crosslane.domain.cex import CexExecuteInput, CexExecution, CexOrderRequest
from crosslane.fastpath.protocol import OrderKind
from crosslane.registry import load_registry
from crosslane.routing import Side
from devnet.cex import admin_client as admin
from devnet.cex.clients import ccxt_client
from devnet.sandbox import FastPathProcess, sandbox
from workers.fastpath.server import FastPathConfig
from workers.orchestrator import workflow_runner
from workflows.cex_order import CexOrder

SYMBOL = "BTC/USDT"
QTY = Decimal("0.001")


async def main(orders: int, rounds: int, fsync: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        async with sandbox(home, cex=True) as sb:
            venue = sb.devnet.cex["binance"]
            await admin.set_rate_limits(venue.rest_url, request_weight=10**9, orders=10**9)
            book = await admin.book(venue.rest_url, SYMBOL, 1)
            price = (Decimal(book["bids"][0][0]) * Decimal("0.5")).quantize(Decimal("0.01"))
            config = FastPathConfig.from_registry(load_registry(sb.registry_path), home, [SYMBOL])
            config = config.model_copy(
                update={"venues": [v for v in config.venues if v.name == "binance"], "fsync": fsync}
            )
            fastpath = FastPathProcess(config, home, dict(os.environ))
            creds = load_credentials("binance-2", secrets_file=Path(venue.credentials_file))
            assert creds is not None
            raw = ccxt_client("binance", venue.rest_url, venue.ws_url, api_key=creds.api_key, secret=creds.secret)
            queue = "bench-cex"
            settings = Settings(home=home, temporal_address=sb.temporal_address, task_queue=queue)
            client = await connect_temporal(settings)
            worker = Worker(
                client,
                task_queue=queue,
                workflows=[CexOrder],
                activities=[CexActivities(config.socket_path).cex_execute],
                workflow_runner=workflow_runner(),
            )
            try:
                fp = await fastpath.client()
                await raw.load_markets()
                async with worker:
                    results: list[tuple[Run, Run, Run]] = []
                    for r in range(rounds):
                        raw_lat = []
                        for _ in range(orders):
                            t = time.perf_counter()
                            await raw.create_order(SYMBOL, "limit", "buy", str(QTY), str(price))
                            raw_lat.append(time.perf_counter() - t)
                        fp_lat = []
                        for i in range(orders):
                            t = time.perf_counter()
                            await fp.route(f"b{r}-{i}", SYMBOL, Side.BUY, QTY, kind=OrderKind.LIMIT, limit_price=price)
                            fp_lat.append(time.perf_counter() - t)
                        tmp_lat = []
                        for i in range(max(orders // 3, 20)):
                            req = CexOrderRequest(
                                request_id=f"b{r}-{i}",
                                leg=CexExecuteInput(
                                    step="leg", symbol=SYMBOL, side=Side.BUY, qty=QTY, limit_price=price, kind="limit"
                                ),
                            )
                            t = time.perf_counter()
                            handle = await client.start_workflow(
                                "CexOrder", req, id=f"cex-{r}-{i}", task_queue=queue, result_type=CexExecution
                            )
                            await handle.result()
                            tmp_lat.append(time.perf_counter() - t)
                        runs = (
                            Run("raw ccxt create_order", orders, sum(raw_lat), raw_lat),
                            Run("fast path route", orders, sum(fp_lat), fp_lat),
                            Run("Temporal CexOrder workflow", len(tmp_lat), sum(tmp_lat), tmp_lat),
                        )
                        results.append(runs)
                        print(f"round {r + 1}/{rounds}")
                        for run in runs:
                            print("  " + run.row())
                await fp.close()
            finally:
                await raw.close()
                fastpath.stop()

    def med(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    names = [run.name for run in results[0]]
    p50 = [med([rs[i].p50_ms for rs in results]) for i in range(3)]
    p99 = [med([rs[i].p99_ms for rs in results]) for i in range(3)]
    print(f"median of {rounds} rounds ({orders} orders each; Temporal {max(orders // 3, 20)}):")
    for name, a, b in zip(names, p50, p99, strict=True):
        print(f"  {name:<30} p50 {a:7.2f} ms  p99 {b:7.2f} ms")
    print(
        f"  fast path / raw ccxt: p50 {p50[1] / p50[0]:.2f}x, p99 {p99[1] / p99[0]:.2f}x "
        f"(goal: p99 < 10 ms: {'met' if p99[1] < 10 else 'NOT met'}; within 1.5x: "
        f"{'met' if p99[1] / p99[0] <= 1.5 else 'NOT met'})"
    )
    print(f"  Temporal / fast path: p50 {p50[2] / p50[1]:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-fsync", action="store_true", help="journal without fdatasync (to see its cost)")
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.rounds, fsync=not args.no_fsync))
