"""Real components for tests: Temporal dev server, devnet, workers (in-process or as processes)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from temporalio.client import Client
from temporalio.worker import Worker

from activities.runtime import ChainRuntime
from connectors.evm.signer import LocalKeySigner, SignerRegistry
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.config import Settings
from crosslane.domain.chains import ChainRegistry
from crosslane.ledger import Ledger
from crosslane.registry import load_registry
from devnet.anvil import rpc_call
from devnet.sandbox import Sandbox, WorkerProcess
from workers.orchestrator import build_worker

ETH = 10**18


@dataclass
class Stack:
    """The session's sandbox plus the signers the tests funded (their keys go to workers)."""

    sandbox: Sandbox
    signer_keys: dict[str, str] = field(default_factory=dict)  # address -> key

    @property
    def temporal_address(self) -> str:
        return self.sandbox.temporal_address

    @property
    def db_url(self) -> str:
        return self.sandbox.db_url

    @cached_property
    def chains(self) -> ChainRegistry:
        """The chains as workers see them: from the registry file the devnet wrote."""
        return ChainRegistry.from_registry(load_registry(self.sandbox.registry_path))

    @property
    def anvil_urls(self) -> dict[str, str]:
        return {name: self.sandbox.devnet.anvil_url(name) for name in self.sandbox.devnet.chains}

    def settings(self, task_queue: str) -> Settings:
        return self.sandbox.settings(task_queue)

    def env(self, task_queue: str, **extra: str) -> dict[str, str]:
        return self.sandbox.env(task_queue, **{"CROSSLANE_SIGNER_KEYS": ",".join(self.signer_keys.values()), **extra})

    def fund_signer(self, wei: int = 1000 * ETH) -> LocalAccount:
        """A fresh key with ETH on every chain: tests never share a nonce sequence."""
        account = Account.from_key("0x" + secrets.token_hex(32))
        for url in self.anvil_urls.values():
            rpc_call(url, "anvil_setBalance", [account.address, hex(wei)])
        self.signer_keys[account.address] = account.key.hex()
        return account

    def anvil(self, chain: str, method: str, *params: object) -> object:
        return rpc_call(self.anvil_urls[chain], method, list(params))

    def ledger(self) -> Ledger:
        return Ledger(self.db_url)


def unique_queue(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def running_worker(
    stack: Stack, task_queue: str, chains: ChainRegistry | None = None
) -> AsyncIterator[tuple[Worker, ChainRuntime]]:
    """An in-process orchestrator worker with every funded signer's key."""
    client = await connect_temporal(stack.settings(task_queue))
    ledger = stack.ledger()
    runtime = ChainRuntime(
        ledger=ledger,
        chains=chains or stack.chains,
        signers=SignerRegistry([LocalKeySigner(k) for k in stack.signer_keys.values()]),
    )
    worker = build_worker(client, runtime, task_queue)
    async with worker:
        yield worker, runtime
    await runtime.close()


async def crosslane_client(stack: Stack, task_queue: str) -> CrosslaneClient:
    return CrosslaneClient(await connect_temporal(stack.settings(task_queue)), task_queue)


def worker_process(stack: Stack, task_queue: str, log: Path, **env: str) -> WorkerProcess:
    """A worker OS process with every funded signer's key (``env`` overrides)."""
    return WorkerProcess(stack.env(task_queue, **env), log)


async def temporal_client(stack: Stack) -> Client:
    return await connect_temporal(stack.settings("unused"))
