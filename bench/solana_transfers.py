"""SOL transfers on the devnet's Solana node: raw solana-py send + confirm vs the connector,
and vs SolanaTransaction workflows through Temporal, in the same run on the same node.

    .venv/bin/python -m bench.solana_transfers [--count 200] [--concurrency 20] [--poll-ms 5]

A sandbox (Temporal dev server, devnet with its Solana node as its own process, 50 ms
slots as in ``dev up``) serves every path. Sequential series, at ``processed`` and then at
``confirmed`` (one slot later on this node, so bounded below by the slot time): raw
(build, sign, ``send_raw_transaction``, ``confirm_transaction``) and the connector
(priority-fee policy from ``getRecentPrioritizationFees``, ``sign_transaction``,
``SolanaClient.send_and_confirm``). Then the same ``count`` transfers with ``concurrency``
in flight at ``confirmed``: raw solana-py, and one SolanaTransaction workflow per transfer
(plan, signed bytes stored in the ledger before send, send, confirm by a heartbeating
activity) on a worker in its own process. Latency is per transfer, to the confirmed
result; the ratio is the price of durability.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Commitment
from solana.rpc.models import TxOpts
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from bench.stats import Run
from connectors.solana.client import CommitmentLevel, SolanaClient
from connectors.solana.fees import PriorityFeePolicy
from connectors.solana.signer import LocalKeypairSigner
from connectors.solana.transactions import SOL_TRANSFER_COMPUTE_UNITS, sign_transaction, sol_transfer
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.solana import SolTransferRequest
from crosslane.ledger import Ledger
from devnet.sandbox import Sandbox, WorkerProcess, sandbox
from devnet.solana.seed import airdrop

LAMPORTS = 1_000_000


async def raw_series(url: str, sender: Keypair, count: int, commitment: CommitmentLevel, poll_s: float) -> Run:
    recipient = Keypair().pubkey()
    latencies = []
    started = time.perf_counter()
    async with AsyncClient(url, commitment=Commitment(commitment)) as rpc:
        for i in range(count):
            t0 = time.perf_counter()
            latest = (await rpc.get_latest_blockhash()).value
            ix = transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=recipient, lamports=LAMPORTS + i))
            tx = VersionedTransaction(MessageV0.try_compile(sender.pubkey(), [ix], [], latest.blockhash), [sender])
            opts = TxOpts(skip_confirmation=True, preflight_commitment=Commitment(commitment))
            signature = (await rpc.send_raw_transaction(bytes(tx), opts)).value
            await rpc.confirm_transaction(
                signature, Commitment(commitment), poll_s, last_valid_block_height=latest.last_valid_block_height
            )
            latencies.append(time.perf_counter() - t0)
    return Run(f"raw solana-py ({commitment})", count, time.perf_counter() - started, latencies)


async def connector_series(
    client: SolanaClient, sender: LocalKeypairSigner, count: int, commitment: CommitmentLevel
) -> Run:
    recipient = Keypair().pubkey()
    policy = PriorityFeePolicy()
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        price = policy.price(await client.recent_priority_fees([sender.pubkey, recipient]))
        recent = await client.latest_blockhash(commitment)
        instructions = sol_transfer(sender.pubkey, recipient, LAMPORTS + i)
        tx = await sign_transaction(sender, instructions, recent, SOL_TRANSFER_COMPUTE_UNITS, price)
        await client.send_and_confirm(tx, commitment)
        latencies.append(time.perf_counter() - t0)
    return Run(f"connector ({commitment})", count, time.perf_counter() - started, latencies)


async def concurrently(count: int, concurrency: int, transfer: Callable[[int], Awaitable[None]]) -> list[float]:
    """Latency of each of ``count`` transfers, ``concurrency`` in flight at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def timed(i: int) -> float:
        async with gate:
            t0 = time.perf_counter()
            await transfer(i)
            return time.perf_counter() - t0

    return list(await asyncio.gather(*(timed(i) for i in range(count))))


