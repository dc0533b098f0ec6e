"""Bad input that reaches the workflows (issue 9), tried through the entry points that are
not the crosslane CLI: ``temporal workflow start`` with plain JSON, and the SDK. Each is
refused with a message that names the problem, the run fails fast (never stays Running),
and nothing is left behind: no ledger row, no signed attempt, no nonce used, no balance moved.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.cex import CEX_EXECUTE
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.cex import CexExecuteInput, CexExecution, CexOrderRequest
from crosslane.domain.dex_liquidity import LIQUIDITY_WORKFLOW, LiquidityRequest, LiquidityResult
from crosslane.domain.recovery import RecoveryRequest
from crosslane.domain.tx import FeePolicy
from tests.e2e.test_entry_points import temporal_start_with
from tests.e2e.test_tx_lifecycle import request_for
from tests.support.dex import GWEI, allowance, balance, deal, router, send_tx, swap_request, token, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue
from workers.orchestrator import workflow_runner
from workflows.cex_order import CexOrder
from workflows.input_guard import WorkflowInputGuard

GOOD_TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HANG_GUARD_S = 120
KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


async def failure_of(client: CrosslaneClient, workflow_id: str) -> ApplicationError:
    """The run's failure, checked to be a fast, non-retryable InvalidRequest-style failure."""
    handle = client.temporal.get_workflow_handle(workflow_id)
    with pytest.raises(WorkflowFailureError) as failed:
        # A guard, not a timing assertion: a run left Running would otherwise hang the test.
        await asyncio.wait_for(handle.result(), timeout=HANG_GUARD_S)
    assert (await handle.describe()).status is WorkflowExecutionStatus.FAILED
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def assert_nothing_recorded(stack: Stack, workflow_id: str, step: str = "tx") -> None:
    assert stack.ledger().get_operation(workflow_id, step) is None, "refused input must leave no ledger row"


def nonce_of(stack: Stack, address: str, chain: str = "devnet-a") -> int:
    return w3_for(stack, chain).eth.get_transaction_count(address, "pending")


def base_request(workflow_type: str, signer: str, rid: str) -> dict[str, Any]:
    """A valid request of ``workflow_type`` as plain JSON, for a case to spoil one field of."""
    if workflow_type == "CexOrder":
        return {"request_id": rid, "leg": {"step": "s", "symbol": "BTC/USDT", "side": "buy", "qty": "1"}}
    if workflow_type == "DexSwap":
        fields = ("request_id", "chain", "signer", "fees")
        swap = {"token_in": "WETH", "token_out": "USDC", "amount": "1000"}
        return {**{k: v for k, v in tx_json(signer, rid).items() if k in fields}, **swap}
    return tx_json(signer, rid)


def tx_json(signer: str, rid: str, **patch: Any) -> dict[str, Any]:
    return {
        "request_id": rid,
        "chain": "devnet-a",
        "signer": signer,
        "to": GOOD_TO,
        "value": 1,
        "fees": {"max_fee_per_gas_cap": 10**11},
        **patch,
    }


async def test_temporal_cli_runs_without_one_json_input_fail_at_once(stack: Stack) -> None:
    """No --input, two, or a non-JSON encoding: the run fails with InvalidRequest instead of
    staying Running while its workflow task fails again and again."""
    sender = stack.fund_signer()
    queue = unique_queue("noinput")
    one = tx_json(sender.address, "x")
    cases: list[tuple[str, list[str], str]] = [
        (
            "TransactionLifecycle",
            [],
            "TransactionLifecycle takes 1 input(s) (a JSON TxRequest object); the run was started with no input",
        ),
        ("TransactionLifecycle", ["--input", json.dumps(one), "--input", json.dumps(one)], "started with 2 inputs"),
        (
            "TransactionLifecycle",
            ["--input", json.dumps(one), "--input-meta", "encoding=binary/plain"],
            "invalid TxRequest: input 1 has encoding 'binary/plain'; send it as JSON (encoding json/plain)",
        ),
        (
            "TransactionLifecycle",
            ["--input", json.dumps(one), "--input-meta", "encoding=text/yaml"],
            "input 1 has encoding 'text/yaml'",
        ),
        ("DexSwap", [], "DexSwap takes 1 input(s) (a JSON SwapRequest object)"),
        ("StuckTxRecovery", ["--input", "{}", "--input", "{}"], "StuckTxRecovery takes 1 input(s)"),
        ("CexOrder", [], "CexOrder takes 1 input(s) (a JSON CexOrderRequest object)"),
    ]
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        for workflow_type, args, message in cases:
            workflow_id = unique_queue("tx-noinput")
            await temporal_start_with(stack, workflow_type, queue, workflow_id, *args)
            cause = await failure_of(client, workflow_id)
            assert cause.type == "InvalidRequest" and cause.non_retryable, (workflow_type, args)
            assert message in cause.message, (cause.message, args)
            assert_nothing_recorded(stack, workflow_id)
    assert nonce_of(stack, sender.address) == 0


