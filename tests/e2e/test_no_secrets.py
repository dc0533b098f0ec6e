"""Keys and keystore passwords never reach workflow histories or worker logs."""

from __future__ import annotations

import secrets
from pathlib import Path

from eth_account import Account
from temporalio.api.history.v1 import History

from connectors.evm.signer import write_keystore
from crosslane.domain.recovery import RecoveryRequest
from crosslane.domain.tx import TxOutcome
from tests.e2e.test_tx_lifecycle import request_for
from tests.support.stack import Stack, crosslane_client, temporal_client, unique_queue, worker_process


def secret_forms(secret: str) -> list[bytes]:
    """The ways a secret could be spelled into a payload or a log line."""
    bare = secret.removeprefix("0x")
    return [f.encode() for f in {secret, bare, bare.lower(), bare.upper(), "0x" + bare.lower()}]


async def test_no_key_or_password_in_any_history_or_log(stack: Stack, tmp_path: Path) -> None:
    account = stack.fund_signer()  # funded on-chain; its key goes only into an encrypted keystore
    key = stack.signer_keys.pop(account.address)
    password = secrets.token_urlsafe(16)
    keystore = tmp_path / "keystore"
    write_keystore(key, password, keystore)
    (tmp_path / "password").write_text(password)
    queue = unique_queue("secrets")
    worker = worker_process(
        stack,
        queue,
        tmp_path / "worker.log",
        CROSSLANE_SIGNER_KEYS="",
        CROSSLANE_KEYSTORE_DIR=str(keystore),
        CROSSLANE_KEYSTORE_PASSWORD_FILE=str(tmp_path / "password"),
    )
    try:
        await worker.wait_polling()
        client = await crosslane_client(stack, queue)
        result = await (
            await client.start_tx(request_for(account.address, account.address, unique_queue("s")))
        ).result()
        assert result.outcome is TxOutcome.CONFIRMED
        recovery = await client.start_recovery(
            RecoveryRequest(chain="devnet-a", signer=account.address, max_fee_per_gas_cap=10**11), run_key="secrets"
        )
        await recovery.result()
    finally:
        worker.stop()

    forbidden = secret_forms(key) + [password.encode()]
    forbidden += [f for k in stack.signer_keys.values() for f in secret_forms(k)]
    temporal = await temporal_client(stack)
    checked: set[str] = set()
    async for execution in temporal.list_workflows():
        history = await temporal.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        raw = History(events=history.events).SerializeToString()
        leaked = [f for f in forbidden if f in raw]
        assert not leaked, f"a secret is in the history of {execution.id}"
        checked.add(execution.id)
    assert {f"tx-{result.request_id}", recovery.id} <= checked, "this test's own runs must have been checked"
    log = (tmp_path / "worker.log").read_bytes()
    assert not [f for f in forbidden if f in log], "a secret is in the worker log"
    assert Account.from_key(key).address == account.address