async def raw_concurrent(url: str, sender: Keypair, count: int, concurrency: int, poll_s: float) -> Run:
    recipient = Keypair().pubkey()
    commitment = Commitment("confirmed")
    async with AsyncClient(url, commitment=commitment) as rpc:

        async def transfer(i: int) -> None:
            latest = (await rpc.get_latest_blockhash()).value
            ix = transfer_ix(sender, recipient, LAMPORTS + i)
            tx = VersionedTransaction(MessageV0.try_compile(sender.pubkey(), [ix], [], latest.blockhash), [sender])
            opts = TxOpts(skip_confirmation=True, preflight_commitment=commitment)
            signature = (await rpc.send_raw_transaction(bytes(tx), opts)).value
            await rpc.confirm_transaction(
                signature, commitment, poll_s, last_valid_block_height=latest.last_valid_block_height
            )

        started = time.perf_counter()
        latencies = await concurrently(count, concurrency, transfer)
    return Run("raw solana-py (confirmed)", count, time.perf_counter() - started, latencies)


def transfer_ix(sender: Keypair, recipient: object, lamports: int) -> object:
    return transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=recipient, lamports=lamports))


async def temporal_transactions(sb: Sandbox, sender: Keypair, count: int, concurrency: int, poll_ms: float) -> Run:
    queue = f"bench-sol-{secrets.token_hex(3)}"
    worker = WorkerProcess(sb.env(queue, CROSSLANE_SOLANA_KEYS=str(sender)), sb.home / f"worker-{queue}.log")
    recipient = str(Keypair().pubkey())
    try:
        await worker.wait_polling()
        client = CrosslaneClient(await connect_temporal(sb.settings(queue)), queue)

        async def transfer(i: int) -> None:
            request = SolTransferRequest(
                request_id=f"{queue}-{i}",
                signer=str(sender.pubkey()),
                recipient=recipient,
                amount=Decimal(LAMPORTS + i).scaleb(-9),
                commitment="confirmed",
                poll_interval_ms=max(10, int(poll_ms)),
            )
            await (await client.start_sol(request)).result()

        started = time.perf_counter()
        latencies = await concurrently(count, concurrency, transfer)
        return Run("Temporal SolanaTransaction", count, time.perf_counter() - started, latencies)
    finally:
        worker.stop()


async def run(count: int, concurrency: int, poll_ms: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp), solana=True) as sb:
            assert sb.devnet.solana is not None
            url = sb.devnet.solana.rpc_url
            Ledger(sb.db_url).migrate()  # the schema exists before the worker starts
            async with SolanaClient(url, poll_interval_s=poll_ms / 1000) as client:
                raw_sender, sender, durable_sender = Keypair(), LocalKeypairSigner(Keypair()), Keypair()
                for wallet in (raw_sender.pubkey(), sender.pubkey, durable_sender.pubkey()):
                    await airdrop(client, wallet, 1_000 * 10**9)
                print(f"{count} sequential SOL transfers, 50 ms slots, status polled every {poll_ms} ms")
                for commitment in ("processed", "confirmed"):
                    print((await raw_series(url, raw_sender, count, commitment, poll_ms / 1000)).row())
                    print((await connector_series(client, sender, count, commitment)).row())
            print(f"{count} SOL transfers at confirmed, {concurrency} in flight")
            raw = await raw_concurrent(url, raw_sender, count, concurrency, poll_ms / 1000)
            durable = await temporal_transactions(sb, durable_sender, count, concurrency, poll_ms)
            print(raw.row())
            print(durable.row())
            print(
                f"ratio (raw / Temporal): throughput {raw.per_second / durable.per_second:.2f}x, "
                f"p50 latency {durable.p50_ms / raw.p50_ms:.2f}x, p99 latency {durable.p99_ms / raw.p99_ms:.2f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--poll-ms", type=float, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency, args.poll_ms))


if __name__ == "__main__":
    main()
