"""Transfers through TransactionLifecycle on Temporal vs raw web3 send-and-wait, same run.

    .venv/bin/python -m bench.tx_lifecycle [--count 200] [--rounds 3] [--storage wal|default|both]
        [--path regular --path local --path settle] [--workers 1]

Both paths send the same ``count`` ETH transfers on a devnet chain, all concurrently, and
poll for receipts every 50 ms. Raw web3 signs with a pre-assigned nonce, sends, and waits
for the receipt; Crosslane starts one workflow per transfer (ledger nonce, signed bytes
stored before broadcast, receipt and confirmation watched by an activity) on a worker in
its own process (``--workers N``: N processes on the same queue). Latency is per transfer
(start to confirmed result); the ratio is the price of durability.

``--path`` (repeatable; default all three) runs the Temporal side once per round per path:
``regular``, a worker with ``CROSSLANE_TX_LOCAL_STEPS=0`` (every step a regular activity, the
lifecycle before issue 15), ``local`` (``CROSSLANE_TX_SEND_SETTLES=0``: the short steps as local
activities, attempt 0 prepared and sent in one, then ``tx_wait``) and ``settle`` (today's
default: the send also looks for the receipt once and settles there when it is already
mined); the order alternates between rounds, and each path is compared with the first.
``--storage`` picks the dev server's SQLite settings: ``wal`` (``crosslane dev up``'s),
``default`` (SQLite's defaults, before), ``both``. Each
Temporal run prints the CPU seconds of the dev server, the workers, anvil and this client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from pathlib import Path

from eth_account import Account
from web3 import AsyncHTTPProvider, AsyncWeb3

from bench.cpu import CpuMeter
from bench.stats import Run
from bench.storage import STORAGES, servers
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest
from crosslane.domain.tx_steps import LOCAL_STEPS_ENV, SEND_SETTLES_ENV
from crosslane.ledger import Ledger
from devnet.anvil import rpc_call
from devnet.sandbox import Sandbox, WorkerProcess, sandbox

CHAIN = "devnet-a"
GWEI = 10**9
POLL_S = 0.05


def funded_key(url: str) -> str:
    key = "0x" + secrets.token_hex(32)
    rpc_call(url, "anvil_setBalance", [Account.from_key(key).address, hex(10**24)])
    return key


async def raw_web3(url: str, chain_id: int, count: int, to: str) -> Run:
    account = Account.from_key(funded_key(url))
    w3 = AsyncWeb3(AsyncHTTPProvider(url))
    base = (await w3.eth.fee_history(1, "latest", []))["baseFeePerGas"][-1]

    async def transfer(nonce: int) -> float:
        started = time.perf_counter()
        tx = {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce,
            "to": to,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 2 * base + GWEI // 10,
            "maxPriorityFeePerGas": GWEI // 10,
        }
        tx_hash = await w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        await w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=POLL_S)
        return time.perf_counter() - started

    started = time.perf_counter()
    latencies = await asyncio.gather(*(transfer(n) for n in range(count)))
    wall = time.perf_counter() - started
    await w3.provider.disconnect()
    return Run("raw web3 send + wait", count, wall, list(latencies))


def cpu_groups(sb: Sandbox, workers: list[WorkerProcess]) -> dict[str, list[int]]:
    """The processes a Temporal run spends CPU in, by component."""
    anvils = [p.pid for p in sb.devnet.processes.values() if p.kind == "anvil"]
    return {
        "dev server": [sb.temporal_pid],
        "workers": [w.proc.pid for w in workers],
        "anvil": anvils,
        "client": [os.getpid()],
    }


async def temporal_lifecycles(
    sb: Sandbox, url: str, count: int, to: str, label: str, workers: int = 1, path: str = "local"
) -> tuple[Run, CpuMeter]:
    key = funded_key(url)
    signer = Account.from_key(key).address
    queue = f"bench-{secrets.token_hex(3)}"
    switches = {LOCAL_STEPS_ENV: "0" if path == "regular" else "1", SEND_SETTLES_ENV: "1" if path == "settle" else "0"}
    env = sb.env(queue, CROSSLANE_SIGNER_KEYS=key, **switches)
    procs = [WorkerProcess(env, sb.home / f"worker-{queue}-{n}.log") for n in range(workers)]
    try:
        for worker in procs:
            await worker.wait_polling(timeout_s=180)
        meter = CpuMeter(cpu_groups(sb, procs))
        client = CrosslaneClient(await connect_temporal(sb.settings(queue)), queue)

        async def transfer(i: int) -> float:
            started = time.perf_counter()
            request = TxRequest(
                request_id=f"{queue}-{i}",
                chain=CHAIN,
                signer=signer,
                to=to,
                value=1,
                fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
                policy=ReplacementPolicy(poll_interval_ms=int(POLL_S * 1000)),
            )
            await (await client.start_tx(request)).result()
            return time.perf_counter() - started

        meter.start()
        started = time.perf_counter()
        latencies = await asyncio.gather(*(transfer(i) for i in range(count)))
        wall = time.perf_counter() - started
        meter.stop()
        return Run(f"Temporal, {label}", count, wall, list(latencies)), meter
    finally:
        for worker in procs:
            worker.stop()


def median_of(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


PATHS = ("regular", "local", "settle")
GOAL_PER_S, GOAL_P99_MS = 50.0, 5_000.0  # issue 15, at 200 in flight


async def main(count: int, rounds: int, storage: str, workers: int, paths: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as sb, servers(sb, storage) as by_storage:
            url = sb.devnet.anvil_url(CHAIN)
            chain_id = sb.devnet.chains[CHAIN].chain_id
            to = Account.from_key(funded_key(url)).address
            # The ledger's schema exists before the first worker starts.
            Ledger(sb.db_url).migrate()
            raws: list[Run] = []
            durables: dict[tuple[str, str], list[Run]] = {(s, p): [] for s in by_storage for p in paths}
            for r in range(rounds):
                print(f"round {r + 1}/{rounds}, {os.getloadavg()[0]:.1f} load average")
                raw = await raw_web3(url, chain_id, count, to)
                raws.append(raw)
                print("  " + raw.row())
                for name, server in by_storage.items():
                    for path in paths if r % 2 == 0 else paths[::-1]:
                        label = f"{name}, {path}"
                        run, meter = await temporal_lifecycles(server, url, count, to, label, workers, path)
                        durables[(name, path)].append(run)
                        print("  " + run.row())
                        print("    " + meter.row(run.wall_s, count))
            raw_tps = median_of([r.per_second for r in raws])
            raw_p50 = median_of([r.p50_ms for r in raws])
            raw_p99 = median_of([r.p99_ms for r in raws])
            print(f"median of {rounds} rounds, {count} transfers each, {workers} worker process(es):")
            print(f"  raw web3:  {raw_tps:.1f} transfers/s, p50 {raw_p50:.1f} ms, p99 {raw_p99:.1f} ms")
            for name in by_storage:
                base_tps = base_p50 = base_p99 = 0.0
                for path in paths:
                    runs = durables[(name, path)]
                    tps = median_of([d.per_second for d in runs])
                    p50 = median_of([d.p50_ms for d in runs])
                    p99 = median_of([d.p99_ms for d in runs])
                    if path == paths[0]:
                        base_tps, base_p50, base_p99 = tps, p50, p99
                    met = "met" if tps >= GOAL_PER_S and p99 <= GOAL_P99_MS else "not met"
                    print(
                        f"  Temporal ({name} SQLite, {path} steps): {tps:.1f} lifecycles/s, "
                        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal {GOAL_PER_S:.0f}/s at p99 <= "
                        f"{GOAL_P99_MS / 1000:.0f} s: {met})"
                    )
                    print(
                        f"    vs {paths[0]} steps: throughput {tps / base_tps:.2f}x, p50 {p50 / base_p50:.2f}x, "
                        f"p99 {p99 / base_p99:.2f}x; raw / this: throughput {raw_tps / tps:.2f}x"
                    )
            if len(by_storage) == 2:
                for path in paths:
                    before = median_of([d.per_second for d in durables[("default", path)]])
                    after = median_of([d.per_second for d in durables[("wal", path)]])
                    print(f"  WAL / default throughput, {path} steps: {after / before:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storage", choices=["both", *STORAGES], default="wal")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--path", action="append", choices=PATHS, help="default: all")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds, args.storage, args.workers, args.path or list(PATHS)))
