"""Record Arbitrage histories for tests/replay/test_replay.py.

    .venv/bin/python -m tests.replay.record_arbitrage

Own Temporal dev server, devnet with the CEX simulators and a fast path; the CEX quotes
shifted 2 % below the pools. Scenarios: a CEX-buy / DEX-sell run completed, one whose DEX
leg fails after the CEX leg filled (compensated: unwound on the fast path), one aborted
because the profit floor is out of reach, and raw JSON the request model refuses. After an
intended change to workflows/arbitrage.py, record new histories under new names.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from activities.runtime import ChainRuntime
from connectors.evm.signer import LocalKeySigner, SignerRegistry
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.arb_steps import ArbitrageRequest, ArbRiskLimits, ArbVenue
from crosslane.domain.tx import FeePolicy
from devnet.sandbox import FastPathProcess
from tests.e2e.test_arbitrage import CHAIN, SYMBOL, arb_sandbox, cex_cheaper, worker
from tests.replay.record import save_histories
from tests.support.stack import Stack

GWEI = 10**9


def arb_request(rid: str, signer: str, **kw: object) -> ArbitrageRequest:
    fields: dict[str, object] = {
        "request_id": rid, "asset": "WETH", "quote": "USDC", "size": "0.5",
        "buy": ArbVenue(venue="cex", symbol=SYMBOL), "sell": ArbVenue(venue="uniswap_v3", chain=CHAIN),
        "min_profit": "5", "max_loss": "20", "signer": signer, "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
        **kw,
    }  # fmt: skip
    return ArbitrageRequest.model_validate(fields)


async def record(stack: Stack, fastpath: FastPathProcess) -> None:
    queue = "replay-arb"
    rich, empty = stack.fund_signer(), stack.fund_signer()
    weth = stack.chains.get(CHAIN).tokens["WETH"].address
    stack.anvil(CHAIN, "anvil_dealERC20", rich.address, weth, hex(5 * 10**18))
    signers = SignerRegistry([LocalKeySigner(rich.key), LocalKeySigner(empty.key)])
    runtime = ChainRuntime(ledger=stack.ledger(), chains=stack.chains, signers=signers)
    temporal = await connect_temporal(stack.settings(queue))
    client = CrosslaneClient(temporal, queue)
    fp = await fastpath.client()
    saved: dict[str, str] = {}
    try:
        await cex_cheaper(stack.sandbox, fp, -200)
        async with worker(temporal, runtime, queue, fastpath.config.socket_path, ArbRiskLimits()):
            completed = arb_request("replay-completed", rich.address)
            await (await client.start_arbitrage(completed)).result()
            saved["arbitrage_cex_dex_completed"] = completed.workflow_id

            compensated = arb_request("replay-compensated", empty.address)
            await (await client.start_arbitrage(compensated)).result()
            saved["arbitrage_dex_leg_failed_compensated"] = compensated.workflow_id

            aborted = arb_request("replay-aborted", rich.address, min_profit="100000")
            await (await client.start_arbitrage(aborted)).result()
            saved["arbitrage_aborted_below_floor"] = aborted.workflow_id

            bad = completed.model_dump(mode="json") | {"request_id": "replay-bad-json", "size": "0"}
            handle = await temporal.start_workflow("Arbitrage", bad, id="arb-replay-bad-json", task_queue=queue)
            await asyncio.gather(handle.result(), return_exceptions=True)
            saved["arbitrage_invalid_input"] = "arb-replay-bad-json"
        await save_histories(temporal, saved)
    finally:
        await fp.close()
        await runtime.close()


Scenarios = Callable[[Stack, FastPathProcess], Awaitable[None]]


async def main(scenarios: Scenarios = record) -> None:
    """``scenarios`` recorded on a fresh sandbox (another recorder's, e.g. the fast lane's)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with arb_sandbox(Path(tmp)) as stacked:
            await scenarios(stacked.stack, stacked.fastpath)


if __name__ == "__main__":
    asyncio.run(main())
