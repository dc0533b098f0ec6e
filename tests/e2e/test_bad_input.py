"""Bad input is refused with a message that says what is wrong, and leaves no side effect."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from web3 import Web3

from crosslane.domain.tx import FeePolicy
from devnet.mining import next_base_fee
from tests.e2e.test_entry_points import BIN, run, temporal_start
from tests.e2e.test_tx_lifecycle import request_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

GOOD_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BAD_CHECKSUM = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"


def assert_no_side_effect(stack: Stack, signer: str, workflow_id: str, chain: str = "devnet-a") -> None:
    assert stack.ledger().get_operation(workflow_id, "tx") is None, "nothing may be recorded for refused input"
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[chain]))
    assert w3.eth.get_transaction_count(signer, "pending") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", BAD_CHECKSUM],
            "fails the EIP-55 checksum (did you mean 0x70997970C51812dc3A010C7d01b50e0d17dc79C8?)",
        ),
        (["--value", "-5"], "value: -5 is negative"),
        (["--value", "1.5"], "value: '1.5' must be an integer number of base units (wei)"),
    ],
)
async def test_cli_refuses_bad_input_in_one_line(stack: Stack, args: list[str], message: str) -> None:
    sender = stack.fund_signer()
    base = {"--chain": "devnet-a", "--from": sender.address, "--to": GOOD_TO, "--value": "1"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [str(BIN / "crosslane"), "tx", "send", *[x for kv in base.items() for x in kv], "--id", unique_queue("bad")]
    done = await run(argv, env=stack.env(unique_queue(), COLUMNS="300"))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert Web3(Web3.HTTPProvider(stack.anvil_urls["devnet-a"])).eth.get_transaction_count(sender.address) == 0


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
