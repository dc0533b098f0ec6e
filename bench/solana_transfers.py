"""SOL transfers on the devnet's Solana node: raw solana-py send + confirm vs the connector.

    .venv/bin/python -m bench.solana_transfers [--count 200] [--slot-ms 50] [--poll-ms 5]

The node runs as its own process (``python -m devnet.solana``), as in ``dev up``. Each path
sends ``count`` transfers one after another and waits for each at ``processed`` and then,
in a second series, at ``confirmed`` (one slot later on this node, so its latency is
bounded below by the slot time). Raw: build, sign, ``send_raw_transaction``,
``confirm_transaction``. Connector: priority-fee policy from ``getRecentPrioritizationFees``,
``sign_transaction``, ``SolanaClient.send_and_confirm``. Latency is per transfer, from
fetching the blockhash to the confirmed result.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import urllib.request
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
from devnet.anvil import find_free_port, stop_pid
from devnet.services import spawn_service, wait_service
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


async def run(count: int, slot_ms: float, poll_ms: float) -> None:
    port = find_free_port()
    log = Path(tempfile.mkdtemp(prefix="solana-bench-")) / "solana.log"
    info = spawn_service("solana", "devnet.solana", ["--port", str(port), "--slot-ms", str(slot_ms)], port, log, False)
    try:
        wait_service(info, lambda url, timeout: urllib.request.urlopen(f"{url}/health", timeout=timeout), "solana", 30)
        async with SolanaClient(info.url, poll_interval_s=poll_ms / 1000) as client:
            raw_sender, sender = Keypair(), LocalKeypairSigner(Keypair())
            for wallet in (raw_sender.pubkey(), sender.pubkey):
                await airdrop(client, wallet, 1_000 * 10**9)
            print(f"{count} sequential SOL transfers, {slot_ms} ms slots, status polled every {poll_ms} ms")
            for commitment in ("processed", "confirmed"):
                print((await raw_series(info.url, raw_sender, count, commitment, poll_ms / 1000)).row())
                print((await connector_series(client, sender, count, commitment)).row())
    finally:
        stop_pid(info.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--slot-ms", type=float, default=50)
    parser.add_argument("--poll-ms", type=float, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.slot_ms, args.poll_ms))


if __name__ == "__main__":
    main()
