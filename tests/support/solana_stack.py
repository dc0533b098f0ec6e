"""A test stack whose devnet runs the Solana node: fresh funded wallets per test, their keys
for worker processes (``CROSSLANE_SOLANA_KEYS``), balances read on the node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from temporalio.worker import Worker

from activities.runtime import ChainRuntime
from connectors.solana.client import SolanaClient
from connectors.solana.signer import LocalKeypairSigner
from connectors.solana.transactions import associated_token_address
from crosslane.domain.solana import SolanaCluster
from devnet.sandbox import WorkerProcess
from devnet.solana.accounts import MINT_AUTHORITY, dev_keypair
from devnet.solana.seed import SeededMint, airdrop, mint_to
from tests.support.stack import Stack, running_worker

LAMPORTS = 10**9


@dataclass
class SolanaStack:
    stack: Stack
    keys: dict[str, str] = field(default_factory=dict)  # address -> base58 keypair

    @property
    def cluster(self) -> SolanaCluster:
        cluster = self.stack.sandbox.devnet.solana
        assert cluster is not None, "the sandbox was started without its Solana node"
        return cluster

    @property
    def url(self) -> str:
        return self.cluster.rpc_url

    def env(self, task_queue: str, **extra: str) -> dict[str, str]:
        return self.stack.env(task_queue, **{"CROSSLANE_SOLANA_KEYS": ",".join(self.keys.values()), **extra})

    def worker_process(self, task_queue: str, log: Path, **env: str) -> WorkerProcess:
        return WorkerProcess(self.env(task_queue, **env), log)

    @asynccontextmanager
    async def worker(
        self, task_queue: str, monkeypatch: pytest.MonkeyPatch
    ) -> AsyncIterator[tuple[Worker, ChainRuntime]]:
        """An in-process worker holding every funded wallet's key (through the environment,
        as a deployed worker gets them)."""
        monkeypatch.setenv("CROSSLANE_SOLANA_KEYS", ",".join(self.keys.values()))
        async with running_worker(self.stack, task_queue) as running:
            yield running

    async def fund_wallet(self, sol: int = 10, tokens: dict[str, int] | None = None) -> Keypair:
        """A fresh wallet with ``sol`` SOL and whole ``tokens`` by symbol (minted into its ATA)."""
        wallet = Keypair()
        authority = LocalKeypairSigner(dev_keypair(MINT_AUTHORITY))
        async with SolanaClient(self.url) as client:
            await airdrop(client, wallet.pubkey(), sol * LAMPORTS)
            for symbol, whole in (tokens or {}).items():
                m = self.cluster.mints[symbol]
                seeded = SeededMint(symbol=symbol, mint=m.mint, decimals=m.decimals, token_program=m.token_program)
                await mint_to(client, authority, seeded, wallet.pubkey(), whole * 10**m.decimals)
        self.keys[str(wallet.pubkey())] = str(wallet)
        return wallet

    async def balance(self, wallet: Pubkey | str) -> int:
        async with SolanaClient(self.url) as client:
            return await client.balance(Pubkey.from_string(str(wallet)))

    async def token_balance(self, owner: Pubkey | str, symbol: str) -> int:
        m = self.cluster.mints[symbol]
        ata = associated_token_address(
            Pubkey.from_string(str(owner)), Pubkey.from_string(m.mint), Pubkey.from_string(m.token_program)
        )
        async with SolanaClient(self.url) as client:
            return await client.token_balance(ata)

    async def landed(self, signature: str) -> bool:
        """Whether the node has ever executed ``signature`` (its whole history)."""
        async with SolanaClient(self.url) as client:
            return await client.status(signature, search_history=True) is not None
