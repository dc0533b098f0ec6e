"""DexSwap on the devnet through a real Temporal dev server and worker: swaps on both chains
and both Uniswap versions (exact in, exact out, two-hop), settled to the wei from receipts;
idempotent starts and approvals; bad input refused before any transaction."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from crosslane.domain.dex import ApprovalMode, SwapRequest, SwapResult, SwapState, SwapStatus, TradeType
from crosslane.domain.tx import TxOutcome
from crosslane.errors import describe_validation_error
from tests.support.dex import allowance, balance, deal, router, swap_request, token, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

# (chain, dex, trade type, token in, token out, amount (base units), max hops, expected route)
SWAPS = [
    ("devnet-a", "uniswap_v2", TradeType.EXACT_IN, "WETH", "USDC", 2 * 10**18, 1, ["WETH", "USDC"]),
    ("devnet-b", "uniswap_v2", TradeType.EXACT_OUT, "DAI", "USDC", 5_000 * 10**6, 1, ["DAI", "USDC"]),
    ("devnet-b", "uniswap_v3", TradeType.EXACT_IN, "USDC", "WETH", 7_500 * 10**6, 1, ["USDC", "WETH"]),
    ("devnet-a", "uniswap_v3", TradeType.EXACT_OUT, "USDC", "WETH", 3 * 10**18 // 2, 1, ["USDC", "WETH"]),
    ("devnet-a", "uniswap_v3", TradeType.EXACT_IN, "USDC", "WBTC", 5_000 * 10**6, 2, ["USDC", "WETH", "WBTC"]),
    ("devnet-b", "uniswap_v2", TradeType.EXACT_OUT, "WBTC", "DAI", 4_000 * 10**18, 2, ["WBTC", "WETH", "DAI"]),
]
FUNDS = {"WETH": 50 * 10**18, "USDC": 200_000 * 10**6, "DAI": 200_000 * 10**18, "WBTC": 5 * 10**8}


def assert_settled_exactly(
    stack: Stack, chain: str, result: SwapResult, before: dict[str, int], owner: str, recipient: str | None = None
) -> None:
    """Balances moved by exactly the settled amounts, and the fills chain up."""
    token_in, token_out = result.token_in.symbol, result.token_out.symbol
    recipient = recipient or owner
    assert before["in"] - balance(stack, chain, token_in, owner) == result.amount_in
    assert balance(stack, chain, token_out, recipient) - before["out"] == result.amount_out
    assert result.fills[0].amount_in == result.amount_in and result.fills[-1].amount_out == result.amount_out
    for a, b in zip(result.fills, result.fills[1:], strict=False):
        assert a.amount_out == b.amount_in


@pytest.mark.parametrize(
    ("chain", "dex", "trade_type", "sym_in", "sym_out", "amount", "max_hops", "path"),
    SWAPS,
    ids=[f"{s[0]}-{s[1]}-{s[2]}-{s[3]}-{s[4]}" for s in SWAPS],
)
async def test_swap_settles_to_the_wei(
    stack: Stack,
    chain: str,
    dex: str,
    trade_type: TradeType,
    sym_in: str,
    sym_out: str,
    amount: int,
    max_hops: int,
    path: list[str],
) -> None:
    signer = stack.fund_signer()
    deal(stack, chain, signer.address, sym_in, FUNDS[sym_in])
    before = {"in": FUNDS[sym_in], "out": balance(stack, chain, sym_out, signer.address)}
    queue = unique_queue("swap")
    request = swap_request(
        signer.address,
        unique_queue("sw"),
        chain=chain,
        token_in=sym_in,
        token_out=sym_out,
        trade_type=trade_type,
        amount=amount,
        dexes=[dex],
        max_hops=max_hops,
    )
    started = time.monotonic()
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        result: SwapResult = await (await client.start_swap(request)).result()
    print(f"{chain} {dex} {trade_type} {sym_in}->{sym_out}: {time.monotonic() - started:.2f}s")

    symbols = {token(stack, chain, s): s for s in ("WETH", "USDC", "DAI", "WBTC")}
    assert [symbols[t] for t in result.route.path] == path and result.route.dex == dex
    if trade_type is TradeType.EXACT_IN:
        assert result.amount_in == amount and result.amount_out >= result.limit
    else:
        assert result.amount_out == amount and result.amount_in <= result.limit
    # Nobody else traded in between: the receipt matches the off-chain quote to the wei.
    assert (result.amount_in, result.amount_out) == (result.quoted_amount_in, result.quoted_amount_out)
    assert result.vs_quote_bps == 0
    assert_settled_exactly(stack, chain, result, before, signer.address)
    # One approval, one swap: the signer's two nonces, both ours.
    w3 = w3_for(stack, chain)
    assert w3.eth.get_transaction_count(signer.address) == 2
    assert result.approve is not None and result.approve.outcome is TxOutcome.CONFIRMED
    assert result.swap.outcome is TxOutcome.CONFIRMED and result.swap.nonce == 1
    receipt = w3.eth.get_transaction_receipt(result.swap_tx_hash)
    assert receipt["status"] == 1 and receipt["to"] == router(stack, chain, dex)
    assert result.gas_used == receipt["gasUsed"]
    # Exact approval: the router may not pull more than this swap could.
    assert allowance(stack, chain, sym_in, signer.address, router(stack, chain, dex)) == (
        0 if trade_type is TradeType.EXACT_IN else result.limit - result.amount_in
    )


async def test_recipient_gets_the_output_and_starting_twice_runs_once(stack: Stack) -> None:
    signer, recipient = stack.fund_signer(), stack.fund_signer()
    chain = "devnet-a"
    deal(stack, chain, signer.address, "WETH", 10**18)
    before = {"in": 10**18, "out": balance(stack, chain, "USDC", recipient.address)}
    queue = unique_queue()
    request = swap_request(signer.address, unique_queue("twice"), amount=10**18, recipient=recipient.address)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        first = await client.start_swap(request)
        second = await client.start_swap(request)
        assert first.result_run_id == second.result_run_id
        result = await first.result()
        status = await client.swap_status(request.request_id)
    assert isinstance(status, SwapStatus) and status.state is SwapState.SETTLED
    assert status.swap_tx_hash == result.swap_tx_hash and status.quote is not None
    assert status.swap_workflow_id == f"tx-{request.workflow_id}.swap"
    assert_settled_exactly(stack, chain, result, before, signer.address, recipient.address)
    assert balance(stack, chain, "USDC", signer.address) == 0
    assert w3_for(stack, chain).eth.get_transaction_count(signer.address) == 2


async def test_unlimited_approval_is_sent_once_and_later_swaps_skip_it(stack: Stack) -> None:
    signer = stack.fund_signer()
    chain = "devnet-b"
    deal(stack, chain, signer.address, "USDC", 10_000 * 10**6)
    queue = unique_queue()
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        results = []
        for i in range(2):
            request = swap_request(
                signer.address,
                unique_queue(f"unl{i}"),
                chain=chain,
                token_in="USDC",
                token_out="DAI",
                amount=1_000 * 10**6,
                approval=ApprovalMode.UNLIMITED,
            )
            results.append(await (await client.start_swap(request)).result())
    assert results[0].approve is not None and results[1].approve is None
    assert w3_for(stack, chain).eth.get_transaction_count(signer.address) == 3
    assert balance(stack, chain, "USDC", signer.address) == 8_000 * 10**6
    assert balance(stack, chain, "DAI", signer.address) == results[0].amount_out + results[1].amount_out


# --- bad input: refused clearly, nothing sent, nothing recorded ----------------------------


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"amount": 0}, "amount must be positive (base units), got 0"),
        ({"amount": -5}, "amount: -5 is negative"),
        ({"amount": 1.5}, "must be an integer number of base units"),
        ({"slippage_bps": 5001}, "slippage_bps must be within 0-5000 (0-50%), got 5001"),
        ({"slippage_bps": -1}, "slippage_bps must be within 0-5000 (0-50%), got -1"),
        ({"token_out": "WETH"}, "token_in and token_out are the same token"),
        ({"token_in": "0x5fbdb2315678afecb367f032d93f642f64180aa3"}, "fails the EIP-55 checksum"),
        ({"private_key": "0x" + "11" * 32}, "requests must not carry secrets"),
    ],
)
def test_request_model_refuses_bad_input(patch: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "request_id": "bad",
        "chain": "devnet-a",
        "signer": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "token_in": "WETH",
        "token_out": "USDC",
        "amount": 10**18,
        "fees": {"max_fee_per_gas_cap": 10**11},
        **patch,
    }
    with pytest.raises(ValidationError) as refused:
        SwapRequest.model_validate(fields)
    assert message in describe_validation_error(refused.value)  # what the CLI and the converter print


def assert_nothing_happened(stack: Stack, chain: str, signer: str, workflow_id: str) -> None:
    ledger = stack.ledger()
    assert ledger.get_operation(workflow_id, "swap") is None, "a refused swap records nothing"
    assert ledger.get_operation(f"tx-{workflow_id}.approve", "tx") is None
    assert ledger.get_operation(f"tx-{workflow_id}.swap", "tx") is None
    assert w3_for(stack, chain).eth.get_transaction_count(signer, "pending") == 0


@pytest.mark.parametrize(
    ("patch", "error_type", "message"),
    [
        ({"token_in": "FOO"}, "InvalidRequest", "unknown token 'FOO' on devnet-a; known: DAI, USDC, WBTC, WETH"),
        (
            {"token_out": "0x4242424242424242424242424242424242424242"},
            "InvalidRequest",
            "unknown token 0x4242424242424242424242424242424242424242 on devnet-a: no ERC20",
        ),
        (
            {"dexes": ["pancakeswap"]},
            "InvalidRequest",
            "unknown DEX 'pancakeswap' on devnet-a; known: sushiswap, uniswap_v2, uniswap_v3",
        ),
        # No DAI/WBTC pool anywhere, and one hop allowed: no route.
        (
            {"token_in": "DAI", "token_out": "WBTC", "max_hops": 1},
            "PoolNotFound",
            "no pool for DAI -> WBTC on devnet-a (sushiswap, uniswap_v2, uniswap_v3, direct)",
        ),
        # V3 has no DAI/WETH pool at all.
        (
            {"token_in": "DAI", "dexes": ["uniswap_v3"], "token_out": "WETH"},
            "PoolNotFound",
            "no pool for DAI -> WETH on devnet-a (uniswap_v3, direct)",
        ),
        ({"deadline": 1_000_000}, "InvalidRequest", "deadline 1000000 has already passed"),
        ({"amount": 10**30}, "InsufficientBalance", "holds 1000000000000000000 base units of WETH"),
        ({"chain": "devnet-zz"}, "InvalidRequest", "unknown chain 'devnet-zz'"),
        ({"protected": True}, "InvalidRequest", "devnet-a has no private relay configured"),
        ({"slippage_bps": 300, "amount": 10 * 10**18}, "SandwichRisk", "a sandwich could take"),
    ],
    ids=[
        "unknown-symbol",
        "unknown-address",
        "unknown-dex",
        "no-pool",
        "no-pool-on-dex",
        "expired-deadline",
        "insufficient-balance",
        "unknown-chain",
        "no-relay",
        "sandwich",
    ],
)
async def test_bad_input_fails_the_run_before_any_transaction(
    stack: Stack, patch: dict[str, object], error_type: str, message: str
) -> None:
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "WETH", 10**18)
    deal(stack, "devnet-a", signer.address, "DAI", 10**21)
    if patch.get("amount") == 10 * 10**18:
        deal(stack, "devnet-a", signer.address, "WETH", 10 * 10**18)
    queue = unique_queue()
    request = swap_request(signer.address, unique_queue("bad"), **patch)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await (await client.start_swap(request)).result()
        status = await client.swap_status(request.request_id)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == error_type, cause
    assert message in cause.message, cause.message
    assert status.state is SwapState.FAILED
    assert_nothing_happened(stack, "devnet-a", signer.address, request.workflow_id)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"amount": "0"}, "amount: amount must be positive (base units), got 0"),
        ({"amount": -5}, "amount: -5 is negative"),
        ({"slippage_bps": 9000}, "slippage_bps: slippage_bps must be within 0-5000 (0-50%), got 9000"),
        ({"trade_type": "exact_both"}, "trade_type: Input should be 'exact_in' or 'exact_out'"),
    ],
)
async def test_plain_json_with_bad_values_fails_the_run_as_invalid_request(
    stack: Stack, patch: dict[str, object], message: str
) -> None:
    """What `temporal workflow start --input '{...}'` would send: refused by the data converter."""
    signer = stack.fund_signer()
    queue = unique_queue()
    rid = unique_queue("badjson")
    payload = {
        "request_id": rid,
        "chain": "devnet-a",
        "signer": signer.address,
        "token_in": "WETH",
        "token_out": "USDC",
        "amount": "1000000000000000000",
        "fees": {"max_fee_per_gas_cap": 100_000_000_000},
        **patch,
    }
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.temporal.start_workflow("DexSwap", payload, id=f"swap-{rid}", task_queue=queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert message in cause.message, cause.message
    assert_nothing_happened(stack, "devnet-a", signer.address, f"swap-{rid}")
