"""What a BridgeTransfer refuses, and how it chooses.

Bad input fails the run with ``InvalidRequest`` and a message naming the problem, before
anything is sent: the signer's nonce on the source stays 0 and the ledger has no entry.
The route selector's choice and its reason are visible in the status and the result.
Also: ``temporal workflow start --type BridgeTransfer`` with plain JSON, and the
``status`` query through the Temporal CLI showing the sub-state.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeRoute, BridgeState, BridgeStatus
from crosslane.embedded.temporal_server import temporal_binary
from tests.e2e.test_entry_points import run, temporal_start
from tests.support.bridge import across_output_amount, bridge_request, holding, relayer
from tests.support.dex import deal, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(120)


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_request_model_refuses_what_it_can_see() -> None:
    signer = "0x" + "11" * 20
    with pytest.raises(ValueError, match="source and destination are the same chain"):
        bridge_request(signer, "x", destination_chain="devnet-a")
    with pytest.raises(ValueError, match="recipient is the zero address"):
        bridge_request(signer, "x", recipient="0x" + "00" * 20)
    with pytest.raises(ValueError, match="amount must be positive"):
        bridge_request(signer, "x", amount=0)
    with pytest.raises(ValueError, match="private_key"):
        BridgeRequest.model_validate({**bridge_request(signer, "x").model_dump(), "private_key": "0x" + "22" * 32})


async def test_bad_input_refused_with_no_deposit(bridge_stack: Stack) -> None:
    stack = bridge_stack
    destination = stack.chains.get("devnet-b")
    now = int(w3_for(stack, "devnet-a").eth.get_block("latest")["timestamp"])
    cases: list[tuple[dict[str, Any], str]] = [
        ({"asset": "FOO"}, "unknown asset 'FOO' on devnet-a"),
        ({"asset": "WETH", "amount": 10**18, "route": "wormhole"}, "WETH is not attested on devnet-b"),
        ({"amount": 2_000_000 * 10**6, "route": "across"}, "is above the route's limit 1000000 USDC"),
        (
            {"recipient": destination.contracts["WormholeTokenBridge"]},
            "is the WormholeTokenBridge contract on devnet-b",
        ),
        ({"recipient": destination.tokens["USDC"].address}, "is the USDC contract on devnet-b"),
        ({"deadline": now - 10}, "has already passed"),
        ({"destination_chain": "devnet-z"}, "unknown chain 'devnet-z'"),
    ]
    signers = [stack.fund_signer() for _ in cases]
    for signer in signers:
        deal(stack, "devnet-a", signer.address, "USDC", 10_000_000 * 10**6)
    queue = unique_queue("bridgebad")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        requests = [
            bridge_request(s.address, _id("bad"), **overrides) for s, (overrides, _) in zip(signers, cases, strict=True)
        ]
        handles = [await client.start_bridge(r) for r in requests]
        outcomes = await asyncio.gather(*(h.result() for h in handles), return_exceptions=True)
    ledger = stack.ledger()
    for (overrides, expected), outcome, request, signer in zip(cases, outcomes, requests, signers, strict=True):
        assert isinstance(outcome, WorkflowFailureError), (overrides, outcome)
        cause = outcome.cause
        assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest", (overrides, cause)
        assert expected in cause.message, (expected, cause.message)
        assert w3_for(stack, "devnet-a").eth.get_transaction_count(signer.address) == 0
        assert ledger.get_operation(request.workflow_id, "bridge") is None
        assert holding(stack, "devnet-a", "USDC", signer.address) == 10_000_000 * 10**6


async def _plan_and_run(stack: Stack, amount: int, **overrides: Any) -> BridgeResult:
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", amount)
    queue = unique_queue("bridgechoice")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.start_bridge(bridge_request(signer.address, _id("choice"), amount=amount, **overrides))
        return await asyncio.wait_for(handle.result(), 60)


async def test_selector_takes_across_for_a_small_urgent_transfer(bridge_stack: Stack) -> None:
    result = await _plan_and_run(bridge_stack, 50 * 10**6, preferences={"max_seconds": 120})
    assert result.route is BridgeRoute.ACROSS and result.state is BridgeState.COMPLETED
    assert "wormhole excluded: takes ~1080 s, beyond the 120 s allowed" in result.reason


async def test_selector_takes_wormhole_when_the_relayer_lacks_inventory(bridge_stack: Stack) -> None:
    try:
        relayer(bridge_stack, out_of_inventory=True)
        result = await _plan_and_run(bridge_stack, 1_000 * 10**6)
    finally:
        relayer(bridge_stack, out_of_inventory=False)
    assert result.route is BridgeRoute.WORMHOLE and result.state is BridgeState.COMPLETED
    assert "across excluded: the route can deliver only 0 USDC now (relayer inventory)" in result.reason


async def test_selector_takes_wormhole_when_the_fee_bound_excludes_across(bridge_stack: Stack) -> None:
    # Across charges bps of the amount (50 USDC here); Wormhole costs gas only (~20 USDC here).
    result = await _plan_and_run(bridge_stack, 500_000 * 10**6, preferences={"max_fee": 40 * 10**6})
    assert result.route is BridgeRoute.WORMHOLE and result.state is BridgeState.COMPLETED
    assert "across excluded: costs" in result.reason and "above the fee bound 40 USDC" in result.reason


async def test_temporal_cli_start_and_query_sub_state(bridge_stack: Stack) -> None:
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 120 * 10**6)
    rid = _id("tcli")
    payload = {
        "request_id": rid,
        "source_chain": "devnet-a",
        "destination_chain": "devnet-b",
        "asset": "USDC",
        "amount": "120000000",
        "signer": signer.address,
        "route": "across",
        "fees": {"max_fee_per_gas_cap": 100_000_000_000},
    }
    queue = unique_queue("bridgetcli")
    try:
        relayer(stack, stopped=True)  # held in pending_fill until the query has seen it
        async with running_worker(stack, queue):
            await temporal_start(stack, "BridgeTransfer", queue, f"bridge-{rid}", payload)
            deadline = time.monotonic() + 30
            while True:
                queried = await run(
                    [str(temporal_binary()), "workflow", "query", "--address", stack.temporal_address,
                     "--workflow-id", f"bridge-{rid}", "--type", "status", "--output", "json"]
                )  # fmt: skip
                if queried.returncode == 0:
                    status = BridgeStatus.model_validate(json.loads(queried.stdout)["queryResult"][0])
                    if status.state is BridgeState.PENDING_FILL:
                        break
                assert time.monotonic() < deadline, queried.stdout + queried.stderr
                await asyncio.sleep(0.3)
            assert status.route is BridgeRoute.ACROSS and status.deposit_id and "waiting for a relayer" in status.detail
            relayer(stack, stopped=False)
            client = await crosslane_client(stack, queue)
            result = await asyncio.wait_for(client.bridge_handle(rid).result(), 60)
    finally:
        relayer(stack, stopped=False)
    assert result.state is BridgeState.COMPLETED
    owed = across_output_amount(stack, "devnet-a", result.deposit_tx)
    assert holding(stack, "devnet-b", "USDC", signer.address) == owed == result.received


async def test_raw_json_with_one_chain_fails_the_run_with_the_reason(bridge_stack: Stack) -> None:
    """What the request model refuses reaches an operator's `temporal workflow start` as a
    failed run (InvalidRequest and the reason), not a workflow task failing forever."""
    stack = bridge_stack
    signer = stack.fund_signer()
    rid = _id("raw")
    payload = bridge_request(signer.address, rid).model_dump(mode="json") | {"destination_chain": "devnet-a"}
    queue = unique_queue("bridgeraw")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.temporal.start_workflow("BridgeTransfer", payload, id=f"bridge-{rid}", task_queue=queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await asyncio.wait_for(handle.result(), 30)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest", cause
    assert "source and destination are the same chain (devnet-a)" in cause.message
    assert w3_for(stack, "devnet-a").eth.get_transaction_count(signer.address) == 0
