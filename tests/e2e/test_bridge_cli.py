"""BridgeTransfer from the command line: `crosslane bridge quote|send|status|refund`, the real
CLI as a subprocess against the devnet's real Wormhole and Across contracts."""

from __future__ import annotations

import asyncio
import re
import subprocess

import pytest

from tests.e2e.test_entry_points import BIN, run
from tests.support.bridge import across_output_amount, holding
from tests.support.dex import deal, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(120)


async def bridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await run([str(BIN / "crosslane"), "bridge", *args], env=env)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


async def test_crosslane_bridge_quote_send_status_refund(bridge_stack: Stack) -> None:
    stack = bridge_stack
    signer, recipient = stack.fund_signer(), stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 1_500 * 10**6)
    queue, rid = unique_queue("bridgecli"), unique_queue("bridgecli")
    env = stack.env(queue, COLUMNS="250")

    # Neither needs a worker: the quote reads the chains and the routes' APIs, the bad
    # request is refused before anything is started.
    quoted, same_chain = await asyncio.gather(
        bridge(env, "quote", "1500", "USDC", "--from", "devnet-a", "--to", "devnet-b"),
        bridge(env, "send", "1", "USDC", "--from", "devnet-a", "--to", "devnet-a", "--signer", signer.address),
    )
    assert quoted.returncode == 0, quoted.stderr
    verdicts: dict[str, str] = {}
    for route in ("wormhole", "across"):
        row = re.search(rf"│ {route} +│ .*│ (chosen|eligible|excluded)", quoted.stdout)
        assert row, quoted.stdout
        verdicts[route] = row[1]
    chosen = re.search(
        r"^chosen: (wormhole|across) \(\1: total cost [\d.]+ USDC plus waiting ~\d+ s scores [\d.]+ USDC; (\w+)",
        quoted.stdout,
        re.M,
    )
    assert chosen, quoted.stdout
    other = {"wormhole": "across", "across": "wormhole"}[chosen[1]]
    assert chosen[2] == other and verdicts[chosen[1]] == "chosen" and verdicts[other] != "chosen"
    assert same_chain.returncode == 2
    assert "source and destination are the same chain (devnet-a): nothing to bridge" in one_line_error(same_chain)

    async with running_worker(stack, queue):
        sent = await bridge(
            env, "send", "1500", "USDC", "--from", "devnet-a", "--to", "devnet-b", "--signer", signer.address,
            "--recipient", recipient.address, "--route", "across", "--id", rid,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr + sent.stdout
        result = await (await crosslane_client(stack, queue)).bridge_handle(rid).result()
        status, refund = await asyncio.gather(bridge(env, "status", rid), bridge(env, "refund", rid))

    assert f"workflow bridge-{rid} started" in sent.stdout
    assert re.search(r"completed via across: received 1499\.\d+ USDC to " + recipient.address, sent.stdout)
    assert result.deposit_tx in sent.stdout and result.completion_tx and result.completion_tx in sent.stdout
    assert re.search(r"stages: plan [\d.]+ s, approve [\d.]+ s, deposit [\d.]+ s", sent.stdout), sent.stdout
    owed = across_output_amount(stack, "devnet-a", result.deposit_tx)
    assert holding(stack, "devnet-b", "USDC", recipient.address) == owed == result.received
    assert holding(stack, "devnet-a", "USDC", signer.address) == 0

    assert status.returncode == 0, status.stderr
    assert f"bridge-{rid}: completed" in status.stdout
    assert result.deposit_tx in status.stdout and result.completion_tx in status.stdout
    # Every step's transaction by step (sent by the transfer itself, or by a child lifecycle).
    txs = re.search(r"^transactions +approve (0x[0-9a-f]{64}), deposit (0x[0-9a-f]{64})$", status.stdout, re.M)
    assert txs and txs[2] == result.deposit_tx, status.stdout
    assert w3_for(stack, "devnet-a").eth.get_transaction_receipt(txs[1])["status"] == 1

    assert refund.returncode == 2
    assert f"bridge-{rid} was already delivered: nothing to refund" in one_line_error(refund)

    # No worker left to answer the query of the closed run: its result tells.
    closed = await bridge(env, "status", rid)
    assert closed.returncode == 0, closed.stderr
    assert f"bridge-{rid}: completed" in closed.stdout and "from the run's result" in closed.stdout
    assert result.completion_tx in closed.stdout and result.reason and result.reason in closed.stdout