@pytest.mark.parametrize(
    ("workflow_type", "payload", "message"),
    [
        ("TransactionLifecycle", {"chain": "a" * 2048}, "chain: is 2048 characters long; names have at most 64"),
        ("TransactionLifecycle", {"chain": "dеvnet-a"}, "contains non-ASCII characters (position 1: 'е' U+0435"),
        (
            "TransactionLifecycle",
            {"fees": {"max_fee_per_gas_cap": 10**11, "initial_max_fee_per_gas": 0}},
            "initial_max_fee_per_gas 0 can never be mined",
        ),
        (
            "CexOrder",
            {"leg": {"step": "s", "symbol": "ВTC/USDT", "side": "buy", "qty": "1"}},
            "leg.symbol: 'ВTC/USDT' contains non-ASCII characters (position 0: 'В' U+0412",
        ),
        ("CexOrder", {"private_key": KEY}, "requests must not carry secrets (field 'private_key')"),
        ("DexSwap", {"recipient": "0x" + "00" * 20}, "recipient is the zero address: the tokens would be lost"),
    ],
)
async def test_temporal_cli_bad_json_fails_the_run_naming_the_field(
    stack: Stack, workflow_type: str, payload: dict[str, Any], message: str
) -> None:
    """Refused when the run's input is decoded: the run fails (not terminated by the server
    for an oversized search attribute), and a refused key is never echoed."""
    sender = stack.fund_signer()
    queue = unique_queue("badjson")
    rid = unique_queue("badjson")
    body = {**base_request(workflow_type, sender.address, rid), **payload}
    workflow_id = f"wf-{rid}"
    async with running_worker(stack, queue):
        await temporal_start_with(stack, workflow_type, queue, workflow_id, "--input", json.dumps(body))
        cause = await failure_of(await crosslane_client(stack, queue), workflow_id)
    assert cause.type == "InvalidRequest"
    assert message in cause.message, cause.message
    assert KEY[2:10] not in cause.message
    assert_nothing_recorded(stack, workflow_id)
    assert nonce_of(stack, sender.address) == 0


async def test_explicit_nonce_outside_the_signers_range_is_refused_before_signing(stack: Stack) -> None:
    """Below the chain's count it can never mine; past the next nonce it would wait behind a
    gap forever. Either way: refused before the ledger records or signs anything."""
    sender = stack.fund_signer()
    w3 = w3_for(stack, "devnet-a")
    send_tx(w3, sender, {"to": GOOD_TO, "gas": 21_000})  # nonce 0 is used
    queue = unique_queue("nonce")
    rids = {n: unique_queue(f"nonce{n}") for n in (0, 5, 1000)}
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        for n in (0, 5):
            await client.start_tx(request_for(sender.address, GOOD_TO, rids[n], nonce=n))
        await temporal_start_with(
            stack, "TransactionLifecycle", queue, f"tx-{rids[1000]}", "--input",
            json.dumps(tx_json(sender.address, rids[1000], nonce=1000)),
        )  # fmt: skip
        causes = {n: await failure_of(client, f"tx-{rid}") for n, rid in rids.items()}
    assert causes[0].type == "InvalidRequest"
    assert f"nonce 0 of {sender.address} is already used on devnet-a (its next nonce is 1)" in causes[0].message
    for n in (5, 1000):
        assert causes[n].type == "InvalidRequest"
        assert f"nonce {n} would leave a gap on devnet-a: the next nonce of {sender.address} is 1" in causes[n].message
    for rid in rids.values():
        assert_nothing_recorded(stack, f"tx-{rid}")
    assert nonce_of(stack, sender.address) == 1
    assert stack.ledger().attempts_for_signer(stack.chains.get("devnet-a").chain_id, sender.address) == []


async def test_a_zero_tip_is_honoured_not_replaced_by_the_oracle(stack: Stack) -> None:
    sender = stack.fund_signer()
    queue = unique_queue("tip0")
    fees = FeePolicy(max_fee_per_gas_cap=100 * GWEI, initial_max_priority_fee_per_gas=0)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.start_tx(request_for(sender.address, GOOD_TO, unique_queue("tip0"), fees=fees))
        result = await handle.result()
    assert result.attempts[0].max_priority_fee_per_gas == 0
    mined = w3_for(stack, "devnet-a").eth.get_transaction(result.mined_tx_hash)
    assert mined["maxPriorityFeePerGas"] == 0


