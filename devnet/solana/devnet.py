"""The Solana node as a devnet service: spawned as ``python -m devnet.solana``, waited for,
seeded over RPC (SOL for the dev accounts, the USDC and T22 mints, tokens for the dev
signers), and described as the ``solana`` section of the devnet's state file."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from connectors.solana.client import SolanaClient
from connectors.solana.signer import LocalKeypairSigner
from crosslane.domain.solana import SolanaCluster, SolanaMint
from devnet.services import spawn_service, wait_service
from devnet.solana.accounts import DEV_SIGNER_INDEXES, MINT_AUTHORITY, dev_keypair
from devnet.solana.node import DEFAULT_BLOCKHASH_VALIDITY
from devnet.solana.seed import seed
from devnet.state import ProcessInfo

CLUSTER = "solana-devnet"
DEFAULT_PORT = 8899  # the port a local solana-test-validator answers on
SLOT_MS = 50


def probe_health(url: str, timeout: float) -> None:
    with urllib.request.urlopen(f"{url}/health", timeout=timeout) as resp:
        resp.read()


def spawn_node(
    port: int,
    log: Path,
    detached: bool,
    *,
    slot_ms: float = SLOT_MS,
    blockhash_validity: int = DEFAULT_BLOCKHASH_VALIDITY,
) -> ProcessInfo:
    args = ["--port", str(port), "--slot-ms", str(slot_ms), "--blockhash-validity", str(blockhash_validity)]
    return spawn_service("solana", "devnet.solana", args, port, log, detached, chain=CLUSTER)


def wait_node(info: ProcessInfo, timeout: float) -> None:
    wait_service(info, probe_health, "solana node", timeout)


async def seed_cluster(url: str, blockhash_validity: int = DEFAULT_BLOCKHASH_VALIDITY) -> SolanaCluster:
    """Fund the dev accounts, create the mints, give each dev signer tokens; the cluster's
    registry entry (addresses and decimals only)."""
    authority = LocalKeypairSigner(dev_keypair(MINT_AUTHORITY))
    wallets = [dev_keypair(i).pubkey() for i in DEV_SIGNER_INDEXES]
    async with SolanaClient(url) as client:
        mints = await seed(client, authority, wallets)
    return SolanaCluster(
        name=CLUSTER,
        rpc_url=url,
        mints={
            symbol: SolanaMint(symbol=symbol, mint=m.mint, decimals=m.decimals, token_program=m.token_program)
            for symbol, m in mints.items()
        },
        blockhash_validity=blockhash_validity,
    )
