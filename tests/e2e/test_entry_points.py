"""TransactionLifecycle started three ways: the SDK (see test_tx_lifecycle), `crosslane tx send`,
and `temporal workflow start` with plain JSON."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from crosslane.domain.tx import TxOutcome, TxResult, TxStatus
from crosslane.embedded.temporal_server import temporal_binary
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

BIN = Path(sys.executable).parent


async def run(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, env=env, timeout=timeout)


async def temporal_start(stack: Stack, workflow_type: str, queue: str, workflow_id: str, payload: object) -> None:
    """``temporal workflow start`` with plain JSON, as an operator would type it."""
    await temporal_start_with(stack, workflow_type, queue, workflow_id, "--input", json.dumps(payload))


async def temporal_start_with(stack: Stack, workflow_type: str, queue: str, workflow_id: str, *args: str) -> None:
    """``temporal workflow start`` with whatever input flags (``args``) an operator might type."""
    started = await run(
        [
            str(temporal_binary()),
            "workflow",
            "start",
            "--address",
            stack.temporal_address,
            "--type",
            workflow_type,
            "--task-queue",
            queue,
            "--workflow-id",
            workflow_id,
            *args,
        ]
    )
    assert started.returncode == 0, started.stderr


async def test_crosslane_tx_send(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue("cli")
    rid = unique_queue("cli-send")
    async with running_worker(stack, queue):
        done = await run(
            [
                str(BIN / "crosslane"),
                "tx",
                "send",
                "--chain",
                "devnet-b",
                "--from",
                sender.address,
                "--to",
                recipient.address,
                "--value-wei",
                "777",
                "--id",
                rid,
            ],
            env=stack.env(queue, COLUMNS="200"),
        )
        assert done.returncode == 0, done.stderr
        assert "confirmed" in done.stdout
        status = await run([str(BIN / "crosslane"), "tx", "status", rid], env=stack.env(queue, COLUMNS="200"))
        assert status.returncode == 0 and "confirmed" in status.stdout
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls["devnet-b"]))
    assert w3.eth.get_balance(recipient.address) == 1000 * 10**18 + 777


async def test_temporal_cli_start_with_plain_json(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue("tcli")
    rid = unique_queue("tcli")
    payload = {
        "request_id": rid,
        "chain": "devnet-a",
        "signer": sender.address,
        "to": recipient.address,
        "value": "1000000000000000000",
        "fees": {"max_fee_per_gas_cap": 100_000_000_000},
    }
    async with running_worker(stack, queue):
        await temporal_start(stack, "TransactionLifecycle", queue, f"tx-{rid}", payload)
        client = await crosslane_client(stack, queue)
        result: TxResult = await client.tx_handle(rid).result()
        queried = await run(
            [
                str(temporal_binary()),
                "workflow",
                "query",
                "--address",
                stack.temporal_address,
                "--workflow-id",
                f"tx-{rid}",
                "--type",
                "status",
                "--output",
                "json",
            ]
        )
    assert result.outcome is TxOutcome.CONFIRMED
    assert queried.returncode == 0, queried.stderr
    status = TxStatus.model_validate(json.loads(queried.stdout)["queryResult"][0])
    assert status.state == "confirmed" and status.attempts[0].tx_hash == result.mined_tx_hash
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls["devnet-a"]))
    assert w3.eth.get_balance(recipient.address) == 1001 * 10**18
