"""Record DexSwap histories for tests/replay/test_replay.py (which replays every file in
``histories/``).

    .venv/bin/python -m tests.replay.record_dex_swap

Own Temporal dev server and devnet; scenarios: a two-hop V3 swap with its approval, an
exact-out V2 swap whose allowance sufficed, a swap reverted by a price moved past its
limit (SlippageExceeded), a request the quote refuses, and raw JSON the request model
refuses. After an intended change to workflows/dex_swap.py, record new histories under new
names (saved ones are never overwritten).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from crosslane.domain.dex import TradeType
from devnet.mining import manual_mining
from devnet.sandbox import sandbox
from tests.e2e.test_dex_swap_slippage import dump_weth, funded_trader, wait_pending
from tests.replay.record import save_histories
from tests.support.dex import approve, deal, router, swap_request, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker


async def record(stack: Stack) -> None:
    queue = "replay-swap"
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 100_000 * 10**6)
    deal(stack, "devnet-a", signer.address, "WETH", 10 * 10**18)
    approve(stack, "devnet-a", signer, "WETH", router(stack, "devnet-a", "uniswap_v2"))
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        saved: dict[str, str] = {}

        two_hop = swap_request(
            signer.address, "replay-two-hop", token_in="USDC", token_out="WBTC", amount=5_000 * 10**6
        )
        await (await client.start_swap(two_hop)).result()
        saved["dex_swap_two_hop_v3"] = two_hop.workflow_id

        approved = swap_request(
            signer.address, "replay-exact-out", token_in="WETH", token_out="USDC", amount=3_000 * 10**6,
            trade_type=TradeType.EXACT_OUT, dexes=["uniswap_v2"],
        )  # fmt: skip
        await (await client.start_swap(approved)).result()
        saved["dex_swap_exact_out_v2_no_approval"] = approved.workflow_id

        trader = funded_trader(stack)
        slipped = swap_request(signer.address, "replay-slippage", amount=2 * 10**18, dexes=["uniswap_v3"], max_hops=1)
        w3 = w3_for(stack, "devnet-a")
        with manual_mining(stack.anvil_urls["devnet-a"]) as mine:
            pending = w3.eth.get_transaction_count(signer.address, "pending")
            handle = await client.start_swap(slipped)
            await wait_pending(w3, signer.address, pending + 1)  # the approval
            mine()
            await wait_pending(w3, signer.address, pending + 2)  # the swap
            await dump_weth(stack, trader, 150 * 10**18)
            mine()
            await asyncio.gather(handle.result(), return_exceptions=True)
        saved["dex_swap_slippage_exceeded"] = slipped.workflow_id

        refused = swap_request(signer.address, "replay-refused", token_in="FOO")
        await asyncio.gather((await client.start_swap(refused)).result(), return_exceptions=True)
        saved["dex_swap_refused"] = refused.workflow_id

        bad = two_hop.model_dump(mode="json") | {"request_id": "replay-bad-json", "slippage_bps": 9000}
        handle = await client.temporal.start_workflow("DexSwap", bad, id="swap-replay-bad-json", task_queue=queue)
        await asyncio.gather(handle.result(), return_exceptions=True)
        saved["dex_swap_invalid_input"] = "swap-replay-bad-json"

        await save_histories(client.temporal, saved)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack)


if __name__ == "__main__":
    asyncio.run(main())
