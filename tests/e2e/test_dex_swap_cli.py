"""DexSwap from the faces: `crosslane dex quote|swap|pools` and `temporal workflow start` with
plain JSON (amounts as strings of digits, as an operator would type them)."""

from __future__ import annotations

import json
import re

from crosslane.domain.dex import SwapResult, SwapStatus
from crosslane.embedded.temporal_server import temporal_binary
from crosslane.money import format_amount
from tests.e2e.test_entry_points import BIN, run
from tests.support.dex import balance, deal, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue


async def test_crosslane_dex_quote_and_pools_read_the_chain(stack: Stack) -> None:
    env = stack.env(unique_queue(), COLUMNS="250")
    quoted = await run(
        [str(BIN / "crosslane"), "dex", "quote", "--chain", "devnet-a", "--in", "USDC", "--out", "WBTC",
         "--amount", "5000"],
        env=env,
    )  # fmt: skip
    assert quoted.returncode == 0, quoted.stderr
    # No USDC/WBTC pool: through WETH (which tiers win depends on what earlier tests traded).
    assert re.search(r"via USDC -\(0\.\d+%\)-> WETH -\(0\.\d+%\)-> WBTC on uniswap_v[23]", quoted.stdout)
    assert "24 candidate routes, 3 fillable" in quoted.stdout and "sandwich exposure" in quoted.stdout
    pools = await run([str(BIN / "crosslane"), "dex", "pools", "--chain", "devnet-b"], env=env)
    assert pools.returncode == 0, pools.stderr
    assert pools.stdout.count("uniswap_v2") == 4 and pools.stdout.count("uniswap_v3") == 4
    assert "WETH/USDC 0.05%" in pools.stdout and "USDC/WETH" in pools.stdout
    bad = await run(
        [str(BIN / "crosslane"), "dex", "quote", "--chain", "devnet-a", "--in", "FOO", "--out", "USDC",
         "--amount", "1"],
        env=env,
    )  # fmt: skip
    assert bad.returncode == 1 and "unknown token 'FOO' on devnet-a; known: DAI, USDC, WBTC, WETH" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_crosslane_dex_swap_follows_the_run_to_its_settlement(stack: Stack) -> None:
    signer = stack.fund_signer()
    deal(stack, "devnet-b", signer.address, "WETH", 2 * 10**18)
    queue = unique_queue("dexcli")
    rid = unique_queue("dexcli")
    env = stack.env(queue, COLUMNS="250")
    swap = [str(BIN / "crosslane"), "dex", "swap", "--chain", "devnet-b", "--from", signer.address,
            "--in", "WETH", "--out", "DAI", "--dex", "uniswap_v2", "--id", rid]  # fmt: skip
    async with running_worker(stack, queue):
        done = await run([*swap, "--amount", "1.5"], env=env)
        assert done.returncode == 0, done.stderr
        result = await (await crosslane_client(stack, queue)).swap_handle(rid).result()
        # The same id again (even with another amount) swaps nothing: it says so and shows the result.
        again = await run([*swap, "--amount", "0.5"], env=env)
    assert "settled: 1.5 WETH ->" in done.stdout and result.swap_tx_hash in done.stdout
    fill = result.fills[0]
    assert f"{format_amount(fill.amount_in, 18, 'WETH')} │ {format_amount(fill.amount_out, 18, 'DAI')}" in done.stdout
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert f"request {rid} ran already (workflow swap-{rid}, status COMPLETED)" in again.stdout
    assert "settled: 1.5 WETH ->" in again.stdout and result.swap_tx_hash in again.stdout
    assert balance(stack, "devnet-b", "WETH", signer.address) == 5 * 10**17
    assert balance(stack, "devnet-b", "DAI", signer.address) == result.amount_out


async def test_temporal_cli_starts_a_swap_with_plain_json(stack: Stack) -> None:
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "DAI", 10_000 * 10**18)
    queue = unique_queue("tdex")
    rid = unique_queue("tdex")
    payload = {
        "request_id": rid,
        "chain": "devnet-a",
        "signer": signer.address,
        "token_in": "DAI",
        "token_out": "USDC",
        "trade_type": "exact_out",
        "amount": "2500000000",
        "slippage_bps": 30,
        "fees": {"max_fee_per_gas_cap": 100_000_000_000},
    }
    async with running_worker(stack, queue):
        started = await run(
            [str(temporal_binary()), "workflow", "start", "--address", stack.temporal_address, "--type", "DexSwap",
             "--task-queue", queue, "--workflow-id", f"swap-{rid}", "--input", json.dumps(payload)]
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        result: SwapResult = await (await crosslane_client(stack, queue)).swap_handle(rid).result()
        queried = await run(
            [str(temporal_binary()), "workflow", "query", "--address", stack.temporal_address, "--workflow-id",
             f"swap-{rid}", "--type", "status", "--output", "json"]
        )  # fmt: skip
    assert queried.returncode == 0, queried.stderr
    status = SwapStatus.model_validate(json.loads(queried.stdout)["queryResult"][0])
    assert status.state == "settled" and status.swap_tx_hash == result.swap_tx_hash
    assert result.amount_out == 2_500 * 10**6 == balance(stack, "devnet-a", "USDC", signer.address)
    assert balance(stack, "devnet-a", "DAI", signer.address) == 10_000 * 10**18 - result.amount_in
    assert w3_for(stack, "devnet-a").eth.get_transaction_count(signer.address) == 2
