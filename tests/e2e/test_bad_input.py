"""Bad input is refused with a message that says what is wrong, and leaves no side effect."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from web3 import Web3

from crosslane.domain.tx import FeePolicy
from devnet.anvil import REPO_ROOT
from devnet.mining import next_base_fee
from tests.e2e.test_entry_points import BIN, run, temporal_start
from tests.e2e.test_tx_lifecycle import request_for
from tests.support.stack import Stack, crosslane_client, running_worker, temporal_client, unique_queue

GOOD_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BAD_CHECKSUM = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"


def assert_no_side_effect(stack: Stack, signer: str, workflow_id: str, chain: str = "devnet-a") -> None:
    assert stack.ledger().get_operation(workflow_id, "tx") is None, "nothing may be recorded for refused input"
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[chain]))
    assert w3.eth.get_transaction_count(signer, "pending") == 0


async def assert_never_started(stack: Stack, queue: str, signer: str, workflow_id: str) -> None:
    """No run under ``workflow_id``, no ledger row for it or the signer, no nonce used on any chain."""
    client = await temporal_client(stack)
    with pytest.raises(RPCError) as missing:
        await client.get_workflow_handle(workflow_id).describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND, f"{workflow_id} must not have been started"
    started = [w.id async for w in client.list_workflows(f"TaskQueue = '{queue}'")]
    assert started == [], f"no run may be started on {queue}: {started}"
    ledger = stack.ledger()
    for step in ("tx", "swap", "approve", "deposit"):
        assert ledger.get_operation(workflow_id, step) is None, f"no ledger row for refused input ({step})"
    for name, url in stack.anvil_urls.items():
        w3 = Web3(Web3.HTTPProvider(url))
        assert ledger.attempts_for_signer(w3.eth.chain_id, signer) == [], f"no tx attempt recorded on {name}"
        assert w3.eth.get_transaction_count(signer, "pending") == 0, f"nonce unchanged on {name}"


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", BAD_CHECKSUM],
            "fails the EIP-55 checksum (did you mean 0x70997970C51812dc3A010C7d01b50e0d17dc79C8?)",
        ),
        (["--value", "-5"], "value must be zero or more, got -5"),
        (["--value", "0.0000000000000000001"], "value 0.0000000000000000001 ETH is below 1 wei (ETH has 18 decimals)"),
        (["--value", "one"], "value 'one' is not a number"),
        (["--value-wei", "1.5"], "--value-wei 1.5 is not a whole number of wei"),
        (["--value-wei", "1", "--value", "1"], "give --value (ETH) or --value-wei, not both"),
        (["--max-fee-gwei", "0.0000000001"], "max fee 0.0000000001 gwei is below 1 wei (gwei has 9 decimals)"),
        (["--max-fee-gwei", "-1"], "max fee must be positive, got -1"),
    ],
)
async def test_cli_refuses_bad_input_in_one_line(stack: Stack, args: list[str], message: str) -> None:
    """With a worker polling the CLI's queue, so a run that slipped through would send."""
    sender = stack.fund_signer()
    queue = unique_queue()
    rid = unique_queue("bad")
    base = {"--chain": "devnet-a", "--from": sender.address, "--to": GOOD_TO}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [str(BIN / "crosslane"), "tx", "send", *[x for kv in base.items() for x in kv], "--id", rid]
    async with running_worker(stack, queue):
        done = await run(argv, env=stack.env(queue, COLUMNS="300"))
    assert message in one_line_error(done)
    await assert_never_started(stack, queue, sender.address, f"tx-{rid}")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["cex", "route", "buy", "-1", "BTC/USDT"], "quantity must be positive, got -1"),
        (["cex", "route", "sell", "0.5", "BTC/USDT", "--limit", "-3"], "limit price must be positive, got -3"),
        (["bridge", "send", "-5", "USDC", "--from", "devnet-a", "--to", "devnet-b"], "amount must be positive, got -5"),
        (["bridge", "quote", "-0.5", "USDC", "--from", "devnet-a", "--to", "devnet-b"], "amount must be positive"),
        (
            ["bridge", "send", "0.0000001", "USDC", "--from", "devnet-a", "--to", "devnet-b"],
            "amount 0.0000001 USDC is below 1 base unit (USDC has 6 decimals)",
        ),
        (
            ["bridge", "send", "5", "USDC", "--from", "devnet-a", "--to", "devnet-b", "--fee-cap-gwei", "0.1e-9"],
            "fee cap 0.1e-9 gwei is below 1 wei (gwei has 9 decimals)",
        ),
        (["dex", "swap", "--chain", "devnet-a", "--in", "WETH", "--out", "USDC", "--amount", "-1"],
         "amount must be positive, got -1"),
        (["dex", "swap", "--chain", "devnet-a", "--in", "USDC", "--out", "WETH", "--amount", "1.0000001"],
         "amount 1.0000001 USDC is finer than 1 base unit (USDC has 6 decimals)"),
    ],
)  # fmt: skip
async def test_cli_refuses_bad_amounts_as_amounts(stack: Stack, command: list[str], message: str) -> None:
    """A negative amount is refused for what it is, not taken for an unknown option."""
    sender = stack.fund_signer()
    queue = unique_queue()
    rid = unique_queue("badamount")
    signer = ["--signer", sender.address] if command[0] == "bridge" else ["--from", sender.address]
    extra = [*signer, "--id", rid] if command[1] in ("send", "swap") else []
    async with running_worker(stack, queue):
        done = await run([str(BIN / "crosslane"), *command, *extra], env=stack.env(queue, COLUMNS="300"))
    assert message in one_line_error(done)
    assert "No such option" not in done.stderr
    prefix = {"bridge": "bridge-", "dex": "swap-"}.get(command[0])
    if prefix:
        await assert_never_started(stack, queue, sender.address, f"{prefix}{rid}")