async def test_swaps_that_would_lose_the_output_or_outlive_a_day_are_refused(stack: Stack) -> None:
    """A router, pool-side token or far deadline: refused by the quote, before any approval."""
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "WETH", 10 * 10**18)
    v3_router = router(stack, "devnet-a", "uniswap_v3")
    now = int(w3_for(stack, "devnet-a").eth.get_block("latest")["timestamp"])
    cases: list[tuple[dict[str, Any], str]] = [
        ({"recipient": v3_router}, f"recipient {v3_router} is the uniswap_v3 router on devnet-a"),
        ({"recipient": token(stack, "devnet-a", "USDC")}, "is a token this request moves"),
        ({"deadline": now + 10 * 365 * 86_400}, "at most 86400 s (1 day) ahead is accepted"),
    ]
    queue = unique_queue("swapbad")
    before = (balance(stack, "devnet-a", "WETH", signer.address), balance(stack, "devnet-a", "USDC", signer.address))
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        requests = [swap_request(signer.address, unique_queue("swapbad"), **patch) for patch, _ in cases]
        for request in requests:
            await client.start_swap(request)
        causes = [await failure_of(client, r.workflow_id) for r in requests]
    for cause, (_patch, message), request in zip(causes, cases, requests, strict=True):
        assert cause.type == "InvalidRequest" and message in cause.message, cause.message
        if "recipient" in message:
            assert "the tokens would be lost" in cause.message
        assert_nothing_recorded(stack, request.workflow_id, "swap")
        assert_nothing_recorded(stack, f"tx-{request.workflow_id}.approve")
    after = (balance(stack, "devnet-a", "WETH", signer.address), balance(stack, "devnet-a", "USDC", signer.address))
    assert after == before and nonce_of(stack, signer.address) == 0
    assert allowance(stack, "devnet-a", "WETH", signer.address, v3_router) == 0


async def test_recovery_fails_with_the_business_reason_at_the_top(stack: Stack) -> None:
    """Not "Activity task failed": the sweep's own error, type and message."""
    signer = stack.fund_signer()
    queue = unique_queue("recbad")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        request = RecoveryRequest(chain="devnet-zz", signer=signer.address, max_fee_per_gas_cap=100 * GWEI)
        handle = await client.start_recovery(request, unique_queue("run"))
        cause = await failure_of(client, handle.id)
    assert cause.type == "InvalidRequest" and cause.non_retryable
    assert cause.message.startswith("unknown chain 'devnet-zz'; known chains: devnet-a, devnet-b")


async def test_liquidity_with_a_non_contract_token_says_so(stack: Stack) -> None:
    owner = stack.fund_signer()
    not_a_token = stack.fund_signer().address
    request = LiquidityRequest.model_validate(
        {
            "request_id": unique_queue("lpbad"),
            "chain": "devnet-a",
            "owner": owner.address,
            "operation": {
                "action": "v3_mint",
                "token_a": "WETH",
                "token_b": not_a_token,
                "fee": 3000,
                "tick_lower": -600,
                "tick_upper": 600,
                "amount_a": "1000",
                "amount_b": "1000",
            },
            "fees": {"max_fee_per_gas_cap": 100 * GWEI},
        }
    )
    queue = unique_queue("lpbad")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        await client.temporal.start_workflow(
            LIQUIDITY_WORKFLOW, request, id=request.workflow_id, task_queue=queue, result_type=LiquidityResult
        )
        cause = await failure_of(client, request.workflow_id)
    assert cause.type == "InvalidRequest"
    assert f"{not_a_token} is not a contract on devnet-a" in cause.message
    assert nonce_of(stack, owner.address) == 0


@activity.defn(name=CEX_EXECUTE)
async def refusing_cex_execute(leg: CexExecuteInput) -> CexExecution:
    """The fast path's refusal of an unknown symbol, as ``cex_execute`` reports it."""
    raise ApplicationError(f"unknown symbol {leg.symbol!r}", type="InvalidRequest", non_retryable=True)


async def test_cex_order_fails_with_the_venue_reason_at_the_top(stack: Stack) -> None:
    """Not "Activity task failed": the leg's own error, type and message."""
    queue = unique_queue("cexbad")
    client = await connect_temporal(stack.settings(queue))
    request = CexOrderRequest.model_validate(
        {"request_id": unique_queue("leg"), "leg": {"step": "buy", "symbol": "DOGE/USDT", "side": "buy", "qty": "1"}}
    )
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[CexOrder],
        activities=[refusing_cex_execute],
        workflow_runner=workflow_runner(),
        interceptors=[WorkflowInputGuard()],
    )
    async with worker:
        handle = await client.start_workflow(
            "CexOrder", request, id=f"cex-{request.request_id}", task_queue=queue, result_type=CexExecution
        )
        cause = await failure_of(CrosslaneClient(client, queue), handle.id)
    assert cause.type == "InvalidRequest" and cause.message == "unknown symbol 'DOGE/USDT'"
