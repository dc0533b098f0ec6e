"""Solana secret keys never reach workflow histories or worker logs: the worker holds them
(``CROSSLANE_SOLANA_KEYS``), requests carry addresses only."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from solders.keypair import Keypair
from temporalio.api.history.v1 import History

from crosslane.domain.solana import SolOutcome
from tests.e2e.test_solana_transaction import sol_request
from tests.support.solana import set_faults
from tests.support.solana_stack import SolanaStack
from tests.support.stack import crosslane_client, temporal_client, unique_queue


def keypair_forms(keypair: Keypair) -> list[bytes]:
    """The ways a Solana secret key could be spelled into a payload or a log line."""
    secret = bytes(keypair)  # 64 bytes: the 32-byte seed, then the public key
    seed = secret[:32]
    forms = {str(keypair), base64.b64encode(secret).decode(), base64.b64encode(seed).decode(), seed.hex()}
    forms |= {json.dumps(list(secret)), json.dumps(list(secret), separators=(",", ":"))}
    return [f.encode() for f in forms]


async def test_no_secret_key_in_any_history_or_log(solana_stack: SolanaStack, tmp_path: Path) -> None:
    sender = await solana_stack.fund_wallet(sol=5, tokens={"USDC": 10})
    queue = unique_queue("solsecrets")
    worker = solana_stack.worker_process(queue, tmp_path / "worker.log")
    await set_faults(solana_stack.url, drop_sends=1)  # a re-signed run too
    try:
        await worker.wait_polling()
        client = await crosslane_client(solana_stack.stack, queue)
        handles = [
            await client.start_sol(sol_request(sender, Keypair(), "1")),
            await client.start_sol(sol_request(sender, Keypair(), "2", asset="USDC")),
        ]
        results = [await h.result() for h in handles]
    finally:
        await set_faults(solana_stack.url)
        worker.stop()
    assert all(r.outcome is SolOutcome.CONFIRMED for r in results)
    assert sorted(len(r.attempts) for r in results) == [1, 2]

    forbidden = [f for secret in solana_stack.keys.values() for f in keypair_forms(Keypair.from_base58_string(secret))]
    temporal = await temporal_client(solana_stack.stack)
    checked: set[str] = set()
    async for execution in temporal.list_workflows():
        history = await temporal.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        raw = History(events=history.events).SerializeToString()
        assert not [f for f in forbidden if f in raw], f"a secret key is in the history of {execution.id}"
        checked.add(execution.id)
    assert {h.id for h in handles} <= checked, "this test's own runs must have been checked"
    log = (tmp_path / "worker.log").read_bytes()
    assert b"worker on" in log
    assert not [f for f in forbidden if f in log], "a secret key is in the worker log"