async def test_cli_id_that_ran_already_shows_its_result_and_sends_nothing(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue()
    rid = unique_queue("once")
    send = [str(BIN / "crosslane"), "tx", "send", "--chain", "devnet-a", "--from", sender.address]
    env = stack.env(queue, COLUMNS="300")
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls["devnet-a"]))
    async with running_worker(stack, queue):
        first = await run([*send, "--to", recipient.address, "--value", "0.001", "--id", rid], env=env)
        assert first.returncode == 0, first.stderr
        assert "0.001 ETH from" in first.stdout and "confirmed" in first.stdout
        again = await run([*send, "--to", GOOD_TO, "--value", "2", "--id", rid], env=env)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and again.stderr == ""
    assert f"request {rid} ran already (workflow tx-{rid}, status COMPLETED)" in again.stdout
    assert "confirmed" in again.stdout, "the first run's result is shown"
    assert w3.eth.get_transaction_count(sender.address, "pending") == 1, "the second send sent nothing"
    assert w3.eth.get_balance(recipient.address) == 1000 * 10**18 + 10**15, "--value is ETH: 0.001 ETH is 10**15 wei"


async def test_unknown_chain_fails_the_run_before_any_side_effect(stack: Stack) -> None:
    sender = stack.fund_signer()
    queue = unique_queue()
    request = request_for(sender.address, GOOD_TO, unique_queue("nochain"), chain="devnet-zz")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.start_tx(request)
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert "unknown chain 'devnet-zz'; known chains: devnet-a, devnet-b" in cause.message
    assert_no_side_effect(stack, sender.address, request.workflow_id)


