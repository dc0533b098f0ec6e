"""Record DexLiquidity histories for tests/replay/test_replay.py (which replays every file in
``histories/``).

    .venv/bin/python -m tests.replay.record_dex_liquidity

Own Temporal dev server and devnet; scenarios: a V2 add with two approvals, a V3 mint, a
V3 collect of fees other traders paid, a request the plan refuses, and raw JSON the
request model refuses. After an intended change to workflows/dex_liquidity.py, record new
histories under new workflow ids (saved ones are never overwritten).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from crosslane.domain.dex_liquidity import LIQUIDITY_WORKFLOW
from devnet.sandbox import sandbox
from devnet.uniswap_artifacts import artifact
from tests.e2e.test_dex_liquidity import USDC, chain_of, new_wallet, request, run_lp, swap_calldata
from tests.replay.record import save_histories
from tests.support.stack import ETH, Stack, crosslane_client, running_worker


async def record(stack: Stack) -> None:
    queue = "replay-lp"
    chain = chain_of(stack, "devnet-a")
    owner = stack.fund_signer()
    trader = new_wallet(stack, chain.name)
    for token, amount in ((chain.weth, 10 * ETH), (chain.usdc, 40_000 * USDC)):
        trader.fund(owner.address, token, amount, chain.weth)
    trader.fund(trader.address, chain.weth, 10 * ETH, chain.weth)
    router_address = stack.chains.get(chain.name).dexes["uniswap_v3"].router
    assert router_address is not None
    trader.approve(chain.weth, router_address)
    router = chain.w3.eth.contract(address=router_address, abi=artifact("SwapRouter")["abi"])
    info = next(p for p in stack.chains.get(chain.name).dexes["uniswap_v3"].pools if p.label == "WETH/USDC 0.3%")
    pool = chain.w3.eth.contract(address=info.address, abi=artifact("UniswapV3Pool")["abi"])
    base = int(pool.functions.slot0().call()[1]) // 60 * 60

    async with running_worker(stack, queue):
        temporal = (await crosslane_client(stack, queue)).temporal
        saved: dict[str, str] = {}

        add = request(
            owner.address,
            "replay-v2-add",
            {"action": "v2_add", "token_a": "WETH", "token_b": "USDC", "amount_a": ETH, "amount_b": 5_000 * USDC},
        )
        await run_lp(temporal, queue, add)
        saved["dex_lp_v2_add"] = add.workflow_id

        mint = request(
            owner.address,
            "replay-v3-mint",
            {
                "action": "v3_mint",
                "token_a": "WETH",
                "token_b": "USDC",
                "fee": 3000,
                "tick_lower": base - 300,
                "tick_upper": base + 360,
                "amount_a": ETH,
                "amount_b": 4_000 * USDC,
            },
        )
        minted = await run_lp(temporal, queue, mint)
        saved["dex_lp_v3_mint"] = mint.workflow_id

        trader.send(router.address, swap_calldata(router, chain.weth, chain.usdc, ETH, trader.address))
        collect = request(owner.address, "replay-v3-collect", {"action": "v3_collect", "token_id": minted.token_id})
        await run_lp(temporal, queue, collect)
        saved["dex_lp_v3_collect"] = collect.workflow_id

        refused = request(
            owner.address,
            "replay-refused",
            {**mint.operation.model_dump(mode="json"), "tick_lower": -170, "tick_upper": 190},
        )
        await asyncio.gather(run_lp(temporal, queue, refused), return_exceptions=True)
        saved["dex_lp_refused"] = refused.workflow_id

        raw = add.model_dump(mode="json") | {"request_id": "replay-bad-json", "slippage_bps": 9000}
        handle = await temporal.start_workflow(LIQUIDITY_WORKFLOW, raw, id="lp-replay-bad-json", task_queue=queue)
        await asyncio.gather(handle.result(), return_exceptions=True)
        saved["dex_lp_invalid_input"] = "lp-replay-bad-json"

        # Named by workflow id: the replayer takes the id from the file name, and child
        # workflow ids (tx-<workflow id>.<step>) must come out the same.
        await save_histories(temporal, saved, file_per_workflow_id=True)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack)


if __name__ == "__main__":
    asyncio.run(main())
