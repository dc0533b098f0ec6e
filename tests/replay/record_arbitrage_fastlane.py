"""Record an Arbitrage history of the fast lane for tests/replay/test_replay.py.

    .venv/bin/python -m tests.replay.record_arbitrage_fastlane

Own Temporal dev server, devnet with the CEX simulators and a fast path; the CEX quotes
shifted 2 % below the pools. Scenario: both legs sent by the fast lane (the CEX buy routed
under the run's parent id, the WETH sale signed and broadcast as its lifecycle's attempt 0),
then the run started with ``sent_first`` adopts them (no quote, the ``arb-sent-first``
patch) and completes.
"""

from __future__ import annotations

import asyncio

from activities.arb_fastlane import ArbFastLane
from activities.runtime import ChainRuntime
from connectors.evm.signer import LocalKeySigner, SignerRegistry
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.arb_steps import ArbRiskLimits
from devnet.sandbox import FastPathProcess
from tests.e2e.test_arbitrage import cex_cheaper, worker
from tests.e2e.test_arbitrage_fastlane import approved_trader
from tests.replay.record import save_histories
from tests.replay.record_arbitrage import arb_request, main
from tests.support.stack import Stack


async def record(stack: Stack, fastpath: FastPathProcess) -> None:
    queue = "replay-arb-lane"
    trader = approved_trader(stack, 5 * 10**18)
    runtime = ChainRuntime(
        ledger=stack.ledger(), chains=stack.chains, signers=SignerRegistry([LocalKeySigner(trader.key)])
    )
    temporal = await connect_temporal(stack.settings(queue))
    socket = fastpath.config.socket_path
    lane = ArbFastLane(runtime, ArbRiskLimits(), socket)
    fp = await fastpath.client()
    try:
        await cex_cheaper(stack.sandbox, fp, -200)
        async with worker(temporal, runtime, queue, socket, ArbRiskLimits()):
            request = arb_request("replay-lane-completed", trader.address)
            handle = await CrosslaneClient(temporal, queue).start_arbitrage_sent_first(request, lane)
            result = await handle.result()
            print(f"{request.workflow_id}: {result.outcome}: {result.reason}")
        await save_histories(temporal, {"arbitrage_fastlane_sent_first_completed": request.workflow_id})
    finally:
        await fp.close()
        await lane.close()
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main(record))
