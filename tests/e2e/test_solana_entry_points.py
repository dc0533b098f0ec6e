"""SolanaTransaction started three ways — the SDK (test_solana_transaction), `crosslane sol
send`, `temporal workflow start` with plain JSON — and bad input refused with a clear message
and no side effect, whichever way it comes in."""

from __future__ import annotations

import json

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from connectors.solana.transactions import associated_token_address
from crosslane.domain.solana import SolOutcome, SolResult, SolStatus
from crosslane.embedded.temporal_server import temporal_binary
from tests.e2e.test_entry_points import BIN, run, temporal_start
from tests.e2e.test_solana_transaction import sol_request
from tests.support.solana_stack import LAMPORTS, SolanaStack
from tests.support.stack import crosslane_client, unique_queue

SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")  # an account, not a mint
# A PDA, not a wallet; fixed keys, so test ids match across pytest-xdist workers.
OFF_CURVE = str(
    associated_token_address(Keypair.from_seed(bytes(32)).pubkey(), Keypair.from_seed(bytes(range(32))).pubkey())
)


async def test_crosslane_sol_send_sol_and_usdc(solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = await solana_stack.fund_wallet(sol=5, tokens={"USDC": 50})
    recipient = str(Keypair().pubkey())
    queue = unique_queue("solcli")
    env = solana_stack.env(queue, COLUMNS="250")
    async with solana_stack.worker(queue, monkeypatch):
        for asset, amount in (("SOL", "0.75"), ("USDC", "3.000001")):
            rid = unique_queue("cli")
            argv = [str(BIN / "crosslane"), "sol", "send", "--from", str(sender.pubkey()), "--to", recipient]
            done = await run([*argv, "--amount", amount, "--asset", asset, "--id", rid], env=env)
            assert done.returncode == 0, done.stderr
            assert "confirmed" in done.stdout and f"sol-{rid}" in done.stdout
        status = await run([str(BIN / "crosslane"), "sol", "status", rid], env=env)
        assert status.returncode == 0 and "confirmed" in status.stdout, status.stdout + status.stderr
    assert await solana_stack.balance(recipient) == 750_000_000
    assert await solana_stack.token_balance(recipient, "USDC") == 3_000_001


async def test_temporal_cli_start_with_plain_json(solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = await solana_stack.fund_wallet(sol=5, tokens={"USDC": 50})
    recipient = str(Keypair().pubkey())
    queue = unique_queue("soltcli")
    results: list[SolResult] = []
    async with solana_stack.worker(queue, monkeypatch):
        client = await crosslane_client(solana_stack.stack, queue)
        for asset, amount in (("SOL", "1.5"), ("USDC", "20")):
            rid = unique_queue("json")
            payload = {"request_id": rid, "signer": str(sender.pubkey()), "recipient": recipient, "asset": asset}
            payload["amount"] = amount
            await temporal_start(solana_stack.stack, "SolanaTransaction", queue, f"sol-{rid}", payload)
            results.append(await client.sol_handle(rid).result())
        queried = await run(
            [
                str(temporal_binary()),
                "workflow",
                "query",
                "--address",
                solana_stack.stack.temporal_address,
                "--workflow-id",
                f"sol-{rid}",
                "--type",
                "status",
                "--output",
                "json",
            ]
        )
    assert [r.outcome for r in results] == [SolOutcome.CONFIRMED, SolOutcome.CONFIRMED]
    assert queried.returncode == 0, queried.stderr
    status = SolStatus.model_validate(json.loads(queried.stdout)["queryResult"][0])
    assert status.state == "confirmed" and status.attempts[0].signature == results[1].signature
    assert await solana_stack.balance(recipient) == 3 * LAMPORTS // 2
    assert await solana_stack.token_balance(recipient, "USDC") == 20_000_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "0OIl-not-base58"], "recipient: '0OIl-not-base58' is not a Solana address"),
        (["--to", OFF_CURVE], f"{OFF_CURVE} is off the ed25519 curve (a program-derived address), not a wallet"),
        (["--amount", "0"], "amount must be positive, got 0"),
        (["--amount", "-1"], "amount must be positive, got -1"),
        (["--amount", "0.0000000001"], "0.0000000001 has more than 9 decimal places (SOL has 9 decimals)"),
    ],
)
async def test_cli_refuses_bad_input_in_one_line(solana_stack: SolanaStack, args: list[str], message: str) -> None:
    sender = await solana_stack.fund_wallet(sol=1)
    before = await solana_stack.balance(sender.pubkey())
    base = {"--from": str(sender.pubkey()), "--to": str(Keypair().pubkey()), "--amount": "1"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [str(BIN / "crosslane"), "sol", "send", *[x for kv in base.items() for x in kv], "--id", unique_queue("b")]
    done = await run(argv, env=solana_stack.env(unique_queue(), COLUMNS="300"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert await solana_stack.balance(sender.pubkey()) == before


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"signer": "not*base58"}, "signer: 'not*base58' is not a Solana address"),
        ({"recipient": OFF_CURVE}, "is off the ed25519 curve"),
        ({"amount": "-3"}, "amount: Input should be greater than 0"),
        ({"private_key": "4" * 88}, "requests must not carry secrets (field 'private_key')"),
        ({"secret_key": [7] * 64}, "requests must not carry secrets (field 'secret_key')"),
        ({"asset": "USDC", "amount": "1.0000001"}, "amount: 1.0000001 has more than 6 decimal places (the mint has 6"),
        ({"asset": "NOPE"}, "asset: unknown 'NOPE' on solana-devnet; known: SOL, T22, USDC"),
        ({"asset": str(Keypair().pubkey())}, "asset: unknown mint on solana-devnet (mint: no account at"),
        ({"asset": str(SYSTEM_PROGRAM)}, "is not an SPL Token or Token-2022 mint"),
    ],
)
async def test_bad_json_fails_the_run_with_invalid_request_and_no_side_effect(
    solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch, patch: dict[str, object], message: str
) -> None:
    sender = await solana_stack.fund_wallet(sol=1, tokens={"USDC": 5})
    before = await solana_stack.balance(sender.pubkey())
    queue = unique_queue("solbad")
    rid = unique_queue("badjson")
    payload = {"request_id": rid, "signer": str(sender.pubkey()), "recipient": str(Keypair().pubkey()), "amount": "1"}
    async with solana_stack.worker(queue, monkeypatch):
        await temporal_start(solana_stack.stack, "SolanaTransaction", queue, f"sol-{rid}", {**payload, **patch})
        client = await crosslane_client(solana_stack.stack, queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await client.sol_handle(rid).result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest", cause
    assert message in cause.message
    for secret in ("4" * 88, "[7, 7"):
        assert secret not in cause.message
    assert solana_stack.stack.ledger().get_operation(f"sol-{rid}", "sol") is None, "nothing recorded for bad input"
    assert await solana_stack.balance(sender.pubkey()) == before
    assert await solana_stack.token_balance(sender.pubkey(), "USDC") == 5_000_000


async def test_sdk_refuses_a_signer_the_worker_has_no_key_for(
    solana_stack: SolanaStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = Keypair()
    queue = unique_queue("nokey")
    request = sol_request(stranger, Keypair(), "1")
    async with solana_stack.worker(queue, monkeypatch):
        client = await crosslane_client(solana_stack.stack, queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await (await client.start_sol(request)).result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "SignerUnavailable"
    assert f"no key for Solana signer {stranger.pubkey()}" in cause.message
    assert solana_stack.stack.ledger().get_operation(request.workflow_id, "sol") is None
