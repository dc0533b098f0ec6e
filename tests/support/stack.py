"""Real components for tests: Temporal dev server, devnet, workers (in-process or as processes)."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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
from devnet.anvil import REPO_ROOT, rpc_call, spawn, stop_pid
from workers.orchestrator import build_worker

ETH = 10**18


@dataclass
class Stack:
    home: Path
    temporal_address: str
    devnet_state: Path
    db_url: str
    chains: ChainRegistry
    anvil_urls: dict[str, str]
    signer_keys: dict[str, str] = field(default_factory=dict)  # address -> key, for worker processes

    def settings(self, task_queue: str) -> Settings:
        return Settings(
            home=self.home,
            temporal_address=self.temporal_address,
            task_queue=task_queue,
            db_url_override=self.db_url,
            devnet_state_override=str(self.devnet_state),
        )

    def env(self, task_queue: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLANE_")}
        env.update(
            CROSSLANE_HOME=str(self.home),
            CROSSLANE_TEMPORAL_ADDRESS=self.temporal_address,
            CROSSLANE_TASK_QUEUE=task_queue,
            CROSSLANE_DB_URL=self.db_url,
            CROSSLANE_DEVNET_STATE=str(self.devnet_state),
            CROSSLANE_SIGNER_KEYS=",".join(self.signer_keys.values()),
            PYTHONPATH=str(REPO_ROOT),
        )
        env.update(extra)
        return env

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


class WorkerProcess:
    """``python -m workers.orchestrator`` as its own OS process, so a test can SIGKILL it."""

    def __init__(self, stack: Stack, task_queue: str, log: Path, **env: str) -> None:
        self.proc = spawn(
            [sys.executable, "-m", "workers.orchestrator"], detached=False, log_path=log,
            cwd=REPO_ROOT, env=stack.env(task_queue, **env),
        )
        self.log = log

    async def wait_polling(self, timeout_s: float = 30.0) -> None:
        """Until the worker has logged that it runs (its pollers start right after)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            if self.log.exists() and "worker on" in self.log.read_text():
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"worker not up:\n{self.log.read_text()[-3000:]}")

    async def wait_killed(self, timeout_s: float = 60.0) -> int:
        """Until the process dies (e.g. at a crash point); its exit code."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self.proc.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"worker did not die:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_pid(self.proc.pid)


async def temporal_client(stack: Stack) -> Client:
    return await connect_temporal(stack.settings("unused"))