async def test_fee_cap_below_base_fee_refused_when_waiting_is_forbidden(stack: Stack) -> None:
    sender = stack.fund_signer()
    queue = unique_queue()
    cap = max(next_base_fee(stack.anvil_urls["devnet-a"]) // 2, 1)
    request = request_for(
        sender.address,
        GOOD_TO,
        unique_queue("lowcap"),
        fees=FeePolicy(max_fee_per_gas_cap=cap, wait_for_base_fee=False),
    )
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await (await client.start_tx(request)).result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "FeeCapBelowBaseFee"
    assert "is below devnet-a's base fee" in cause.message and "forbids waiting" in cause.message
    assert_no_side_effect(stack, sender.address, request.workflow_id)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"to": BAD_CHECKSUM}, "to: 0x70997970c51812dc3A010C7d01b50e0d17dc79C8 fails the EIP-55 checksum"),
        ({"value": -1}, "value: -1 is negative"),
        ({"value": 2.5}, "value: 2.5 must be an integer number of base units (wei), not float"),
        ({"private_key": "0x" + "11" * 32}, "requests must not carry secrets (field 'private_key')"),
    ],
)
async def test_temporal_cli_bad_json_fails_the_run_with_invalid_request(
    stack: Stack, patch: dict[str, object], message: str
) -> None:
    sender = stack.fund_signer()
    queue = unique_queue()
    rid = unique_queue("badjson")
    payload = {
        "request_id": rid,
        "chain": "devnet-a",
        "signer": sender.address,
        "to": GOOD_TO,
        "value": 1,
        "fees": {"max_fee_per_gas_cap": 10**11},
        **patch,
    }
    async with running_worker(stack, queue):
        await temporal_start(stack, "TransactionLifecycle", queue, f"tx-{rid}", payload)
        client = await crosslane_client(stack, queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await client.tx_handle(rid).result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert message in cause.message
    if "private_key" in patch:
        assert str(patch["private_key"]) not in cause.message
    assert_no_side_effect(stack, sender.address, f"tx-{rid}")


async def test_cli_id_still_running_is_joined_not_repeated(stack: Stack) -> None:
    """No worker polls this queue, so the first run stays running: the second send joins it."""
    sender = stack.fund_signer()
    queue = unique_queue()
    rid = unique_queue("running")
    send = [str(BIN / "crosslane"), "tx", "send", "--chain", "devnet-a", "--from", sender.address, "--no-wait"]
    env = stack.env(queue, COLUMNS="300")
    first = await run([*send, "--to", GOOD_TO, "--value", "0.001", "--id", rid], env=env)
    assert first.returncode == 0 and f"workflow tx-{rid} started" in first.stdout, first.stdout + first.stderr
    again = await run([*send, "--to", GOOD_TO, "--value", "5", "--id", rid], env=env)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert f"request {rid} is running already (workflow tx-{rid}); its own arguments stand" in again.stdout
    client = await temporal_client(stack)
    runs: list[object] = []
    for _ in range(50):  # visibility is eventually consistent: wait for the run to be listed
        runs = [w async for w in client.list_workflows(f"WorkflowId = 'tx-{rid}'")]
        if runs:
            break
        await asyncio.sleep(0.2)
    await client.get_workflow_handle(f"tx-{rid}").terminate("test over")
    assert len(runs) == 1, "one run for the id, however often it is sent"


async def test_cli_without_a_devnet_says_where_it_looked(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLANE_")}
    env.update(CROSSLANE_HOME=str(tmp_path / "home"), COLUMNS="300")
    done = await run([str(BIN / "crosslane"), "dex", "pools", "--chain", "devnet-a"], env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    home = tmp_path / "home"
    file = home / "registry.yaml"
    where = f"{file}: no registry file here (registry.yaml in the home {home}, chosen by CROSSLANE_HOME)"
    assert where in done.stderr, done.stderr
    assert "`crosslane dev up`" in done.stderr and "set CROSSLANE_REGISTRY" in done.stderr


@pytest.mark.parametrize("module", ["workers.orchestrator", "workers.fastpath"])
async def test_worker_and_fast_path_without_a_registry_refuse_to_start_saying_why(module: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLANE_")}
    env.update(CROSSLANE_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO_ROOT))
    (tmp_path / "home").mkdir()
    done = await run([str(BIN / "python"), "-m", module], env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"cannot start: {tmp_path / 'home' / 'registry.yaml'}: no registry file here" in done.stderr
    assert "`crosslane dev up`" in done.stderr and "set CROSSLANE_REGISTRY" in done.stderr
