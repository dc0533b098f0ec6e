"""Transfers through TransactionLifecycle on Temporal vs raw web3 send-and-wait, same run.

    .venv/bin/python -m bench.tx_lifecycle [--count 200] [--rounds 3]

Both paths send the same ``count`` ETH transfers on a devnet chain, all concurrently, and
poll for receipts every 50 ms. Raw web3 signs with a pre-assigned nonce, sends, and waits
for the receipt; Crosslane starts one workflow per transfer (ledger nonce, signed bytes
stored before broadcast, receipt and confirmation watched by an activity) on a worker in
its own process. Latency is per transfer (start to confirmed result); the ratio is the
price of durability.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path

from eth_account import Account
from web3 import AsyncHTTPProvider, AsyncWeb3

from bench.stats import Run
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest
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


async def temporal_lifecycles(sb: Sandbox, url: str, count: int, to: str, round_no: int) -> Run:
    key = funded_key(url)
    signer = Account.from_key(key).address
    queue = f"bench-{round_no}-{secrets.token_hex(3)}"
    worker = WorkerProcess(sb.env(queue, CROSSLANE_SIGNER_KEYS=key), sb.home / f"worker-{queue}.log")
    try:
        await worker.wait_polling()
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

        started = time.perf_counter()
        latencies = await asyncio.gather(*(transfer(i) for i in range(count)))
        return Run("Temporal TransactionLifecycle", count, time.perf_counter() - started, list(latencies))
    finally:
        worker.stop()


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as sb:
            url = sb.devnet.anvil_url(CHAIN)
            chain_id = sb.devnet.chains[CHAIN].chain_id
            to = Account.from_key(funded_key(url)).address
            # The ledger's schema exists before the first worker starts.
            Ledger(sb.db_url).migrate()
            runs: list[tuple[Run, Run]] = []
            for r in range(rounds):
                raw = await raw_web3(url, chain_id, count, to)
                durable = await temporal_lifecycles(sb, url, count, to, r)
                runs.append((raw, durable))
                print(f"round {r + 1}/{rounds}")
                print("  " + raw.row())
                print("  " + durable.row())
            raw_tps = sorted(r.per_second for r, _ in runs)[len(runs) // 2]
            dur_tps = sorted(d.per_second for _, d in runs)[len(runs) // 2]
            raw_p50 = sorted(r.p50_ms for r, _ in runs)[len(runs) // 2]
            dur_p50 = sorted(d.p50_ms for _, d in runs)[len(runs) // 2]
            dur_p99 = sorted(d.p99_ms for _, d in runs)[len(runs) // 2]
            raw_p99 = sorted(r.p99_ms for r, _ in runs)[len(runs) // 2]
            print(f"median of {rounds} rounds, {count} transfers each:")
            print(f"  raw web3:  {raw_tps:.1f} transfers/s, p50 {raw_p50:.1f} ms, p99 {raw_p99:.1f} ms")
            print(f"  Temporal:  {dur_tps:.1f} lifecycles/s, p50 {dur_p50:.1f} ms, p99 {dur_p99:.1f} ms")
            print(
                f"  ratio (raw / Temporal): throughput {raw_tps / dur_tps:.2f}x, p50 latency {dur_p50 / raw_p50:.2f}x"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds))
